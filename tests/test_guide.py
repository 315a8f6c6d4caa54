"""docs/mount.md, followed to the letter on an empty Flask shop written here.

Every fenced block of the guide is run: Python and Jinja blocks tagged
``file=...`` are written into the shop, ``console`` commands are run against
it, ``text check=...`` blocks are compared with what the plugin says. Then a
buyer signs in, clicks the button on the shop's order page, and a return goes
all the way to "Refunded" through the pages, the payment webhook and the
email worker.
"""

from __future__ import annotations

import ast
import configparser
import io
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image

from mirette_returns_plugin import ConfigurationError
from tests.example_shops import read, submit

REPOSITORY = Path(__file__).resolve().parent.parent
GUIDE = REPOSITORY / "docs" / "mount.md"


@dataclass(frozen=True)
class Snippet:
    language: str
    options: dict[str, str]
    body: str


def snippets() -> list[Snippet]:
    found = []
    for match in re.finditer(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", GUIDE.read_text(), re.S | re.M):
        language, options, body = match.groups()
        found.append(Snippet(language, dict(re.findall(r"(\w+)=(\S+)", options)), body))
    return found


def file_snippets() -> dict[str, str]:
    return {s.options["file"]: s.body for s in snippets() if "file" in s.options}


def console_commands() -> list[str]:
    return [line[2:].strip() for s in snippets() if s.language == "console"
            for line in s.body.splitlines() if line.startswith("$ ")]


# --------------------------------------------------------------------------- #
# The empty shop, as it was before its developer read the guide
# --------------------------------------------------------------------------- #

SHOP_BEFORE_THE_GUIDE = {
    "shop/models.py": '''
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Customer(db.Model):
    __tablename__ = "guide_customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    is_staff: Mapped[bool] = mapped_column(default=False)


class Product(db.Model):
    __tablename__ = "guide_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    final_sale: Mapped[bool] = mapped_column(default=False)


class Order(db.Model):
    __tablename__ = "guide_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("guide_customer.id"))
    status: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime)


class OrderLine(db.Model):
    __tablename__ = "guide_order_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("guide_order.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("guide_product.id"))
    qty: Mapped[int] = mapped_column()
    price: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))


class PaymentRefund(db.Model):
    __tablename__ = "guide_payment_refund"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    order_number: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))
''',
    "shop/auth.py": '''
from flask import session

from .models import Customer, db


def current_customer():
    customer_id = session.get("customer_id")
    return db.session.get(Customer, customer_id) if customer_id else None
''',
    "shop/payments.py": '''
import sqlalchemy as sa

from .models import PaymentRefund, db


def refund(order_number, amount, *, key):
    """The shop's payment code: refunds a charge once per key."""
    row = db.session.scalar(sa.select(PaymentRefund).where(PaymentRefund.key == key))
    if row is None:
        row = PaymentRefund(key=key, order_number=order_number, amount=amount)
        db.session.add(row)
        db.session.commit()
    return f"pay-{row.id}"
''',
    "shop/pages.py": '''
import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, session

from .auth import current_customer
from .models import Customer, Order, OrderLine, Product, db

pages = Blueprint("pages", __name__)


@pages.post("/sign-in")
def sign_in():
    customer = db.session.scalar(sa.select(Customer).where(Customer.email == request.form["email"]))
    session["customer_id"] = customer.id
    return redirect("/")


@pages.get("/")
def home():
    return "My Shop"


@pages.get("/orders/<number>")
def order(number):
    found = db.session.scalar(sa.select(Order).where(Order.number == number))
    customer = current_customer()
    if found is None or customer is None or found.customer_id != customer.id:
        abort(404)
    lines = db.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == found.id)).all()
    products = {p.id: p for p in db.session.scalars(sa.select(Product))}
    return render_template("shop/order.html", order=found, lines=lines, products=products)
''',
    "shop/static/shop.css": "body { font-family: sans-serif; }\n",
}


def seed_the_shop(db: object, models: ModuleType) -> None:
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    noor = models.Customer(name="Noor Haddad", email="noor@example.com")
    sam = models.Customer(name="Sam at My Shop", email="sam@myshop.example", is_staff=True)
    apron = models.Product(title="Linen apron")
    voucher = models.Product(title="Gift voucher", final_sale=True)
    db.session.add_all([noor, sam, apron, voucher])
    db.session.flush()
    delivered = models.Order(number="MS-1001", customer_id=noor.id, status="delivered",
                             created_at=now - timedelta(days=6), delivered_at=now - timedelta(days=2))
    pending = models.Order(number="MS-1002", customer_id=noor.id, status="paid", created_at=now)
    db.session.add_all([delivered, pending])
    db.session.flush()
    db.session.add_all([
        models.OrderLine(order_id=delivered.id, product_id=apron.id, qty=2, price=Decimal("32.00")),
        models.OrderLine(order_id=delivered.id, product_id=voucher.id, qty=1, price=Decimal("20.00")),
        models.OrderLine(order_id=pending.id, product_id=apron.id, qty=1, price=Decimal("32.00")),
    ])
    db.session.commit()


@pytest.fixture(scope="module")
def shop_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The empty shop, then every file the guide writes into it, importable as ``shop``."""
    root = tmp_path_factory.mktemp("guide")
    for path, text in {**SHOP_BEFORE_THE_GUIDE, **file_snippets()}.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.lstrip("\n"))
    assert "shop" not in sys.modules
    sys.path.insert(0, str(root))
    try:
        import shop

        yield shop
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "shop" or n.startswith("shop.")]:
            del sys.modules[name]


def shop_config(tmp_path: Path, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "MIRETTE_RETURNS_PHOTO_DIR": str(tmp_path / "photos"),
        "MAIL_SUPPRESS_SEND": True,
        **extra,
    }


def run_console(app: Flask, command: str) -> str:
    """Run one ``$`` line of the guide against the shop."""
    words = command.split()
    if words[:2] == ["pip", "install"]:
        metadata = configparser.ConfigParser()
        metadata.read(REPOSITORY / "setup.cfg")
        assert words[2:] == [metadata["metadata"]["name"]], "the guide installs this package by its name"
        return ""
    assert words[:3] == ["flask", "--app", "shop"], f"the guide runs an unknown command: {command}"
    # The ``flask`` command pushes an app context around every command; so does this.
    with app.app_context():
        result = app.test_cli_runner().invoke(args=words[3:])
    assert result.exit_code == 0, (command, result.output, result.exception)
    return result.output


def prepare(app: Flask, shop: ModuleType) -> None:
    """The shop's own tables as it always made them, then the guide's commands."""
    from shop import models

    with app.app_context():
        models.db.create_all()
        seed_the_shop(models.db, models)
    for command in console_commands():
        # The worker and init have tests of their own below.
        if "send-emails" not in command and "mirette-returns init" not in command:
            run_console(app, command)


def signed_in(app: Flask, email: str):
    client = app.test_client()
    client.post("/sign-in", data={"email": email})
    return client


# --------------------------------------------------------------------------- #
# The tests
# --------------------------------------------------------------------------- #


def test_every_block_of_the_guide_is_run_by_this_test():
    blocks = snippets()
    assert len(blocks) >= 10
    for block in blocks:
        handled = ("file" in block.options and block.language in ("python", "jinja")) or \
                  block.language == "console" or ("check" in block.options and block.language == "text")
        assert handled, f"a block of the guide is not exercised: {block}"
    assert {s.options.get("file") for s in blocks} >= {
        "shop/returns_adapter.py", "shop/__init__.py", "shop/templates/layout.html", "shop/templates/shop/order.html"}


def test_following_the_guide_gives_a_working_return_request_button(shop_package, tmp_path, smtp, caplog):
    app = shop_package.create_app(shop_config(tmp_path, **smtp.flask_config()))
    prepare(app, shop_package)
    caplog.set_level(logging.INFO, logger=app.logger.name)

    buyer = signed_in(app, "noor@example.com")
    order_page = read(buyer.get("/orders/MS-1001"))
    # The guide rewords the button by overriding the plugin's macro.
    page = read(buyer.get(order_page.link("Return or exchange")))
    assert "Return Request" in page.text and "Linen apron" in page.text and "My Shop" in page.text
    assert "This item is a final sale" in page.text  # ProductMap(returnable=...)
    assert "shop.css" in page.html and "mirette-returns.css" in page.html  # inside the shop's layout

    [href] = [href for text, href in page.links if text == "Request return"]
    form = read(buyer.get(href)).form(lambda f: "reason_code" in f.names(), "to request a return")
    detail = submit(buyer, form, quantity="1", kind="return", reason_code="changed_mind",
                    comment="The colour is not what I expected.")
    assert "Requested" in detail.text and "Linen apron" in detail.text
    assert "New return request" in caplog.text  # the guide's signal receivers

    staff = signed_in(app, "sam@myshop.example")
    for action, values in (("accept", {"note": "Send it to our shop."}), ("receive", {}), ("initiate_refund", {})):
        submit(staff, read(staff.get(detail.url)).action_form(action), **values)
    with app.app_context():
        from shop.models import PaymentRefund, db

        [payment] = db.session.scalars(sa.select(PaymentRefund)).all()
        key, amount = payment.key, payment.amount
    assert amount == 32 and "Request" in caplog.text

    # The payment provider reports the refund; the webhook of the guide confirms it.
    answer = app.test_client().post("/payments/webhook", json={
        "type": "refund.succeeded", "idempotency_key": key, "refund_id": "re_123"})
    assert answer.get_json() == {"received": True}
    assert "Refunded" in read(buyer.get(detail.url)).text

    [send] = [c for c in console_commands() if "send-emails" in c]
    output = run_console(app, send)
    assert "Sent" in output and smtp.to("noor@example.com") and smtp.to("orders@myshop.example")
    assert "--loop" in run_console(app, send + " --help")


def test_the_guides_init_line_writes_a_mapping_that_mounts_on_the_guides_shop(shop_package, tmp_path, monkeypatch):
    app = shop_package.create_app(shop_config(tmp_path))
    prepare(app, shop_package)
    monkeypatch.chdir(tmp_path)  # where the developer runs it: the file lands there
    [init] = [c for c in console_commands() if "mirette-returns init" in c]
    with app.app_context():
        # Enter at every question: the proposals, as --yes would take them.
        result = app.test_cli_runner().invoke(args=init.split()[3:], input="\n" * 40)
    assert result.exit_code == 0, (result.output, result.exception)
    assert (tmp_path / "returns_mapping.py").exists() and "PROBLEM" not in result.output
    assert "Linen apron, 2 x 32.00" in result.output and "2 of 2 can be returned" in result.output
    assert "Gift voucher, 1 x 20.00" in result.output and "This item is a final sale" in result.output
    # Only "paid" and "delivered" are in its database yet: the file says to add the others.
    written = (tmp_path / "returns_mapping.py").read_text(encoding="utf-8")
    assert "'paid': Stage.PENDING," in written and "'delivered': Stage.DELIVERED," in written
    assert "# CHECK: the values Order.status holds in the database now; add every other value" in written


def test_cancelling_a_paid_order_writes_the_shops_status(shop_package, tmp_path):
    app = shop_package.create_app(shop_config(tmp_path))
    prepare(app, shop_package)
    buyer = signed_in(app, "noor@example.com")
    page = read(buyer.get(read(buyer.get("/orders/MS-1002")).link("Return or exchange")))
    form = page.form(lambda f: "artist_ref" in f.names(), "to ask for a cancellation")
    assert "Your cancellation request was sent to My Shop" in submit(buyer, form, message="Wrong size, sorry.").text
    staff = signed_in(app, "sam@myshop.example")
    inbox = read(staff.get("/returns/artist/inbox"))
    [detail_url] = {href for _text, href in inbox.links if "/requests/" in href}
    refused = submit(staff, read(staff.get(detail_url)).action_form("refuse_order"), confirm="1")
    # The guide's shop sells alone: it cancels what its buyer asked it to.
    assert "Order cancelled - refund initiated" in refused.text
    with app.app_context():
        from shop.models import Order, db

        assert db.session.scalar(sa.select(Order.status).where(Order.number == "MS-1002")) == "cancelled"


def test_photos_in_the_shops_database_with_the_guides_storage(shop_package, tmp_path):
    from shop.photo_storage import DatabasePhotoStorage, ReturnPhoto
    from shop.returns_adapter import adapter

    from mirette_returns_plugin import MiretteReturns

    # The guide's factory, mounted as section 8 says.
    app = Flask("shop")
    app.config.update(shop_config(tmp_path), SECRET_KEY="x", MIRETTE_RETURNS_BASE_TEMPLATE="layout.html")
    shop_package.models.db.init_app(app)
    MiretteReturns().init_app(app, adapter=adapter, photo_storage=DatabasePhotoStorage())
    from shop.pages import pages

    app.register_blueprint(pages)
    prepare(app, shop_package)

    buyer = signed_in(app, "noor@example.com")
    page = read(buyer.get("/returns/orders/MS-1001"))
    [href] = [href for text, href in page.links if text == "Request return"]
    form = read(buyer.get(href)).form(lambda f: "reason_code" in f.names())
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), "tomato").save(picture, "JPEG")
    data = form.data(quantity="1", kind="return", reason_code="damaged")
    data["photos"] = (io.BytesIO(picture.getvalue()), "torn.jpg")
    detail = read(buyer.post(form.action, data=data, content_type="multipart/form-data", follow_redirects=True))
    assert "Damaged product" in detail.text
    with app.app_context():
        stored = shop_package.models.db.session.scalars(sa.select(ReturnPhoto)).all()
        assert len(stored) == 2  # the photo and its thumbnail, in the shop's own table
    [photo_url] = {src for _text, src in detail.links if "/photos/" in src} or \
        set(re.findall(r'src="([^"]*/photos/\d+)', detail.html))
    served = buyer.get(photo_url)
    assert served.status_code == 200 and Image.open(io.BytesIO(served.data)).size == (64, 48)
    assert signed_in(app, "sam@myshop.example").get(photo_url).status_code == 200
    assert app.test_client().get(photo_url).status_code == 404  # nobody signed in


def test_the_subclass_snippet_overrides_one_method(shop_package, tmp_path):
    from dataclasses import replace

    from shop.custom_adapter import MyShopAdapter
    from shop.returns_adapter import adapter

    from mirette_returns_plugin import RefundOrder

    custom = MyShopAdapter(replace(adapter.mapping, initiate_refund=None))
    app = shop_package.create_app(shop_config(tmp_path))
    prepare(app, shop_package)
    with app.test_request_context():
        assert custom.get_order("MS-1001") == adapter.get_order("MS-1001")
        result = custom.initiate_refund(RefundOrder(idempotency_key="k-1", order_ref="MS-1001", artist_ref="shop",
                                                    amount=32, currency="EUR"))
        assert result.reference.startswith("pay-") and result.completed is False


def test_the_error_shown_in_the_guide_is_the_one_the_plugin_gives(shop_package):
    from dataclasses import replace

    from shop.returns_adapter import adapter

    from mirette_returns_plugin.sqla_adapter import SQLAlchemyShopAdapter

    [expected] = [s.body.strip() for s in snippets() if s.options.get("check") == "misspelt-attribute"]
    broken = replace(adapter.mapping, line=replace(adapter.mapping.line, quantity="quantity"))
    with pytest.raises(ConfigurationError) as error:
        SQLAlchemyShopAdapter(broken)
    assert str(error.value) == expected


def test_a_layout_without_the_head_block_is_refused_when_mounting(shop_package, tmp_path):
    from shop.returns_adapter import adapter

    from mirette_returns_plugin import MiretteReturns

    app = Flask("shop")
    app.config.update(shop_config(tmp_path), MIRETTE_RETURNS_BASE_TEMPLATE="broken.html")
    (Path(app.root_path) / "templates").mkdir(exist_ok=True)
    broken = Path(app.root_path) / "templates" / "broken.html"
    broken.write_text("<title>{% block title %}{% endblock %}</title>{% block content %}{% endblock %}")
    try:
        shop_package.models.db.init_app(app)
        with pytest.raises(ConfigurationError, match=r"'broken.html' .* has no block 'head'"):
            MiretteReturns().init_app(app, adapter=adapter)
    finally:
        broken.unlink()


# --------------------------------------------------------------------------- #
# The sizes printed in the guide
# --------------------------------------------------------------------------- #


def code_lines(path: Path, *, only_mapping: bool = False) -> int:
    """Lines of code: blank lines, comments and docstrings are not counted."""
    source = path.read_text()
    tree = ast.parse(source)
    counted = set(range(1, len(source.splitlines()) + 1))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            counted -= set(range(body[0].lineno, body[0].end_lineno + 1))
    if only_mapping:
        [call] = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "ShopMapping"]
        counted &= set(range(call.lineno, call.end_lineno + 1))
    lines = source.splitlines()
    return sum(1 for n in counted if lines[n - 1].strip() and not lines[n - 1].strip().startswith("#"))


def test_the_configuration_sizes_in_the_guide_are_true():
    table = {row.split("|")[1].strip(): row.split("|")[4].strip()
             for row in GUIDE.read_text().splitlines() if row.startswith("| ") and row.count("|") == 5}
    demo = REPOSITORY / "mirette_returns_plugin" / "demo" / "adapter.py"
    demo_mapping = REPOSITORY / "examples" / "demo_mapping.py"
    corner = REPOSITORY / "examples" / "corner_shop" / "returns_adapter.py"
    rows = {key.split(" (")[0]: value for key, value in table.items()}
    assert rows["Demo marketplace"] == str(code_lines(demo))
    assert rows["The same demo, as a mapping"] == \
        f"{code_lines(demo_mapping)}, {code_lines(demo_mapping, only_mapping=True)}"
    assert rows["Corner Tea House"] == f"{code_lines(corner)}, {code_lines(corner, only_mapping=True)}"
    harbour = REPOSITORY / "examples" / "bootstrap_shop" / "returns_adapter.py"
    assert rows["Harbour Prints"] == f"{code_lines(harbour)}, {code_lines(harbour, only_mapping=True)}"
    # "Short enough to read at a glance."
    assert code_lines(corner, only_mapping=True) <= 25


def test_under_an_app_wide_csrf_protect_the_webhook_is_exempt_and_the_forms_are_not(shop_package, tmp_path):
    from shop.csrf import csrf

    app = shop_package.create_app(shop_config(tmp_path, WTF_CSRF_ENABLED=True))
    csrf.init_app(app)  # as section 9 says, in the app factory
    prepare(app, shop_package)
    with app.app_context():
        from shop.models import Customer, PaymentRefund, db

        ids = dict(db.session.execute(sa.select(Customer.email, Customer.id)).all())

    def client_of(email: str):
        # The guide's sign-in form has no token: sign in through the session instead.
        client = app.test_client()
        with client.session_transaction() as session:
            session["customer_id"] = ids[email]
        return client

    buyer, staff = client_of("noor@example.com"), client_of("sam@myshop.example")
    form = read(buyer.get("/returns/orders/MS-1002")).form(lambda f: "artist_ref" in f.names())
    forged = {**form.data(message="Wrong size, sorry."), "csrf_token": "forged"}
    assert buyer.post(form.action, data=forged).status_code == 400
    submit(buyer, form, message="Wrong size, sorry.")
    # The layout's returns_nav_links: the staff's way to the requests, nothing for the buyer.
    every_request = read(staff.get("/returns/support/requests"))  # the guide's staff are support too
    inbox = read(staff.get(every_request.link("Requests on my items")))
    assert every_request.link("Every request") == "/returns/support/requests"
    assert "Requests on my items" not in [text for text, _href in read(buyer.get("/orders/MS-1002")).links]
    [detail_url] = {href for _text, href in inbox.links if "/requests/" in href}
    submit(staff, read(staff.get(detail_url)).action_form("refuse_order"), confirm="1")
    with app.app_context():
        [key] = db.session.scalars(sa.select(PaymentRefund.key)).all()

    answer = app.test_client().post("/payments/webhook", json={
        "type": "refund.succeeded", "idempotency_key": key, "refund_id": "re_456"})
    assert answer.status_code == 200 and answer.get_json() == {"received": True}
    assert "Refunded" in read(buyer.get(detail_url)).text
