"""``flask mirette-returns init`` on the example shops: the mapping it writes mounts as written,
and the shops' return and cancellation stories pass with it.

The generated file is imported and mounted on a fresh app of the shop in
place of the shop's own adapter; the stories are the same functions that
``tests/test_example_shop_flows.py`` runs on the hand-written mappings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from mirette_returns_plugin.models import Refund
from mirette_returns_plugin.scaffold import dry_run
from tests.example_shops import ShopUnderTest, corner_shop, demo_shop, reset_corner_shop, reset_example_shop
from tests.test_example_shop_flows import (
    test_both_shops_expose_the_same_plugin_to_their_people as story_pages_in_the_shops_layout,
    test_cancellation_before_processing_refuses_the_order_in_the_shop as story_cancellation,
    test_pages_withdraw as story_pages_withdraw,
    test_return_accepted_received_refunded_and_confirmed as story_return,
    test_withdrawn_request_gives_the_quantity_back as story_withdraw,
)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "WTF_CSRF_ENABLED": True}


def run_init(app: Flask, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["mirette-returns", "init", *args], input=input)


def corner_app(app_config: dict, monkeypatch: pytest.MonkeyPatch | None = None, adapter=None) -> Flask:
    from examples.corner_shop import create_app

    if adapter is not None:
        import examples.corner_shop.returns_adapter as hand_written

        monkeypatch.setattr(hand_written, "adapter", adapter)
    app = create_app({**app_config, "CORNER_SEED": False})
    reset_corner_shop(app)
    return app


def demo_app(app_config: dict, monkeypatch: pytest.MonkeyPatch, adapter) -> Flask:
    import mirette_returns_plugin.demo as demo

    monkeypatch.setattr(demo, "DemoShopAdapter", lambda: adapter)
    return demo.create_app(app_config)


def refunds_in_the_plugin(app: Flask):
    """With the generated mapping a refund waits in the plugin until it is confirmed (no provider yet)."""
    def rows() -> list[tuple[str, Decimal, bool]]:
        with app.app_context():
            session = app.extensions["sqlalchemy"].session
            return [(r.idempotency_key, r.amount, r.completed_at is not None)
                    for r in session.scalars(sa.select(Refund).order_by(Refund.id))]
    return rows


def generate(app: Flask, path: Path) -> str:
    result = run_init(app, "--yes", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert "PROBLEM" not in result.output
    return path.read_text(encoding="utf-8")


@pytest.fixture(params=["demo", "corner"])
def generated_shop(request: pytest.FixtureRequest, app_config: dict, _schema: None, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopUnderTest]:
    """The shop mounted with the mapping init wrote, not one line edited."""
    path = tmp_path / "returns_mapping.py"
    if request.param == "demo":
        seeded = request.getfixturevalue("app")
        generate(seeded, path)
        adapter = dry_run.load(path).adapter
        app = demo_app(app_config, monkeypatch, adapter)
        shop = demo_shop(app)
    else:
        first = corner_app(app_config)
        generate(first, path)
        with first.app_context():
            first.extensions["sqlalchemy"].engine.dispose()
        adapter = dry_run.load(path).adapter
        app = corner_app(app_config, monkeypatch, adapter)
        shop = corner_shop(app)
    from mirette_returns_plugin.state import current_state

    with app.app_context():
        assert current_state().adapter is adapter
    yield dataclasses.replace(shop, refund_rows=refunds_in_the_plugin(app))
    with app.app_context():
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


# --------------------------------------------------------------------------- #
# The stories, on the generated mappings
# --------------------------------------------------------------------------- #


def test_generated_mapping_carries_a_return_to_refunded(generated_shop: ShopUnderTest):
    story_return(generated_shop)


def test_generated_mapping_carries_a_cancellation_into_the_shops_row(generated_shop: ShopUnderTest):
    story_cancellation(generated_shop)


def test_generated_mapping_gives_a_withdrawn_quantity_back(generated_shop: ShopUnderTest):
    story_withdraw(generated_shop)


def test_generated_mapping_through_the_pages(generated_shop: ShopUnderTest):
    story_pages_in_the_shops_layout(generated_shop)
    story_pages_withdraw(generated_shop)


# --------------------------------------------------------------------------- #
# What the command writes and says
# --------------------------------------------------------------------------- #


@pytest.fixture
def corner(app_config: dict, _schema: None) -> Iterator[Flask]:
    app = corner_app(app_config)
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_the_file_explains_each_choice_and_marks_the_guesses(corner: Flask, tmp_path: Path):
    text = generate(corner, tmp_path / "returns_mapping.py")
    # The shop's own names: its models, its integer status codes by name, its login function.
    assert "from examples.corner_shop.models import Member, Purchase, PurchaseLine, Status, Tea" in text
    assert "Status.POSTED: Stage.SHIPPED," in text and "Status.CANCELLED: Stage.CANCELLED," in text
    assert "current=signed_in_member," in text
    assert "unit_price=lambda row: _money(row.price_pence)," in text
    assert "order_ref='purchase_id'," in text and "product_ref='tea_id'," in text
    assert "# PurchaseLine.purchase_id is named like a key to Purchase" in text
    # The guesses say so, with what else was possible.
    assert "# CHECK: no currency column; prices in pence suggest GBP" in text
    assert "# CHECK: Member.role holds 'customer', 'owner', 'staff'" in text
    # Settings, the button in the template that shows an order, the next commands.
    assert "MIRETTE_RETURNS_BASE_TEMPLATE = 'corner/layout.html'" in text
    assert "in corner/purchase.html (the template that shows an order)" in text
    assert "{{ return_request_button(purchase.number|string) }}" in text
    assert "mirette-returns db upgrade" in text and "mirette-returns send-emails --loop" in text


def test_the_dry_run_reports_the_mount_checks_and_try_shows_the_buyers_page(corner: Flask, tmp_path: Path):
    result = run_init(corner, "--yes", "--output", str(tmp_path / "m.py"), "--try", "CT-1042")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "ok: The mapping fits the models" in out
    assert "ok: The layout corner/layout.html has the blocks the plugin's pages fill." in out
    assert "Sold by Corner Tea House: Delivered" in out
    assert "Assam Breakfast (100 g), 3 x 4.50 GBP: 3 of 3 can be returned" in out
    assert "Gift card, 1 x 25.00 GBP: cannot be returned: This item is a final sale" in out
    assert "Cannot be cancelled:" in out
    assert "rendered in memory: HTTP 200" in out
    # Nothing was written to the plugin's tables.
    with corner.app_context():
        from mirette_returns_plugin.models import Request

        session = corner.extensions["sqlalchemy"].session
        assert session.scalar(sa.select(sa.func.count()).select_from(Request)) == 0


def test_try_with_an_unknown_order_says_so(corner: Flask, tmp_path: Path):
    result = run_init(corner, "--yes", "--output", str(tmp_path / "m.py"), "--try", "CT-9999")
    assert result.exit_code == 0, result.output
    assert "No order 'CT-9999': the mapping looks orders up by number." in result.output


def test_an_existing_file_is_not_overwritten_without_force(corner: Flask, tmp_path: Path):
    path = tmp_path / "returns_mapping.py"
    path.write_text("# the shop's own edits\n", encoding="utf-8")
    refused = run_init(corner, "--yes", "--output", str(path))
    assert refused.exit_code == 1
    assert "exists: nothing was written. Add --force" in refused.output
    assert path.read_text(encoding="utf-8") == "# the shop's own edits\n"
    forced = run_init(corner, "--yes", "--force", "--output", str(path))
    assert forced.exit_code == 0, forced.output
    assert "mapping = ShopMapping(" in path.read_text(encoding="utf-8")


def test_interactive_asks_each_guess_and_writes_the_answers(corner: Flask, tmp_path: Path):
    path = tmp_path / "returns_mapping.py"
    # Questions in order (fields in the order of the file): the currency, the gift card, who is staff, support.
    result = run_init(corner, "--output", str(path), input="constant('EUR')\n\n\n\n")
    assert result.exit_code == 0, result.output
    assert "OrderMap.currency?" in result.output and "UserMap.is_support?" in result.output
    assert "Press Enter to keep it, or type what to write instead" in result.output
    text = path.read_text(encoding="utf-8")
    assert "# typed when asked" in text and "currency=constant('EUR')," in text
    # An answered question is no longer a guess.
    assert "# CHECK: no currency column" not in text
    assert "is_support=lambda row: row.role in ('owner',)," in text


def test_a_wrong_edit_is_reported_by_the_dry_run(corner: Flask, tmp_path: Path):
    path = tmp_path / "returns_mapping.py"
    text = generate(corner, path)
    path.write_text(text.replace("quantity='qty',", "quantity='quantity',"), encoding="utf-8")
    report, adapter = dry_run.check(corner, path, {})
    assert adapter is None and not report.ok
    assert "PurchaseLine has no attribute 'quantity'" in report.problems[0]


def test_a_shop_without_an_order_line_gets_a_clear_message(tmp_path: Path):
    from flask_sqlalchemy import SQLAlchemy

    app = Flask("bare")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db = SQLAlchemy()

    class Note(db.Model):
        id = sa.Column(sa.Integer, primary_key=True)
        text = sa.Column(sa.String(200))

    db.init_app(app)
    from mirette_returns_plugin.cli import cli

    result = app.test_cli_runner().invoke(cli, ["init", "--yes", "--output", str(tmp_path / "m.py")])
    assert result.exit_code == 1
    assert "No model looks like an order line" in result.output
    assert not (tmp_path / "m.py").exists()


# --------------------------------------------------------------------------- #
# A shop of the third kind: Flask-Login, payment and shipping codes, no delivery date
# --------------------------------------------------------------------------- #


@pytest.fixture
def login_shop(app_config: dict, _schema: None) -> Iterator[Flask]:
    """The shop before it mounts the plugin; the plugin's tables emptied, as after ``db upgrade``."""
    from mirette_returns_plugin.models import Base as ReturnsBase
    from tests.login_shop import create_app, db, seed

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                      "MIRETTE_RETURNS_PHOTO_DIR": app_config["MIRETTE_RETURNS_PHOTO_DIR"]})
    with app.app_context():
        seed()
        with db.engine.begin() as connection:
            for table in reversed(ReturnsBase.metadata.sorted_tables):
                connection.execute(table.delete())
    yield app
    with app.app_context():
        db.drop_all()
        db.session.remove()
        db.engine.dispose()


def init_before_mounting(app: Flask, *args: str, input: str | None = None):
    # The shop does not mount the plugin yet: the command comes from the package's entry point.
    from mirette_returns_plugin.cli import cli

    return app.test_cli_runner().invoke(cli, ["init", *args], input=input)


def test_login_shop_mapping_mounts_unedited_and_shows_an_order(login_shop: Flask, tmp_path: Path):
    path = tmp_path / "returns_mapping.py"
    result = init_before_mounting(login_shop, "--yes", "--output", str(path), "--try", "1")
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert "current=lambda: current_user if current_user.is_authenticated else None," in text
    assert "the app uses Flask-Login" in text
    # Two status columns: the shipping one says how far an order went; the payment one is the alternative.
    assert "stage='shipping_status'," in text and "Other candidates: 'payment_status'" in text
    assert "ShippingStatus.NOT_SHIPPED: Stage.PENDING," in text and "PaymentStatus.PAID: Stage" not in text
    # The payment one says whether anything was paid, with no column of the amount.
    assert "paid=lambda row: row.payment_status == PaymentStatus.PAID," in text
    assert "# CHECK: no delivery date column was found" in text
    assert "{{ return_request_button(order.id|string) }}" in text and "shop/order_detail.html" in text
    out = result.output
    assert "ok: The layout shop/base.html has the blocks the plugin's pages fill." in out
    assert "Sold by Lamp Corner: Delivered" in out
    assert "Brass desk lamp, 2 x 89.00 EUR: 2 of 2 can be returned" in out
    assert "rendered in memory: HTTP 200, in the shop's layout." in out


def test_login_shop_asks_which_status_column_and_follows_the_answer(login_shop: Flask, tmp_path: Path):
    path = tmp_path / "returns_mapping.py"
    # The first guess asked about is the stage column: answer the payment one (2), then keep the rest.
    result = init_before_mounting(login_shop, "--output", str(path), input="2\n" + "\n" * 20)
    assert "Which column of CustomerOrder says how far it went?" in result.output
    text = path.read_text(encoding="utf-8")
    assert "stage='payment_status'," in text and "PaymentStatus.PAID: Stage.PENDING," in text


def test_login_shop_stories_with_the_generated_mapping(login_shop: Flask, tmp_path: Path):
    from mirette_returns_plugin import MiretteReturns, workflow
    from mirette_returns_plugin.models import Request, RequestKind
    from mirette_returns_plugin.workflow import ReturnForm, Status
    from tests.login_shop import Customer, CustomerOrder, PaymentStatus, ShippingStatus, db

    path = tmp_path / "returns_mapping.py"
    assert init_before_mounting(login_shop, "--yes", "--output", str(path)).exit_code == 0
    adapter = dry_run.load(path).adapter
    MiretteReturns(login_shop, adapter=adapter)
    with login_shop.app_context():
        # Order 2 was never paid: its cancellation refunds nothing.
        db.session.get(CustomerOrder, 2).payment_status = PaymentStatus.UNPAID
        db.session.commit()
    with login_shop.test_request_context():
        ann = adapter.user_from_row(db.session.scalar(sa.select(Customer).where(Customer.email == "ann@lamps.example")))
        owner = adapter.user_from_row(db.session.scalar(sa.select(Customer).where(Customer.is_admin)))
        (line,) = adapter.get_order("1").parts[0].lines
        request_id = workflow.submit_return(ann, "1", ReturnForm(
            line_ref=line.ref, quantity=1, kind=RequestKind.RETURN, reason_code="changed_mind")).id
        for actor, action in ((owner, "accept"), (ann, "ship_back"), (owner, "receive"), (owner, "initiate_refund")):
            workflow.perform(actor, request_id, action, note="Noted.", tracking="T-1")
        [cancellation] = workflow.request_cancellation(ann, "2", [owner.artist_ref], message="Ordered twice.")
        cancellation_id = cancellation.id
        workflow.perform(owner, cancellation_id, "refuse_order", note="Cancelled.")
    with login_shop.app_context():
        assert workflow.session().get(Request, request_id).status == Status.REFUND_INITIATED
        assert workflow.session().scalar(sa.select(Refund.amount).where(Refund.request_id == request_id)) > 0
        assert db.session.get(CustomerOrder, 2).shipping_status == ShippingStatus.CANCELLED
        assert workflow.session().get(Request, cancellation_id).status == Status.CANCELLED
        assert workflow.session().scalar(sa.select(sa.func.count()).select_from(Refund)
                                         .where(Refund.request_id == cancellation_id)) == 0


def test_try_before_the_plugins_tables_exist_says_to_upgrade(login_shop: Flask, tmp_path: Path):
    from mirette_returns_plugin.models import Base as ReturnsBase
    from tests.login_shop import db

    with login_shop.app_context():
        ReturnsBase.metadata.drop_all(db.engine)
    try:
        result = init_before_mounting(login_shop, "--yes", "--output", str(tmp_path / "m.py"), "--try", "1")
        assert result.exit_code == 0, result.output
        assert "The plugin's tables are not in the database yet: run `flask mirette-returns db upgrade`" \
            in result.output
    finally:
        with login_shop.app_context():
            ReturnsBase.metadata.create_all(db.engine)


def test_a_marketplace_without_parts_gets_a_refuse_part_to_write(tmp_path: Path):
    """Products name their vendor and the order has one status: the mapping needs the shop's refuse_part."""
    from tests.marketplace_shop import ORDER_NEW, Order, db

    app = Flask("marketplace", root_path=str(tmp_path))  # a shop of no module of its own
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)
    with app.app_context():
        db.create_all()
        db.session.execute(sa.insert(Order.__table__).values(status=ORDER_NEW))
        db.session.commit()
    from mirette_returns_plugin.cli import cli

    path = tmp_path / "returns_mapping.py"
    result = app.test_cli_runner().invoke(cli, ["init", "--yes", "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok: The plugin's own plain layout is used" in result.output
    text = path.read_text(encoding="utf-8")
    assert "artists=ArtistMap(" in text and "        artist_ref='vendor_id',\n    ),\n    artists" not in text
    assert "# ProductMap" not in text and "refuse_part=refuse_part," in text
    assert "# CHECK: several sellers share one order status here" in text
    # Nothing says who is signed in: the usual g.user, as a guess.
    assert "# CHECK: nothing else was found" in text and "current=lambda: g.get('user')," in text
    # The codes by the shop's own names, at the top of its models module.
    assert "from tests.marketplace_shop import (" in text and "ORDER_NOT_SHIPPED, ORDER_SHIPPED" in text
    assert "ORDER_NEW: Stage.PENDING," in text and "ORDER_NOT_SHIPPED: Stage.PENDING," in text
    assert "ORDER_SHIPPED: Stage.SHIPPED," in text and "ORDER_CANCELLED: Stage.CANCELLED," in text


# --------------------------------------------------------------------------- #
# Harbour Prints: an app factory, Flask-Login, app-wide CSRFProtect, a payment
# and a shipping status, what was paid, no delivery date, one seller
# --------------------------------------------------------------------------- #

#: The lines changed in the generated file before it mounts, as (generated line, edited line).
#: Measured: none; the README's table of shops says so.
HARBOUR_EDITS: tuple[tuple[str, str], ...] = ()


def reset_harbour_shop(app: Flask) -> None:
    """Create Harbour Prints' tables if needed, empty them and the plugin's, seed."""
    from examples.bootstrap_shop.models import db
    from examples.bootstrap_shop.seed import seed

    reset_example_shop(app, db, seed)


def harbour_app(app_config: dict, monkeypatch: pytest.MonkeyPatch | None = None, adapter=None) -> Flask:
    from examples.bootstrap_shop import create_app

    if adapter is not None:
        import examples.bootstrap_shop.returns_adapter as hand_written

        monkeypatch.setattr(hand_written, "adapter", adapter)
    app = create_app({**app_config, "HARBOUR_SEED": False})
    reset_harbour_shop(app)
    return app


def edited(text: str, edits: tuple[tuple[str, str], ...]) -> tuple[str, int]:
    """The file with each edit applied (each generated line found exactly once), and how many lines differ."""
    for before, after in edits:
        assert text.count(before) == 1, f"{before!r} is not one line of the generated file"
        text = text.replace(before, after)
    return text, len(edits)


@pytest.fixture
def harbour(app_config: dict, _schema: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Harbour Prints mounted with the mapping init wrote, with the measured edits applied."""
    path = tmp_path / "returns_mapping.py"
    first = harbour_app(app_config)
    text, count = edited(generate(first, path), HARBOUR_EDITS)
    with first.app_context():
        first.extensions["sqlalchemy"].engine.dispose()
    assert count <= 3
    path.write_text(text, encoding="utf-8")
    adapter = dry_run.load(path).adapter
    app = harbour_app(app_config, monkeypatch, adapter)
    from mirette_returns_plugin.state import current_state

    with app.app_context():
        assert current_state().adapter is adapter
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


def test_harbour_mapping_reads_what_was_paid_the_final_sales_and_flask_login(app_config: dict, _schema: None,
                                                                               tmp_path: Path):
    app = harbour_app(app_config)
    try:
        result = run_init(app, "--yes", "--output", str(tmp_path / "m.py"), "--try", "HP-2002")
        assert result.exit_code == 0, result.output
        text = (tmp_path / "m.py").read_text(encoding="utf-8")
    finally:
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    assert "paid='amount_paid'," in text and "an unpaid order is cancelled without a refund" in text
    assert "returnable=lambda row: not row.made_to_order," in text
    assert "current=lambda: current_user if current_user.is_authenticated else None," in text
    assert "stage='shipping_status'," in text and "ShippingStatus.CANCELLED: Stage.CANCELLED," in text
    assert "# CHECK: no delivery date column was found: the return window counts from shipped_at" in text
    assert "is_seller='is_staff'," in text and "is_support='is_admin'," in text
    assert "email='studio@harbourprints.example'" in text
    # What the buyer would see: the commission is a final sale, the print can go back.
    assert "Lighthouse at dusk, A3, 2 x 45.00 EUR: 2 of 2 can be returned" in result.output
    assert "Your house, painted, 1 x 180.00 EUR: cannot be returned" in result.output


def harbour_refunds(app: Flask) -> list[tuple[str, Decimal, bool]]:
    return refunds_in_the_plugin(app)()


def test_harbour_return_with_the_generated_mapping(harbour: Flask):
    from mirette_returns_plugin import confirm_refund
    from mirette_returns_plugin.workflow import Status
    from tests.example_shops import read
    from tests.test_bootstrap_shop_story import (
        ARTIST,
        BUYER,
        from_the_navigation,
        open_return_request,
        post_with_photo,
        request_row,
        signed_in,
        step,
        submit,
    )

    buyer = signed_in(harbour, BUYER)
    page = open_return_request(buyer, "HP-2002")
    [href] = [href for text, href in page.links if text == "Request return"]  # the commission is a final sale
    form = read(buyer.get(href)).form(lambda f: "reason_code" in f.names(), "to request a return")
    detail = post_with_photo(buyer, form, quantity="1", kind="return", reason_code="damaged",
                             comment="The corner of the print is torn.")
    assert "Requested" in detail.text and "The corner of the print is torn." in detail.text
    url, request_id = detail.url, int(detail.url.rstrip("/").rsplit("/", 1)[-1])

    artist = signed_in(harbour, ARTIST)
    assert url in {href for _text, href in from_the_navigation(artist, "Requests on my items").links}
    assert "Accepted - return instructions given" in step(artist, url, "accept", note="Roll it in its tube.").text
    assert "Sent back" in submit(buyer, read(buyer.get(url)).action_form("ship_back"), tracking="HB1").text
    assert "Product received - reimbursement can be initiated" in step(artist, url, "receive").text
    assert "Refund initiated" in step(artist, url, "initiate_refund").text
    [(key, amount, completed)] = harbour_refunds(harbour)
    assert amount == request_row(harbour, request_id).refund_total >= Decimal("45.00") and not completed
    with harbour.test_request_context():
        confirm_refund(key)
    assert request_row(harbour, request_id).status == Status.REFUNDED
    assert "Refunded" in read(buyer.get(url)).text


def test_harbour_cancellations_with_the_generated_mapping(harbour: Flask):
    from examples.bootstrap_shop.models import ShippingStatus
    from mirette_returns_plugin.workflow import Status
    from tests.example_shops import read
    from tests.test_bootstrap_shop_story import (
        ARTIST,
        BUYER,
        from_the_navigation,
        open_return_request,
        request_row,
        shipping_status,
        signed_in,
        step,
        submit,
    )

    buyer, artist = signed_in(harbour, BUYER), signed_in(harbour, ARTIST)

    def in_the_inbox() -> set[str]:
        return {href for _text, href in from_the_navigation(artist, "Requests on my items").links
                if "/requests/" in href}

    def cancel(number: str, message: str) -> str:
        before = in_the_inbox()
        page = open_return_request(buyer, number)
        after = submit(buyer, page.form(lambda f: "artist_ref" in f.names() and "message" in f.names()),
                       message=message)
        assert "Your cancellation request was sent to" in after.text
        [url] = in_the_inbox() - before
        step(artist, url, "refuse_order", confirm="1", note="Cancelled.")
        return url

    # A paid order: the refusal writes the shop's cancelled code, and the print and its shipping are refunded.
    paid_url = cancel("HP-2001", "Ordered the wrong size, sorry.")
    assert shipping_status(harbour, "HP-2001") == ShippingStatus.CANCELLED
    [(_key, amount, _completed)] = harbour_refunds(harbour)
    assert amount == Decimal("34.50")
    assert "Order cancelled - refund initiated" in read(buyer.get(paid_url)).text
    # An unpaid order (amount_paid 0): cancelled, and nothing is refunded.
    unpaid_url = cancel("HP-2003", "I will not pay after all.")
    assert shipping_status(harbour, "HP-2003") == ShippingStatus.CANCELLED
    assert len(harbour_refunds(harbour)) == 1
    text = read(buyer.get(unpaid_url)).text
    assert "Refund initiated" not in text and "nothing was charged" in text
    assert request_row(harbour, int(unpaid_url.rstrip("/").rsplit("/", 1)[-1])).status == Status.CANCELLED


def test_harbour_window_counts_from_the_order_date_with_the_generated_mapping(harbour: Flask):
    from datetime import datetime, timedelta, timezone

    from flask import url_for

    from tests.example_shops import read
    from tests.test_bootstrap_shop_story import BUYER, signed_in

    buyer = signed_in(harbour, BUYER)
    assert "Return Request" not in read(buyer.get("/orders/HP-2004")).text  # ordered 45 days ago
    with harbour.test_request_context():
        url = url_for("mirette_returns.order_requests", order_ref="HP-2004")
    page = read(buyer.get(url))
    deadline = (datetime.now(timezone.utc) - timedelta(days=15)).strftime("%b %-d, %Y")
    assert f"The return period of 30 days ended on {deadline}." in page.text
    assert "Request return" not in [text for text, _href in page.links]


def test_the_readme_counts_the_lines_harbour_prints_edits():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith("| Harbour Prints:")]
    assert f"| generated, {len(HARBOUR_EDITS)} lines edited |" in row
