"""Mount the written mapping in memory, say what the mount checks find, show an order as its buyer would.

Nothing is written to the database and no file of the shop changes. When
the app already mounts the plugin, its adapter is swapped for the proposed
one for the length of the check and put back after; otherwise the plugin is
mounted on the app object this command loaded, which ends with the command.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from flask import Flask, url_for
from jinja2 import TemplateError

from .. import config as defaults
from ..adapter import Order, User
from ..errors import ConfigurationError, MiretteReturnsError
from ..models import Request
from ..mount import check_adapter, mount
from ..mount_checks import SETTING, base_template_problem
from ..state import EXTENSION_KEY
from ..views import BLUEPRINT_NAME, order_page


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load(path: Path) -> ModuleType:
    """Import the written file under a name of its own (never cached as the shop's module)."""
    name = f"_mirette_returns_init_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, MiretteReturnsError) else f"{type(error).__name__}: {error}"


@contextmanager
def mounted(app: Flask, adapter: Any, settings: dict[str, str] | None = None) -> Iterator[None]:
    """The plugin on ``app`` with ``adapter``, for the length of the block.

    On an app that does not mount it yet, the proposed ``settings`` (Python
    literals, as written in the file) are used, so pages render in the shop's layout.
    """
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        for key, source in (settings or {}).items():
            app.config.setdefault(key, ast.literal_eval(source))
        mount(app, adapter)
        yield
        return
    original = state.adapter
    state.adapter = adapter
    try:
        yield
    finally:
        state.adapter = original


def check(app: Flask, path: Path, settings: dict[str, str]) -> tuple[Report, Any]:
    """Import the file and run every check a mount runs, plus reading one order."""
    report = Report()
    try:
        module = load(path)
    except Exception as error:  # the file is the shop's to fix: say what broke, never a traceback
        report.problems.append(f"Importing {path} failed: {_describe(error)}")
        return report, None
    adapter = getattr(module, "adapter", None)
    try:
        check_adapter(adapter)
    except ConfigurationError as error:
        report.problems.append(str(error))
        return report, None
    report.notes.append("The mapping fits the models: every model and column it names exists.")
    base = app.config.get(SETTING) or _literal(settings.get(SETTING))
    if base == defaults.BASE_TEMPLATE:
        report.notes.append(f"The plugin's own plain layout is used: set {SETTING} to render its pages in yours.")
    elif base:
        try:
            problem = base_template_problem(app.jinja_env, base)
        except TemplateError as error:
            problem = f"The base template {base!r} cannot be read: {error}"
        if problem:
            report.problems.append(problem)
        else:
            report.notes.append(f"The layout {base} has the blocks the plugin's pages fill.")
    with app.app_context():
        _read_one_order(app, adapter, report)
    return report, adapter


def _literal(source: str | None) -> str | None:
    return source.strip("'\"") if source else None


def _read_one_order(app: Flask, adapter: Any, report: Report) -> None:
    order_map = adapter.mapping.order
    session = app.extensions["sqlalchemy"].session
    try:
        key = getattr(order_map.model, order_map.ref or order_map.id)
        ref = session.scalar(sa.select(key).order_by(key).limit(1))
        if ref is None:
            report.notes.append("No order in the database yet: reading one was not tried.")
            return
        with app.test_request_context():
            order = adapter.get_order(str(ref))
        lines = sum(len(part.lines) for part in order.parts) if order else 0
        report.notes.append(f"Order {ref} reads: {len(order.parts) if order else 0} part(s), {lines} line(s).")
    except Exception as error:  # a wrong guess in the mapping: say which, the command continues
        report.problems.append(f"Reading an order with the mapping failed: {_describe(error)}")
    finally:
        session.rollback()


class _AsBuyer:
    """The proposed adapter, with the order's buyer signed in."""

    def __init__(self, adapter: Any, buyer: User) -> None:
        self._adapter = adapter
        self._buyer = buyer

    def current_user(self) -> User:
        return self._buyer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)


def try_order(app: Flask, adapter: Any, order_ref: str, settings: dict[str, str] | None = None) -> list[str]:
    """The Return Request page of one order, rendered in memory, as text lines for the terminal."""
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        if not sa.inspect(db.engine).has_table(Request.__tablename__):
            return ["The plugin's tables are not in the database yet: run `flask mirette-returns db upgrade`, "
                    "then --try again."]
        try:
            with app.test_request_context():
                order: Order | None = adapter.get_order(order_ref)
            if order is None:
                column = adapter.mapping.order.ref or adapter.mapping.order.id
                return [f"No order {order_ref!r}: the mapping looks orders up by {column}."]
            buyer = User(ref=order.buyer_ref, name=order.buyer_name, email=order.buyer_email,
                         locale=order.buyer_locale)
            with mounted(app, _AsBuyer(adapter, buyer), settings):
                with app.test_request_context():
                    page = order_page.build(buyer, order.ref)
                    url = url_for(f"{BLUEPRINT_NAME}.order_requests", order_ref=order.ref)
                    shown = _describe_page(page)
                response = app.test_client().get(url)
            status = response.status_code
            shown.append(f"The page {url} rendered in memory: HTTP {status}"
                         + (", in the shop's layout." if status == 200 else
                            f": {response.get_data(as_text=True)[:300]}"))
            return shown
        except Exception as error:  # a wrong guess in the mapping: say it, never a traceback
            return [f"Showing order {order_ref!r} failed: {_describe(error)}"]
        finally:
            db.session.rollback()


def _describe_page(page: Any) -> list[str]:
    order = page.order
    out = [f"Order {order.number} (ref {order.ref}), placed {order.placed_at:%Y-%m-%d}, bought by "
           f"{order.buyer_name} <{order.buyer_email}>: what the buyer sees on its Return Request page"]
    for part in page.parts:
        out.append(f"  Sold by {part.artist_name}: {part.stage_label}"
                   + (f", delivered {part.part.delivered_at:%Y-%m-%d}" if part.part.delivered_at else ""))
        for line in part.lines:
            item = line.line
            name = item.product_name + (f" ({item.variant})" if item.variant else "")
            if line.can_request:
                verdict = f"{line.returnable} of {line.bought} can be returned"
            else:
                verdict = f"cannot be returned: {line.block_reason or 'every unit is already under a request'}"
            out.append(f"    {name}, {item.quantity} x {item.unit_price} {item.currency}: {verdict}")
        out.append("    Can be cancelled." if part.can_cancel else
                   f"    Cannot be cancelled: {part.cancel_block or 'a cancellation is already open'}")
    return out
