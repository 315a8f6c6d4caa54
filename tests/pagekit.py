"""Reading the plugin's pages in tests: a small HTML tree, forms, images, query counts.

Only the standard library's HTML parser: the pages are read the way a person
or a browser reads them (text, elements, attributes), not by string search.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from PIL import Image, PngImagePlugin
from werkzeug.test import TestResponse

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

HTMX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
HISTORY_RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def in_english(client: FlaskClient) -> FlaskClient:
    """Show the pages in English, whatever the account's language (the tests
    read English words and amounts; the French catalogue has its own tests)."""
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client


@pytest.fixture
def client_as(client_as):
    """The shared ``client_as``, its pages in English."""

    def make(email: str | None) -> FlaskClient:
        return in_english(client_as(email))

    return make


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.attrs

    @property
    def text(self) -> str:
        """The visible words inside, whitespace collapsed."""
        parts: list[str] = []

        def walk(node: Node) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag not in ("script", "style", "template"):
                    walk(child)

        walk(self)
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Node]:
        """Elements by tag and attributes (``class_`` matches one class;
        ``True`` means "present")."""
        found = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if all(_matches(node, name, value) for name, value in attrs.items()):
                found.append(node)
        return found

    def find(self, tag: str | None = None, **attrs: str | bool) -> Node | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_id(self, ident: str) -> Node | None:
        return self.find(id=ident)

    def one(self, tag: str | None = None, **attrs: str | bool) -> Node:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]


def _matches(node: Node, name: str, value: str | bool) -> bool:
    name = name.rstrip("_").replace("_", "-") if name != "class_" else "class"
    if value is True:
        return name in node.attrs
    actual = node.attrs.get(name)
    if actual is None:
        return False
    if name == "class":
        return str(value) in actual.split()
    return actual == value


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), parent=self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, dict(attrs), parent=self.current))

    def handle_endtag(self, tag: str) -> None:
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str | TestResponse) -> Node:
    if isinstance(html, TestResponse):
        html = html.get_data(as_text=True)
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def text_of(response: TestResponse) -> str:
    return parse(response).text


def form_values(form: Node) -> dict[str, str]:
    """What a browser would send for ``form`` (first value per name, files left out)."""
    values: dict[str, str] = {}
    for node in form.iter():
        name = node.get("name")
        if not name or node.has("disabled"):
            continue
        if node.tag == "input":
            kind = (node.get("type") or "text").lower()
            if kind == "file" or kind == "submit":
                continue
            if kind in ("checkbox", "radio") and not node.has("checked"):
                continue
            values.setdefault(name, node.get("value") or ("on" if kind == "checkbox" else ""))
        elif node.tag == "textarea":
            values.setdefault(name, node.text)
        elif node.tag == "select":
            options = node.find_all("option")
            chosen = next((o for o in options if o.has("selected")), options[0] if options else None)
            values.setdefault(name, (chosen.get("value") or "") if chosen else "")
    return values


def submit(client: FlaskClient, form: Node, *, headers: dict[str, str] | None = None,
           files: list[tuple[bytes, str]] | None = None, **changes: str) -> TestResponse:
    """Post ``form`` as a browser would, with ``changes`` typed in and ``files`` chosen."""
    data: dict[str, object] = {**form_values(form), **changes}
    if files is not None:
        data["photos"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(form.get("action") or "", data=data, headers=headers or {},
                       content_type="multipart/form-data")


@contextmanager
def another_app(config: dict) -> Iterator:
    """A second demo app on the test's database, closed after use."""
    from mirette_returns_plugin.demo import create_app
    from mirette_returns_plugin.demo.models import db

    other = create_app(config)
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


# --------------------------------------------------------------------------- #
# Images made here, so no binary fixture is needed
# --------------------------------------------------------------------------- #

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_metadata(width: int = 60, height: int = 30, *, orientation: int = 6) -> bytes:
    """A JPEG whose left half is red and right half blue, with EXIF
    orientation, GPS position, camera make and a comment."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "SnoopCam"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"secret comment", quality=95)
    return out.getvalue()


def png_with_text(width: int = 40, height: int = 40) -> bytes:
    image = Image.new("RGBA", (width, height), (10, 200, 30, 255))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Camille's phone")
    info.add_text("Location", "12 rue Secret")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def webp_image(width: int = 32, height: int = 24) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="WEBP")
    return out.getvalue()


def plain_jpeg(width: int = 20, height: int = 20) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 120, 120)).save(out, format="JPEG")
    return out.getvalue()


def huge_png(side: int = 7000) -> bytes:
    """Few bytes, many pixels: a decompression bomb in miniature."""
    out = io.BytesIO()
    Image.new("1", (side, side), 0).save(out, format="PNG", optimize=True)
    return out.getvalue()


# --------------------------------------------------------------------------- #
# SQL statements
# --------------------------------------------------------------------------- #


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(engine: sa.Engine) -> Iterator[StatementLog]:
    log = StatementLog()

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        log.statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# --------------------------------------------------------------------------- #
# Many rows at once (lists and query counts), written straight to the tables
# --------------------------------------------------------------------------- #


def insert_requests(count: int, *, artist_ref: str, buyer_ref: str, start=None, **columns) -> list[int]:
    """``count`` plain return requests, one minute of activity apart (newest last)."""
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    from mirette_returns_plugin.models import Request
    from mirette_returns_plugin.state import current_state

    db = current_state().session
    start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = []
    for index in range(count):
        moment = start + timedelta(minutes=index)
        values = dict(
            kind="return", status="requested", order_ref="9999", order_number=f"MIR-X{index:03d}",
            artist_ref=artist_ref, artist_name="Atelier Lune", artist_email="lune@artists.example",
            buyer_ref=buyer_ref, buyer_name="Camille Martin", buyer_email="camille@buyers.example",
            currency="EUR", line_ref=f"x{index}", product_ref="1", product_name=f"Mug {index}", quantity=1,
            unit_price=Decimal("24.00"), reason_code="other", created_at=moment, last_activity_at=moment,
        )
        values.update(columns)
        rows.append(Request(**values))
    db.add_all(rows)
    db.commit()
    return [row.id for row in rows]


def insert_messages(request_id: int, count: int, *, author_ref: str, author_role: str = "buyer") -> None:
    from datetime import datetime, timedelta, timezone

    from mirette_returns_plugin.models import Message
    from mirette_returns_plugin.state import current_state

    db = current_state().session
    start = datetime(2026, 2, 1, tzinfo=timezone.utc)
    db.add_all([
        Message(request_id=request_id, author_role=author_role, author_ref=author_ref, author_name="Someone",
                body=f"Message number {index}", created_at=start + timedelta(seconds=index))
        for index in range(count)
    ])
    db.commit()


def poll_of(client: FlaskClient, request_id: int) -> tuple[str, dict[str, str]]:
    """The details page's poll, as htmx sends it: its URL, and the headers
    (``HX-Request`` and the key from ``hx-headers``)."""
    import json

    poller = parse(client.get(f"/returns/requests/{request_id}")).by_id("mr-poll")
    return poller.get("hx-get"), {**HTMX, **json.loads(poller.get("hx-headers") or "{}")}
