"""The two example shops, driven the same way: through their pages, like a person.

:class:`ShopUnderTest` says, for one shop, who its people are, which order
and line a flow works on, how to sign in with the shop's own login, and how
the shop records a refund and marks it paid. :class:`Page` reads the HTML a
browser would get: visible text, links, and forms filled in from their own
fields (a test cannot post a field the form does not have).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mirette_returns_plugin.adapter import Stage, User
from mirette_returns_plugin.state import current_state

# --------------------------------------------------------------------------- #
# Reading pages
# --------------------------------------------------------------------------- #


@dataclass
class Form:
    attributes: dict[str, str]
    #: (name, type, value, checked) of every input, textarea and select option.
    fields: list[tuple[str, str, str, bool]] = field(default_factory=list)
    text: str = ""

    @property
    def action(self) -> str:
        return self.attributes.get("action", "")

    def names(self) -> set[str]:
        return {name for name, *_ in self.fields}

    def data(self, **values: str) -> dict[str, str]:
        """What a browser posts, with ``values`` typed or chosen by the person."""
        unknown = set(values) - self.names()
        assert not unknown, f"the form {self.action} has no field {unknown}; it has {sorted(self.names())}"
        data: dict[str, str] = {}
        for name, kind, value, checked in self.fields:
            if kind in ("radio", "option"):
                if name in values:
                    continue
                if checked or (kind == "option" and name not in data):
                    data[name] = value
            elif kind == "checkbox":
                if checked and name not in values:
                    data[name] = value
            elif kind not in ("submit", "button", "file"):
                data.setdefault(name, value)
        for name, value in values.items():
            choices = [v for n, kind, v, _ in self.fields if n == name and kind in ("radio", "option")]
            assert not choices or value in choices, f"{name}={value!r} is not one of {choices}"
            data[name] = value
        return data


class Page(HTMLParser):
    """The parts of an HTML page a test looks at."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.url = ""
        self.status = 200
        self.forms: list[Form] = []
        self.links: list[tuple[str, str]] = []  # (text, href)
        self._chunks: list[str] = []
        self._form: Form | None = None
        self._link: tuple[str, list[str]] | None = None
        self._select: str | None = None
        self._textarea: list[Any] | None = None
        self._option: list[Any] | None = None
        self._skip = 0
        self.feed(html)
        self.text = " ".join(" ".join(self._chunks).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "form":
            self._form = Form(a)
            self.forms.append(self._form)
        elif tag == "a" and "href" in a:
            self._link = (a["href"], [])
        elif self._form is not None and tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit")
            self._form.fields.append((a["name"], kind, a.get("value", "on" if kind == "checkbox" else ""),
                                      "checked" in a))
        elif self._form is not None and tag == "select":
            self._select = a.get("name")
        elif self._form is not None and tag == "option" and self._select:
            self._option = [self._select, a.get("value"), "selected" in a, []]
        elif self._form is not None and tag == "textarea":
            self._textarea = [a.get("name", ""), []]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "form":
            self._form = None
        elif tag == "a" and self._link is not None:
            href, words = self._link
            self.links.append((" ".join(" ".join(words).split()), href))
            self._link = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None and self._form is not None:
            name, value, selected, words = self._option
            label = " ".join(" ".join(words).split())
            self._form.fields.append((name, "option", label if value is None else value, selected))
            self._option = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], "textarea", "".join(self._textarea[1]), False))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._chunks.append(data)
        if self._link is not None:
            self._link[1].append(data)
        if self._option is not None:
            self._option[3].append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._form is not None:
            self._form.text += data

    def link(self, text: str) -> str:
        found = [href for words, href in self.links if words == text]
        assert found, f"no link {text!r} on the page; links: {[w for w, _ in self.links]}"
        return found[0]

    def form(self, predicate: Callable[[Form], bool], what: str = "") -> Form:
        found = [form for form in self.forms if predicate(form)]
        assert found, f"no form {what} on the page; forms: {[f.action for f in self.forms]}"
        return found[0]

    def action_form(self, action: str) -> Form:
        return self.form(lambda f: f.action.endswith(f"/actions/{action}"), f"for the step {action!r}")


def read(response: TestResponse) -> Page:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    page = Page(response.get_data(as_text=True))
    page.url = response.request.path
    page.status = response.status_code
    # A form without an action posts back to the page it is on.
    here = response.request.full_path.rstrip("?")
    for form in page.forms:
        form.attributes["action"] = urljoin(here, form.attributes.get("action") or here)
    return page


def submit(client: FlaskClient, form: Form, **values: str) -> Page:
    """Post ``form`` as a browser would, and follow the redirect."""
    return read(client.post(form.action, data=form.data(**values), follow_redirects=True))


# --------------------------------------------------------------------------- #
# The shops
# --------------------------------------------------------------------------- #


@dataclass
class ShopUnderTest:
    """One example shop and the people and orders its flows use."""

    name: str
    app: Flask
    buyer: str
    seller: str
    support: str
    #: Number of a delivered order whose ``line_product`` can be returned (2 bought or more).
    delivered_order: str
    line_product: str
    #: Number of an order whose seller has not processed it yet.
    pending_order: str
    #: The shop's own pages.
    sign_in: Callable[[FlaskClient, str], None]
    order_page: Callable[[str], str]
    refunds_page: str
    #: The shop's own records, read from its own tables.
    raw_stage: Callable[[str], object]
    refund_rows: Callable[[], list[tuple[str, Decimal, bool]]]
    cancelled_value: object
    #: Who may use ``refunds_page`` (the seller, unless the shop keeps it to its staff).
    payer: str | None = None
    _users: dict[str, User] = field(default_factory=dict)

    def ctx(self):
        """A request context of the shop, for calling the plugin's functions.

        Never hold one open around test-client requests: a request reuses an
        open app context, and with it ``g`` and the database session.
        """
        return self.app.test_request_context()

    def client(self, email: str) -> FlaskClient:
        client = self.app.test_client()
        self.sign_in(client, email)
        return client

    def user(self, email: str) -> User:
        """The plugin's view of a person, found by the shop's own login."""
        if email in self._users:
            return self._users[email]
        client = self.client(email)
        with client:
            client.get("/")  # the request context stays open with the login cookie
            found = current_state().adapter.current_user()
        assert found is not None and found.email == email
        self._users[email] = found
        return found

    def order(self, number: str):
        """The plugin's view of an order, by the number printed on the receipt."""
        buyer_ref = self.user(self.buyer).ref
        with self.ctx():
            for order in current_state().adapter.orders_for_buyer(buyer_ref):
                if order.number == number:
                    return order
        raise AssertionError(f"{number} is not an order of {self.buyer}")

    def line(self, number: str, product: str):
        order = self.order(number)
        return order, next(line for part in order.parts for line in part.lines if line.product_name == product)


def _demo_sign_in(client: FlaskClient, email: str) -> None:
    page = read(client.get("/switch"))
    form = page.form(lambda f: email in f.text and "account_id" in f.names(), f"to sign in as {email}")
    after = submit(client, form)
    # Signed in, the demo leaves the switch page for the account's landing page.
    assert after.url != "/switch" and after.status == 200, after.text[:500]


def demo_shop(app: Flask) -> ShopUnderTest:
    from mirette_returns_plugin.demo.models import PaymentRefund, Shipment, ShopOrder, db
    from tests.shop import CAMILLE, LUNE, SUPPORT

    def raw_stage(number: str) -> object:
        with app.app_context():
            return db.session.scalar(sa.select(Shipment.state).join(ShopOrder, Shipment.order_id == ShopOrder.id)
                                     .where(ShopOrder.number == number).order_by(Shipment.id).limit(1))

    def order_page(number: str) -> str:
        with app.app_context():
            return f"/orders/{db.session.scalar(sa.select(ShopOrder.id).where(ShopOrder.number == number))}"

    def refunds() -> list[tuple[str, Decimal, bool]]:
        with app.app_context():
            return [(r.idempotency_key, r.amount, r.paid) for r in db.session.scalars(sa.select(PaymentRefund))]

    return ShopUnderTest(
        name="demo", app=app, buyer=CAMILLE, seller=LUNE, support=SUPPORT,
        delivered_order="MIR-1004", line_product="Speckled mug", pending_order="MIR-1001",
        sign_in=_demo_sign_in, order_page=order_page, refunds_page="/payments/",
        raw_stage=raw_stage, refund_rows=refunds, cancelled_value="cancelled", payer=SUPPORT,
    )


def _corner_sign_in(client: FlaskClient, email: str) -> None:
    from examples.corner_shop.seed import PASSWORD

    page = read(client.get("/login"))
    form = page.form(lambda f: "password" in f.names(), "to sign in")
    after = submit(client, form, email=email, password=PASSWORD)
    assert "Sign out" in after.text, after.text[:500]


def corner_shop(app: Flask) -> ShopUnderTest:
    from examples.corner_shop.models import Purchase, Status, TillRefund, db

    def raw_stage(number: str) -> object:
        with app.app_context():
            return db.session.scalar(sa.select(Purchase.status).where(Purchase.number == number))

    def refunds() -> list[tuple[str, Decimal, bool]]:
        with app.app_context():
            return [(r.key, Decimal(r.amount_pence).scaleb(-2), r.paid_at is not None)
                    for r in db.session.scalars(sa.select(TillRefund))]

    return ShopUnderTest(
        name="corner", app=app, buyer="ada@customers.example", seller="priya@cornertea.example",
        support="margaret@cornertea.example",
        delivered_order="CT-1042", line_product="Assam Breakfast", pending_order="CT-1041",
        sign_in=_corner_sign_in, order_page=lambda number: f"/account/purchases/{number}",
        refunds_page="/till", raw_stage=raw_stage, refund_rows=refunds, cancelled_value=Status.CANCELLED,
    )


def reset_corner_shop(app: Flask) -> None:
    """Create the corner shop's tables if needed, empty them and the plugin's, seed."""
    from examples.corner_shop.models import db
    from examples.corner_shop.seed import seed

    reset_example_shop(app, db, seed)


def reset_example_shop(app: Flask, db: Any, seed: Callable[[], None]) -> None:
    """Create an example shop's tables if needed, empty them and the plugin's, seed."""
    from mirette_returns_plugin.models import Base as ReturnsBase

    with app.app_context():
        db.create_all()
        with db.engine.begin() as connection:
            for table in [*reversed(ReturnsBase.metadata.sorted_tables), *reversed(db.metadata.sorted_tables)]:
                connection.execute(table.delete())
        seed()
        db.session.remove()


def stage_of(order: Any) -> Stage:
    (part,) = order.parts
    return part.stage


def iter_lines(order: Any) -> Iterator[Any]:
    for part in order.parts:
        yield from part.lines
