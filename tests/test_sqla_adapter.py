"""The ready adapter: one mapping, any shape of shop, clear errors for a wrong one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from mirette_returns_plugin import AdapterError, ConfigurationError, RefundOrder, RefundResult, Stage
from mirette_returns_plugin.demo.adapter import DemoShopAdapter
from mirette_returns_plugin.demo.models import ArtistProfile, ShopOrder, ShopOrderLine
from mirette_returns_plugin.sqla_adapter import (
    ArtistMap,
    LineMap,
    OrderMap,
    ProductMap,
    ShopMapping,
    SingleSeller,
    SQLAlchemyShopAdapter,
    UserMap,
    constant,
)
from tests.shop import ALEX, CAMILLE, LUNE, SUPPORT, account, login

# --------------------------------------------------------------------------- #
# The demo, through a mapping instead of its hand-written adapter
# --------------------------------------------------------------------------- #


def test_demo_mapping_gives_the_plugin_exactly_what_the_hand_written_adapter_gives(app, ctx):
    from examples.demo_mapping import adapter as mapped

    hand = DemoShopAdapter()
    db = app.extensions["sqlalchemy"]
    orders = db.session.scalars(sa.select(ShopOrder)).all()
    assert len(orders) == 7
    for order in orders:
        ref = str(order.id)
        assert mapped.get_order(ref) == hand.get_order(ref), order.number
        for line in db.session.scalars(sa.select(ShopOrderLine)):
            assert mapped.exchange_options(ref, str(line.id)) == hand.exchange_options(ref, str(line.id))
    for email in (CAMILLE, ALEX):
        buyer_ref = str(account(email).id)
        assert mapped.orders_for_buyer(buyer_ref) == hand.orders_for_buyer(buyer_ref)
        assert [o.number for o in mapped.orders_for_buyer(buyer_ref)][-1] in ("MIR-1005", "MIR-2002")
    for artist in db.session.scalars(sa.select(ArtistProfile)):
        assert mapped.get_artist(str(artist.id)) == hand.get_artist(str(artist.id))
    assert mapped.support_emails() == hand.support_emails() == [SUPPORT]
    assert mapped.get_order("999999") is None and mapped.get_order("not-a-number") is None
    assert mapped.get_artist("999999") is None


def test_demo_mapping_finds_the_same_signed_in_user(app):
    from examples.demo_mapping import adapter as mapped

    for email in (CAMILLE, LUNE, SUPPORT, None):
        client = login(app.test_client(), email) if email else app.test_client()
        with client:  # keeps the request context of the last request open
            client.get("/")
            assert mapped.current_user() == DemoShopAdapter().current_user()
            assert (mapped.current_user().email if email else mapped.current_user()) == email


def test_demo_mapping_refuses_a_pending_part_and_nothing_else(app, ctx):
    from examples.demo_mapping import adapter as mapped
    from tests.shop import artist_ref, order_ref

    db = app.extensions["sqlalchemy"]
    pending, lune = order_ref("MIR-1001"), artist_ref(LUNE)
    mapped.refuse_part(pending, lune)
    db.session.commit()
    assert mapped.get_order(pending).part(lune).stage == Stage.CANCELLED
    delivered = order_ref("MIR-1004")
    with pytest.raises(AdapterError, match="already processed"):
        mapped.refuse_part(delivered, lune)
    db.session.rollback()
    assert mapped.get_order(delivered).part(lune).stage == Stage.DELIVERED
    with pytest.raises(AdapterError):
        mapped.refuse_part(pending, "999999")


# --------------------------------------------------------------------------- #
# A small shop, built three times: integer, string and UUID keys
# --------------------------------------------------------------------------- #

STAGES = {"new": Stage.PENDING, "packed": Stage.ACCEPTED, "sent": Stage.SHIPPED, "arrived": Stage.DELIVERED,
          "void": Stage.CANCELLED}


def make_shop(kind: str) -> SimpleNamespace:
    """A bookshop whose tables share no foreign key and no relationship."""

    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)
    key_type = {"int": sa.Integer, "str": sa.String(40), "uuid": sa.Uuid}[kind]
    counter = iter(range(1, 10_000))

    def new_key():
        number = next(counter)
        return {"int": number, "str": f"k{number:04d}", "uuid": uuid.uuid4()}[kind]

    class Reader(db.Model):
        __tablename__ = f"sqla_{kind}_reader"
        id = mapped_column(key_type, primary_key=True, default=new_key)
        display_name: Mapped[str] = mapped_column(sa.String(80))
        email: Mapped[str] = mapped_column(sa.String(254))
        is_staff: Mapped[bool] = mapped_column(default=False)
        is_helpdesk: Mapped[bool] = mapped_column(default=False)
        vendor: Mapped[str | None] = mapped_column(sa.String(40))

    class Book(db.Model):
        __tablename__ = f"sqla_{kind}_book"
        id = mapped_column(key_type, primary_key=True, default=new_key)
        title: Mapped[str] = mapped_column(sa.String(120))
        vendor: Mapped[str] = mapped_column(sa.String(40), default="press")
        secondhand: Mapped[bool] = mapped_column(default=False)

    class Sale(db.Model):
        __tablename__ = f"sqla_{kind}_sale"
        id = mapped_column(key_type, primary_key=True, default=new_key)
        code: Mapped[str] = mapped_column(sa.String(20), unique=True)
        reader_id = mapped_column(key_type)
        state: Mapped[str] = mapped_column(sa.String(12), default="new")
        placed: Mapped[datetime] = mapped_column(sa.DateTime)
        arrived_on: Mapped[datetime | None] = mapped_column(sa.DateTime)
        #: A stage derived by the database from two columns (a SQL expression).
        progress = column_property(sa.case((arrived_on.is_not(None), "arrived"), else_=state))

    class SaleLine(db.Model):
        __tablename__ = f"sqla_{kind}_sale_line"
        id = mapped_column(key_type, primary_key=True, default=new_key)
        sale_id = mapped_column(key_type)
        book_id = mapped_column(key_type)
        copies: Mapped[int] = mapped_column()
        price: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))

    return SimpleNamespace(kind=kind, db=db, Reader=Reader, Book=Book, Sale=Sale, SaleLine=SaleLine)


SHOPS = {kind: make_shop(kind) for kind in ("int", "str", "uuid")}
REFUNDS: list[RefundOrder] = []


def record_refund(refund: RefundOrder) -> RefundResult:
    REFUNDS.append(refund)
    return RefundResult(reference="r-1")


def single_seller_mapping(shop: SimpleNamespace, **changes) -> ShopMapping:
    fields = dict(
        order=OrderMap(shop.Sale, ref="code", buyer_ref="reader_id", placed_at="placed", currency=constant("EUR"),
                       number="code", stage="state", delivered_at="arrived_on"),
        line=LineMap(shop.SaleLine, order_ref="sale_id", product_ref="book_id", quantity="copies", unit_price="price"),
        product=ProductMap(shop.Book, name="title", returnable=lambda book: not book.secondhand),
        users=UserMap(current=lambda: g.get("reader"), model=shop.Reader, name="display_name",
                      is_seller="is_staff", is_support="is_helpdesk"),
        seller=SingleSeller(ref="shop", name="The Bookshop", email="books@shop.example"),
        stages=STAGES,
        initiate_refund=record_refund,
    )
    fields.update(changes)
    return ShopMapping(**fields)


@pytest.fixture(params=sorted(SHOPS))
def shop(request, database_url: str) -> Iterator[SimpleNamespace]:
    """One of the three bookshops on the database under test, seeded, in a request context."""
    shop = SHOPS[request.param]
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, TESTING=True)
    shop.db.init_app(app)
    Babel(app)  # the plugin's messages are translated; mounting it would set this up
    with app.test_request_context():
        db = shop.db
        db.create_all()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        seed_bookshop(shop)
        yield shop
        db.session.remove()
        db.engine.dispose()


def seed_bookshop(shop: SimpleNamespace) -> None:
    db = shop.db
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    shop.reader = shop.Reader(display_name="Noor", email="noor@readers.example")
    shop.staff = shop.Reader(display_name="Theo", email="theo@shop.example", is_staff=True, vendor="press")
    shop.helpdesk = shop.Reader(display_name="Help", email="help@shop.example", is_helpdesk=True)
    shop.books = [shop.Book(title=f"Book {n}", secondhand=n == 3, vendor="press" if n % 2 else "attic")
                  for n in range(1, 5)]
    db.session.add_all([shop.reader, shop.staff, shop.helpdesk, *shop.books])
    db.session.flush()
    for index, (code, state, lines) in enumerate([("S-1", "new", 1), ("S-2", "arrived", 3), ("S-3", "sent", 4)]):
        sale = shop.Sale(code=code, reader_id=shop.reader.id, state=state, placed=now - timedelta(days=10 - index),
                         arrived_on=now - timedelta(days=2) if state == "arrived" else None)
        db.session.add(sale)
        db.session.flush()
        for n in range(lines):
            db.session.add(shop.SaleLine(sale_id=sale.id, book_id=shop.books[n].id, copies=n + 1,
                                         price=Decimal("12.50")))
    db.session.commit()


def test_orders_read_with_any_key_type(shop):
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(shop))
    order = adapter.get_order("S-2")
    assert order.ref == "S-2" and order.number == "S-2" and order.currency == "EUR"
    assert order.buyer_ref == str(shop.reader.id) and order.buyer_name == "Noor"
    assert order.buyer_email == "noor@readers.example"
    assert order.placed_at.tzinfo is not None and order.parts[0].delivered_at.tzinfo is not None
    (part,) = order.parts
    assert part.artist_ref == "shop" and part.stage == Stage.DELIVERED
    assert sorted((line.product_name, line.quantity, line.unit_price, line.returnable) for line in part.lines) == [
        ("Book 1", 1, Decimal("12.50"), True), ("Book 2", 2, Decimal("12.50"), True),
        ("Book 3", 3, Decimal("12.50"), False)]
    assert {line.product_ref for line in part.lines} == {str(book.id) for book in shop.books[:3]}
    newest_first = adapter.orders_for_buyer(str(shop.reader.id))
    assert [o.number for o in newest_first] == ["S-3", "S-2", "S-1"]
    assert adapter.orders_for_buyer(str(shop.staff.id)) == []
    seller = adapter.get_artist("shop")
    assert (seller.name, seller.email) == ("The Bookshop", "books@shop.example")
    assert adapter.get_artist(str(shop.staff.id)) is None
    assert adapter.support_emails() == ["help@shop.example"]


@pytest.mark.parametrize("ref", ["", "S-404", "1e3", "../S-2", "99999999999", "-99999999999999999999",
                                 "00000000-0000-0000-0000-000000000000", "x" * 300, "S-2' OR '1'='1"])
def test_unknown_or_malformed_refs_find_nothing(shop, ref):
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(shop))
    assert adapter.get_order(ref) is None
    assert adapter.orders_for_buyer(ref) == []
    assert adapter.exchange_options("S-2", ref) == []
    assert adapter.get_artist(ref) is None


def test_orders_looked_up_by_primary_key_when_ref_is_the_id(shop):
    mapping = single_seller_mapping(shop)
    adapter = SQLAlchemyShopAdapter(ShopMapping(**{**vars_of(mapping), "order": OrderMap(
        shop.Sale, buyer_ref="reader_id", placed_at="placed", currency=constant("EUR"), number="code",
        stage="state")}))
    sale_id = shop.db.session.scalar(sa.select(shop.Sale.id).where(shop.Sale.code == "S-3"))
    order = adapter.get_order(str(sale_id))
    assert order.ref == str(sale_id) and order.number == "S-3"
    assert adapter.get_order("S-3") is None


def test_the_signed_in_user_and_their_roles(shop):
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(shop))
    assert adapter.current_user() is None
    g.reader = shop.reader
    assert adapter.current_user().ref == str(shop.reader.id)
    assert (adapter.current_user().artist_ref, adapter.current_user().is_support) == (None, False)
    g.reader = shop.staff
    assert adapter.current_user().artist_ref == "shop"
    g.reader = shop.helpdesk
    assert adapter.current_user().is_support is True
    g.reader = SimpleNamespace(is_authenticated=False)  # Flask-Login's anonymous user
    assert adapter.current_user() is None


def test_exchange_options_only_for_a_line_of_that_order(shop):
    seen = []

    def options(line):
        seen.append(line)
        from mirette_returns_plugin import ExchangeOption

        return [ExchangeOption(ref="other", label="Another copy")]

    adapter = SQLAlchemyShopAdapter(single_seller_mapping(shop, exchange_options=options))
    line_ref = adapter.get_order("S-2").parts[0].lines[0].ref
    assert [o.label for o in adapter.exchange_options("S-2", line_ref)] == ["Another copy"]
    assert adapter.exchange_options("S-3", line_ref) == []
    assert len(seen) == 1 and str(seen[0].id) == line_ref


def test_refuse_part_cancels_only_an_unprocessed_order(shop):
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(shop))
    adapter.refuse_part("S-1", "shop")
    shop.db.session.commit()
    assert shop.db.session.scalar(sa.select(shop.Sale.state).where(shop.Sale.code == "S-1")) == "void"
    assert adapter.get_order("S-1").parts[0].stage == Stage.CANCELLED
    with pytest.raises(AdapterError, match="already processed"):
        adapter.refuse_part("S-3", "shop")
    with pytest.raises(AdapterError):
        adapter.refuse_part("S-2", "someone-else")
    shop.db.session.rollback()
    assert shop.db.session.scalar(sa.select(shop.Sale.state).where(shop.Sale.code == "S-3")) == "sent"


def test_refunds_and_urls_go_to_the_shop_functions(shop):
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(
        shop, order_url=lambda ref: f"/sales/{ref}", product_url=lambda ref: f"/books/{ref}",
        artist_url=lambda ref: "/terms"))
    refund = RefundOrder(idempotency_key="k1", order_ref="S-2", artist_ref="shop", amount=Decimal("25.00"),
                         currency="EUR")
    REFUNDS.clear()
    assert adapter.initiate_refund(refund) == RefundResult(reference="r-1")
    assert [refund] == REFUNDS
    assert (adapter.order_url("S-2"), adapter.product_url("b"), adapter.artist_url("shop")) == (
        "/sales/S-2", "/books/b", "/terms")
    # The seller's terms link to its page unless the policy names another.
    assert adapter.get_artist("shop").policy.url == "/terms"
    bare = SQLAlchemyShopAdapter(single_seller_mapping(shop))
    assert (bare.order_url("S-2"), bare.product_url("b"), bare.artist_url("shop")) == (None, None, None)


def sale_order_map(shop: SimpleNamespace, **changes) -> OrderMap:
    return OrderMap(shop.Sale, ref="code", buyer_ref="reader_id", placed_at="placed", currency=constant("EUR"),
                    number="code", stage="state", delivered_at="arrived_on", **changes)


def paid_of(adapter: SQLAlchemyShopAdapter, shop: SimpleNamespace) -> dict[str, Decimal | None]:
    return {order.number: order.parts[0].paid for order in adapter.orders_for_buyer(str(shop.reader.id))}


def test_what_was_paid_comes_from_a_function_or_a_sql_expression(shop):
    # Without a paid field, everything was paid: adapters written before it keep working.
    assert set(paid_of(SQLAlchemyShopAdapter(single_seller_mapping(shop)), shop).values()) == {None}
    by_function = SQLAlchemyShopAdapter(single_seller_mapping(shop, order=sale_order_map(
        shop, paid=lambda sale: {"S-1": False, "S-2": Decimal("3.50")}.get(sale.code, True))))
    assert paid_of(by_function, shop) == {"S-1": Decimal("0"), "S-2": Decimal("3.50"), "S-3": None}
    # An expression is read for every order of a page in one query, as a flag here.
    by_expression = SQLAlchemyShopAdapter(single_seller_mapping(shop, order=sale_order_map(
        shop, paid=shop.Sale.state != "new")))
    assert paid_of(by_expression, shop) == {"S-1": Decimal("0"), "S-2": None, "S-3": None}
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    costs = []
    sa.event.listen(shop.db.engine, "before_cursor_execute", count)
    try:
        for adapter in (by_function, by_expression):
            statements.clear()
            shop.db.session.expire_all()
            adapter.orders_for_buyer(str(shop.reader.id))
            costs.append(len(statements))
    finally:
        sa.event.remove(shop.db.engine, "before_cursor_execute", count)
    assert costs[1] == costs[0] + 1


def test_a_misspelt_paid_column_is_refused_by_name():
    message = configuration_error(order=sale_order_map(BOOKS, paid="is_payed"))
    assert "ShopMapping.order.paid: Sale has no attribute 'is_payed'" in message


def test_a_marketplace_without_a_part_model_splits_orders_by_the_products_seller(shop):
    refused = []
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(
        shop, seller=None,
        artists=ArtistMap(shop.Reader, id="vendor", name="display_name"),
        product=ProductMap(shop.Book, name="title", artist_ref="vendor"),
        users=UserMap(current=lambda: g.get("reader"), model=shop.Reader, name="display_name", artist_ref="vendor"),
        refuse_part=lambda order_ref, artist_ref: refused.append((order_ref, artist_ref)),
    ))
    order = adapter.get_order("S-3")
    assert {part.artist_ref: sorted(line.product_name for line in part.lines) for part in order.parts} == {
        "press": ["Book 1", "Book 3"], "attic": ["Book 2", "Book 4"]}
    assert all(part.stage == Stage.SHIPPED for part in order.parts)
    assert adapter.get_artist("press").name == "Theo"
    g.reader = shop.staff
    assert adapter.current_user().artist_ref == "press"
    adapter.refuse_part("S-3", "attic")
    assert refused == [("S-3", "attic")]


def test_reading_orders_costs_the_same_queries_for_one_line_or_many(shop):
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(shop))
    reader_ref = str(shop.reader.id)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(shop.db.engine, "before_cursor_execute", count)
    try:
        costs = {}
        for code in ("S-1", "S-3"):  # one line, four lines
            statements.clear()
            shop.db.session.expire_all()
            assert adapter.get_order(code) is not None
            costs[code] = len(statements)
        statements.clear()
        shop.db.session.expire_all()
        assert len(adapter.orders_for_buyer(reader_ref)) == 3
        for_three_orders = len(statements)
    finally:
        sa.event.remove(shop.db.engine, "before_cursor_execute", count)
    assert costs["S-1"] == costs["S-3"] <= 4
    assert for_three_orders <= 4


def test_a_stage_value_the_mapping_does_not_know_says_how_to_add_it(shop):
    shop.db.session.execute(sa.update(shop.Sale).where(shop.Sale.code == "S-2").values(state="lost"))
    shop.db.session.commit()
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(shop))
    with pytest.raises(ConfigurationError) as error:
        adapter.get_order("S-2")
    message = str(error.value)
    assert "Sale.state is 'lost'" in message and "ShopMapping.stages" in message
    assert "'lost': Stage.SHIPPED" in message


def sale_map(**changes) -> dict:
    fields = dict(ref="code", buyer_ref="reader_id", placed_at="placed", currency=constant("EUR"), number="code",
                  stage="state", delivered_at="arrived_on")
    return {**fields, **changes}


@pytest.mark.parametrize("derived", ["function", "sql expression"])
def test_a_stage_derived_from_two_columns_reads_and_refuses(shop, derived):
    stage = (lambda sale: "arrived" if sale.arrived_on is not None else sale.state) if derived == "function" \
        else "progress"
    # S-3 is "sent" but has arrived: only the derived stage knows it.
    shop.db.session.execute(sa.update(shop.Sale).where(shop.Sale.code == "S-3").values(arrived_on=datetime(2026, 1, 2)))
    shop.db.session.commit()
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(
        shop, order=OrderMap(shop.Sale, **sale_map(stage=stage)), refuse_writes={"state": "void"}))
    assert [adapter.get_order(code).parts[0].stage for code in ("S-1", "S-2", "S-3")] == [
        Stage.PENDING, Stage.DELIVERED, Stage.DELIVERED]
    adapter.refuse_part("S-1", "shop")
    shop.db.session.commit()
    assert shop.db.session.scalar(sa.select(shop.Sale.state).where(shop.Sale.code == "S-1")) == "void"
    assert adapter.get_order("S-1").parts[0].stage == Stage.CANCELLED
    with pytest.raises(AdapterError, match="already processed"):
        adapter.refuse_part("S-3", "shop")


def test_a_derived_stage_value_the_mapping_does_not_know_says_so(shop):
    adapter = SQLAlchemyShopAdapter(single_seller_mapping(
        shop, order=OrderMap(shop.Sale, **sale_map(stage=lambda sale: (sale.state, "x"))),
        stages={("new", "x"): Stage.PENDING, ("void", "x"): Stage.CANCELLED}, refuse_writes={"state": "void"}))
    assert adapter.get_order("S-1").parts[0].stage == Stage.PENDING
    with pytest.raises(ConfigurationError) as error:
        adapter.get_order("S-2")
    assert "The stage of Sale" in str(error.value) and "('arrived', 'x'), which ShopMapping.stages does not map" \
        in str(error.value)


def test_a_derived_stage_needs_to_know_what_a_refusal_writes():
    for stage in (lambda sale: sale.state, "progress"):
        message = configuration_error(order=OrderMap(BOOKS.Sale, **sale_map(stage=stage)))
        assert "ShopMapping.refuse_writes is needed: ShopMapping.order.stage is" in message
        assert "refuse_writes={'shipping_status': 9}" in message
    message = configuration_error(order=OrderMap(BOOKS.Sale, **sale_map(stage="progress")),
                                  refuse_writes={"stat": "void"})
    assert "ShopMapping.refuse_writes: Sale has no column 'stat' (did you mean 'state'?)" in message


@pytest.mark.parametrize(("order", "line", "expected"), [
    ({"placed_at": "code"}, {}, "ShopMapping.order.placed_at: Sale.code is a VARCHAR(20) column (str), but placed_at "
                                "must be a date and time"),
    ({"delivered_at": "reader_id"}, {}, "ShopMapping.order.delivered_at: Sale.reader_id is a INTEGER column (int)"),
    ({}, {"quantity": "price"}, "ShopMapping.line.quantity: SaleLine.price is a NUMERIC(8, 2) column (Decimal), "
                                "but quantity must be a whole number"),
    ({}, {"unit_price": "sale_id"}, None),  # an integer is a number: pence, cents
])
def test_a_column_of_the_wrong_type_is_refused_by_map_field_and_column(order, line, expected):
    lines = dict(order_ref="sale_id", product_ref="book_id", quantity="copies", unit_price="price")
    changes = dict(order=OrderMap(BOOKS.Sale, **sale_map(**order)), line=LineMap(BOOKS.SaleLine, **{**lines, **line}))
    if expected is None:
        SQLAlchemyShopAdapter(single_seller_mapping(BOOKS, **changes))
    else:
        message = configuration_error(**changes)
        assert expected in message and "a function of the row (lambda row: ...) that converts it" in message


def test_stages_keyed_by_the_wrong_type_for_the_column_are_refused():
    message = configuration_error(stages={1: Stage.PENDING, 9: Stage.CANCELLED})
    assert ("ShopMapping.stages: ShopMapping.order.stage names Sale.state, a VARCHAR(12) column holding str "
            "values, but stages maps 1 (int)") in message


def test_without_a_delivery_date_the_window_counts_from_shipping_else_the_order_date(shop):
    from flask import current_app

    from mirette_returns_plugin import Artist, MiretteReturns, ReturnPolicy, workflow

    placed = {code: shop.db.session.scalar(sa.select(shop.Sale.placed).where(shop.Sale.code == code))
              for code in ("S-2", "S-3")}
    with_date = SQLAlchemyShopAdapter(single_seller_mapping(shop))
    assert with_date.get_order("S-3").parts[0].window_from is None  # mapped but empty: not delivered yet
    no_date = SQLAlchemyShopAdapter(single_seller_mapping(
        shop, order=OrderMap(shop.Sale, **sale_map(delivered_at=None))))
    part = no_date.get_order("S-3").parts[0]
    assert part.delivered_at is None and part.window_from == placed["S-3"].replace(tzinfo=timezone.utc)
    shipped = SQLAlchemyShopAdapter(single_seller_mapping(
        shop, order=OrderMap(shop.Sale, **sale_map(delivered_at=None, shipped_at="arrived_on"))))
    assert shipped.get_order("S-2").parts[0].window_from.date() == (datetime.now(timezone.utc)
                                                                    - timedelta(days=2)).date()
    order = no_date.get_order("S-3")  # placed 8 days ago
    # The rule reads the shop's settings (its legal minimum, none here): mount the plugin.
    MiretteReturns(current_app._get_current_object(), adapter=no_date)

    def reason(days: int) -> str | None:
        artist = Artist(ref="shop", name="The Bookshop", email="books@shop.example",
                        policy=ReturnPolicy(window_days=days))
        return workflow.return_block_reason(order, order.parts[0], artist=artist)

    assert reason(30) is None
    assert "The return period of 7 days ended on" in reason(7)


def vars_of(mapping: ShopMapping) -> dict:
    from dataclasses import fields

    return {f.name: getattr(mapping, f.name) for f in fields(mapping)}


# --------------------------------------------------------------------------- #
# A wrong mapping fails when it is built, with the fix in the message
# --------------------------------------------------------------------------- #

BOOKS = SHOPS["int"]


def configuration_error(**changes) -> str:
    with pytest.raises(ConfigurationError) as error:
        SQLAlchemyShopAdapter(single_seller_mapping(BOOKS, **changes))
    return str(error.value)


def test_a_misspelt_attribute_names_model_attribute_and_fix():
    message = configuration_error(line=LineMap(BOOKS.SaleLine, order_ref="sale_id", product_ref="book_id",
                                               quantity="copys", unit_price="price"))
    assert "ShopMapping.line.quantity: SaleLine has no attribute 'copys'" in message
    assert "did you mean 'copies'?" in message
    assert "constant('copys')" in message


def test_a_query_field_must_be_a_column():
    message = configuration_error(order=OrderMap(BOOKS.Sale, ref="code", buyer_ref="reader", number="code",
                                                 placed_at="placed", currency=constant("EUR"), stage="state"))
    assert "ShopMapping.order.buyer_ref: Sale has no column 'reader' (did you mean 'reader_id'?)" in message
    assert "Name one of its columns (progress, id, code, reader_id, state, placed, arrived_on)" in message


def test_every_problem_is_listed_at_once():
    message = configuration_error(
        line=LineMap(BOOKS.SaleLine, order_ref="sales_id", product_ref="book_id", quantity="copies",
                     unit_price="cost"),
        users=UserMap(current=lambda: None, model=BOOKS.Reader, name="full_name"))
    assert "SaleLine has no column 'sales_id'" in message
    assert "SaleLine has no attribute 'cost'" in message
    assert "Reader has no attribute 'full_name'" in message


@pytest.mark.parametrize(("changes", "expected"), [
    ({"seller": None}, "seller=SingleSeller(ref='shop'"),
    ({"initiate_refund": None}, "ShopMapping.initiate_refund is missing"),
    ({"stages": {"new": "pending"}}, "must map to Stage members"),
    ({"stages": {"new": Stage.PENDING}}, "refused_stage_value is needed"),
    ({"refused_stage_value": "new"}, "must be one that stages maps to Stage.CANCELLED"),
    ({"product": None}, "ShopMapping.line.name is needed"),
    ({"order": OrderMap(BOOKS.Sale, buyer_ref="reader_id", placed_at="placed", number="code",
                        currency=constant("EUR"))}, "ShopMapping.order.stage is needed for a single seller"),
    ({"users": UserMap(current=lambda: None)}, "ShopMapping.users.model is needed"),
    ({"users": UserMap(current=None, model=BOOKS.Reader, name="display_name")}, "users.current must be a function"),
    ({"artists": ArtistMap(BOOKS.Reader)}, "either seller=SingleSeller(...) or parts/artists"),
    ({"order_url": "/sales"}, "ShopMapping.order_url must be a function"),
    ({"line": LineMap(object, name="x")}, "ShopMapping.line.model must be a mapped model class"),
])
def test_incomplete_mappings_say_what_to_add(changes, expected):
    assert expected in configuration_error(**changes)


def test_a_subclass_may_override_a_method_instead_of_giving_a_function():
    class PaysBack(SQLAlchemyShopAdapter):
        def initiate_refund(self, refund: RefundOrder) -> RefundResult:
            return RefundResult(completed=True)

    adapter = PaysBack(single_seller_mapping(BOOKS, initiate_refund=None))
    assert adapter.initiate_refund(None).completed is True  # type: ignore[arg-type]


def test_the_mapping_is_frozen():
    mapping = single_seller_mapping(BOOKS)
    with pytest.raises(AttributeError):
        mapping.order = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        mapping.stages["lost"] = Stage.SHIPPED  # type: ignore[index]


def test_the_ready_adapter_satisfies_the_protocol_checked_at_init_app():
    from mirette_returns_plugin.adapter import ShopAdapter
    from mirette_returns_plugin.extension import check_adapter

    adapter = SQLAlchemyShopAdapter(single_seller_mapping(BOOKS))
    assert isinstance(adapter, ShopAdapter)
    check_adapter(adapter)

