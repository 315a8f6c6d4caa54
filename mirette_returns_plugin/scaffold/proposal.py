"""The proposed mount, as choices: each with its options (the proposal first), why, and whether to check it.

:func:`propose` is pure given a :class:`~.choices.Survey` (what was read from the
shop once) and the answers so far (choice key -> option index): the command
asks a question, records the answer and proposes again, so a different order
model brings its own columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from flask import Flask

from ..adapter import Stage
from ..views import BLUEPRINT_NAME
from . import roles, shop_pages, signed_in, stages
from .choices import Block, Choice, Option, Proposal, Survey
from .fields import FIELDS, MISSING, Context, Pick
from .inventory import ColumnInfo, ModelInfo, split_words

STAGE_NAMES = {stage: f"Stage.{stage.name}" for stage in Stage}


def _model_options(candidates: list[roles.Candidate]) -> list[Option]:
    return [Option(c.model.name, ", ".join(c.reasons), c.model.name) for c in candidates]


def _close(candidates: list[roles.Candidate]) -> bool:
    """Unsure when the runner-up scores nearly as well, or the winner has few clues."""
    return not candidates or candidates[0].score < 4 or (len(candidates) > 1
                                                         and candidates[1].score >= candidates[0].score - 1)


@dataclass
class Roles:
    """The models chosen for each role (``None``: the shop has none)."""

    user: ModelInfo | None
    line: ModelInfo
    order: ModelInfo
    part: ModelInfo | None
    product: ModelInfo | None
    seller: ModelInfo | None
    choices: dict[str, Choice]


def propose(shop: Survey, answers: dict[str, int | str] | None = None) -> Proposal:
    answers = answers or {}
    p = Proposal()
    found = _choose_models(p, answers, shop)
    blocks, page_rule = _blocks_with_keys(p, answers, shop, found)
    _fill_fields(p, answers, shop, found, blocks)
    _stage(p, answers, shop, found.part or found.order, blocks["parts" if found.part else "order"][0])
    if found.seller is None:
        _single_seller(p, shop.app)
    elif found.part is None:
        p.marketplace_without_parts = True
    _order_page(p, shop.app, found.order, page_rule)
    _settings(p, shop.app)
    return p


def _choose_models(p: Proposal, answers: dict[str, int | str], shop: Survey) -> Roles:
    named = {m.name: m for m in shop.models}
    choices: dict[str, Choice] = {}

    user_candidates = roles.users(shop.models)
    choices["users"] = p.choose(answers, "users.model", "Which model holds the people who sign in and buy?",
                                _model_options(user_candidates), _close(user_candidates))
    user = named[choices["users"].picked.source] if user_candidates else None

    line_candidates = roles.lines(shop.models, user)
    if not line_candidates:
        raise LookupError("No model looks like an order line (a quantity and a key to its order): "
                          "write the mapping by hand, see docs/mount.md.")
    choices["line"] = p.choose(answers, "line.model", "Which model holds the lines of an order?",
                               _model_options(line_candidates), _close(line_candidates))
    line = named[choices["line"].picked.source]

    order_candidates = roles.orders(shop.models, line, user)
    if not order_candidates:
        raise LookupError(f"Nothing {line.name} points at looks like an order: write the mapping by hand.")
    choices["order"] = p.choose(answers, "order.model", "Which model holds the orders?",
                                _model_options(order_candidates), _close(order_candidates))
    order = named[choices["order"].picked.source]
    part = roles.part_between(shop.models, line, order)

    taken = {m.name for m in (user, order, part, line) if m is not None}
    product_candidates = roles.products(shop.models, line, taken)
    no_product = Option("None", "the line keeps the name itself", "no product model")
    product_options = [*_model_options(product_candidates), no_product]
    choices["product"] = p.choose(answers, "product.model", "Which model holds the products?", product_options,
                                  _close(product_candidates))
    product = named.get(choices["product"].picked.source)

    pointing = [m for m in (part, product, line) if m is not None]
    seller_candidates = roles.sellers(shop.models, pointing, taken | ({product.name} if product else set()))
    single = Option("single", "no model looks like a seller: the shop sells everything itself",
                    "the shop is the only seller")
    seller_options = [*_model_options(seller_candidates), single]
    if part is None and seller_candidates and seller_candidates[0].score < 3:
        seller_options = [single, *_model_options(seller_candidates)]
    choices["artists"] = p.choose(answers, "artists.model", "Who sells?", seller_options,
                                  bool(seller_candidates) and _close(seller_candidates))
    seller = named.get(choices["artists"].picked.source)
    return Roles(user, line, order, part, product, seller, choices)


def _blocks_with_keys(p: Proposal, answers: dict[str, int | str], shop: Survey,
                      found: Roles) -> tuple[dict[str, tuple[Block, ModelInfo]], tuple[Any, str] | None]:
    """One ``XxxMap`` per model, with the columns that tie them together."""
    user, line, order, part, product, seller = (found.user, found.line, found.order, found.part, found.product,
                                                found.seller)
    blocks: dict[str, tuple[Block, ModelInfo]] = {}

    def block(argument: str, constructor: str, model: ModelInfo, choice: Choice) -> Block:
        made = Block(argument, constructor, [(None, choice)])
        blocks[argument] = (made, model)
        p.blocks.append(made)
        p.import_model(model)
        return made

    order_block = block("order", "OrderMap", order, found.choices["order"])
    _key(p, answers, order_block, order, "id", _primary(order))
    page_rule = order_page_rule(shop.app, order)
    unique_text = [c.name for c in order.columns.values() if c.unique and c.kind == "text"]
    by_page = next((name for name in unique_text if page_rule and name in page_rule[1]), None)
    if by_page and page_rule:
        _fixed(p, order_block, "ref", repr(by_page), f"the shop's order page {page_rule[0].rule} finds orders by "
               f"their unique {by_page}: the plugin's URLs use it too (None would use the id)")
    elif order.primary_key is not None and order.primary_key.kind == "uuid" and unique_text:
        _fixed(p, order_block, "ref", repr(unique_text[0]), f"{order.name}.id is a UUID: the unique "
               f"{unique_text[0]} makes readable URLs (None would use the id)")
    if user is not None:
        _key(p, answers, order_block, order, "buyer_ref", _refs(order, user))
    if part is not None:
        part_block = block("parts", "PartMap", part, p.choose(
            answers, "parts.model", "Which model holds one seller's part of an order?",
            [Option(part.name, f"{line.name} points at it and it points at {order.name}")]))
        _key(p, answers, part_block, part, "id", _primary(part))
        _key(p, answers, part_block, part, "order_ref", _refs(part, order))
        if seller is not None:
            _key(p, answers, part_block, part, "artist_ref", _refs(part, seller))
    line_block = block("line", "LineMap", line, found.choices["line"])
    _key(p, answers, line_block, line, "id", _primary(line))
    if part is not None and not line.refs(order.name):
        _fixed(p, line_block, "order_ref", "None", f"{line.name} points at {part.name}, not at the order")
        _key(p, answers, line_block, line, "part_ref", _refs(line, part))
    else:
        _key(p, answers, line_block, line, "order_ref", _refs(line, order))
    if product is not None:
        _key(p, answers, line_block, line, "product_ref", _refs(line, product))
        product_block = block("product", "ProductMap", product, found.choices["product"])
        _key(p, answers, product_block, product, "id", _primary(product))
        if seller is not None and part is None and product.refs(seller.name):
            _key(p, answers, product_block, product, "artist_ref", _refs(product, seller))
    else:
        _fixed(p, line_block, "product_ref", "'id'", f"{line.name} has no product key", unsure=True)
        named_field = roles.first_column(line, roles.NAME_NAMES, ("text",))
        _fixed(p, line_block, "name", repr(named_field or "name"), "the line's own name", unsure=not named_field)
    if seller is not None:
        seller_block = block("artists", "ArtistMap", seller, found.choices["artists"])
        _key(p, answers, seller_block, seller, "id", _primary(seller))
    if user is not None:
        users_block = block("users", "UserMap", user, found.choices["users"])
        users_block.entries[0] = ("model", found.choices["users"])  # UserMap's first argument is current
        ways = signed_in.find(shop.app, user.cls)
        current = p.choose(answers, "users.current", "How does the shop know who is signed in?",
                           [Option(w.source, w.why) for w in ways], ways[0].unsure)
        users_block.entries.insert(0, ("current", current))
        for import_line in ways[current.chosen].imports:
            module_name, _, name = import_line.removeprefix("from ").partition(" import ")
            if module_name.split(".")[0] in ("flask", "flask_login"):
                p.other_imports.add(import_line)
            else:  # a function of the shop's own, imported with its models
                p.shop_imports.setdefault(module_name, set()).add(name)
        _key(p, answers, users_block, user, "id", _primary(user))
        if seller is not None and user.refs(seller.name):
            _key(p, answers, users_block, user, "artist_ref", _refs(user, seller))
    return blocks, page_rule


def _fill_fields(p: Proposal, answers: dict[str, int | str], shop: Survey, found: Roles,
                 blocks: dict[str, tuple[Block, ModelInfo]]) -> None:
    """Every row of :data:`.fields.FIELDS` whose map the shop has."""
    ctx = Context(single_seller=found.seller is None, distinct=shop.distinct)
    for map_name, field_name, finder in FIELDS:
        argument = {"stage_holder": "parts" if found.part is not None else "order"}.get(map_name, map_name)
        if argument not in blocks:
            continue
        target, model = blocks[argument]
        if any(name == field_name for name, _ in target.entries):
            continue
        picks: list[Pick] = finder(model, ctx)
        if not picks:
            if (map_name, field_name) in MISSING:
                target.notes.append(MISSING[(map_name, field_name)])
            continue
        key = f"{argument}.{field_name}"
        answer = answers.get(key, 0)
        unsure = picks[min(answer, len(picks) - 1)].unsure if isinstance(answer, int) else False
        choice = p.choose(answers, key, f"{target.constructor}.{field_name}?",
                          [Option(pick.source, pick.why) for pick in picks], unsure)
        target.entries.append((field_name, choice))
        p.uses_money = p.uses_money or "_money(" in choice.picked.source
        p.uses_constant = p.uses_constant or choice.picked.source.startswith("constant(")


def _primary(model: ModelInfo) -> list[Option]:
    key = model.primary_key
    return [Option(repr(key.name), f"the primary key of {model.name}")] if key else []


def _refs(model: ModelInfo, target: ModelInfo) -> list[Option]:
    return [Option(repr(c.name), f"{model.name}.{c.name} "
                   + ("has a foreign key to " if c.declared else "is named like a key to ") + target.name)
            for c in model.refs(target.name)]


def _key(p: Proposal, answers: dict[str, int | str], target: Block, model: ModelInfo, name: str,
         options: list[Option]) -> None:
    if not options:
        options = [Option("None", f"no column of {model.name} was found for it")]
    unsure = len(options) > 1 or options[0].source == "None"
    target.entries.append((name, p.choose(answers, f"{target.argument}.{name}", f"{target.constructor}.{name}?",
                                          options, unsure)))


def _fixed(p: Proposal, target: Block, name: str, source: str, why: str, unsure: bool = False) -> None:
    target.entries.append((name, Choice(f"{target.argument}.{name}", "", [Option(source, why)], 0, unsure)))


def _stage(p: Proposal, answers: dict[str, int | str], shop: Survey, holder: ModelInfo, target: Block) -> None:
    columns = stages.status_columns(holder)
    if not columns:
        raise LookupError(f"{holder.name} has no status column (named status, state or stage): write the "
                          "mapping by hand, see docs/mount.md.")
    choice = p.choose(answers, f"{target.argument}.stage", f"Which column of {holder.name} says how far it went?",
                      [Option(repr(c.name), f"{holder.name}.{c.name} holds the status") for c in columns],
                      len(columns) > 1)
    if len(columns) > 1:
        choice.options[0].why += " (shipping statuses say how far an order went better than payment ones)"
    target.entries.append(("stage", choice))
    column = holder.columns[columns[choice.chosen].name]
    if not any(name == "paid" for block in p.blocks for name, _ in block.entries):
        _paid_by_status(p, answers, shop, holder, target, [c for c in columns if c is not column])
    counts = shop.counts(holder, column.name)
    values, constants = stages.propose(holder, column, counts)
    if constants is not None:
        imported = {constants.name.split(".")[0]} if constants.name else set(constants.names.values())
        p.shop_imports.setdefault(constants.module, set()).update(imported)
    else:
        # A value missing here stops every page showing an order that holds it.
        p.stages_note = (f"CHECK: the values {holder.name}.{column.name} holds in the database now; add every "
                         "other value your shop writes")
    stage_list = list(Stage)
    for value in sorted(values, key=lambda v: stage_list.index(v.stage)):
        key = f"stage.{value.value}"
        default = stage_list.index(value.stage)
        rows = "not in the database yet" if value.rows is None else f"{value.rows} row(s) now"
        options = [Option(STAGE_NAMES[stage], f"{value.why} ({rows})" if stage == value.stage
                          else f"answered {stage.value}", stage.value) for stage in stage_list]
        answer = answers.get(key, default)
        # A stage is picked from the list: a typed answer keeps the proposed one.
        chosen = answer if isinstance(answer, int) else default
        choice = Choice(key, f"Stage of {value.source} ({rows})?", options, chosen,
                        value.unsure and key not in answers, value_source=value.source)
        p.choices.append(choice)
        p.stage_choices.append(choice)
    cancelled = [c for c in p.stage_choices if c.picked.source == "Stage.CANCELLED"]
    if not cancelled:
        code = repr("cancelled") if column.kind == "text" else str(
            max([v for v in counts if isinstance(v, int)], default=0) + 10)
        p.stage_choices.append(Choice("stage.cancelled", "", [Option(
            "Stage.CANCELLED", "no value says cancelled yet: this one is written when a seller refuses an order; "
            "put your shop's own")], 0, True, value_source=code))
    elif len(cancelled) > 1:
        best = next((c for c in cancelled if "cancel" in c.value_source.lower()), cancelled[0])
        p.extras.append(("refused_stage_value", Choice("refused_stage_value", "", [Option(
            best.value_source, "several values say cancelled: this one is written when a seller refuses "
            "an order")], 0, True)))


def _paid_by_status(p: Proposal, answers: dict[str, int | str], shop: Survey, holder: ModelInfo, target: Block,
                    others: list[ColumnInfo]) -> None:
    """Without a column of what was paid, a payment status says whether anything was: an unpaid order is then
    cancelled without a refund."""
    for column in others:
        values, constants = stages.paid_values(holder, column, shop.counts(holder, column.name))
        if not values:
            continue
        if constants is not None:
            imported = {constants.name.split(".")[0]} if constants.name else set(values)
            p.shop_imports.setdefault(constants.module, set()).update(imported)
        test = f"== {values[0]}" if len(values) == 1 else f"in ({', '.join(values)})"
        target.entries.append(("paid", p.choose(answers, f"{target.argument}.paid", f"{target.constructor}.paid?", [
            Option(f"lambda row: row.{column.name} {test}", f"{holder.name}.{column.name} says whether the buyer "
                   "paid: an unpaid order is cancelled without a refund (None would count every order as paid)"),
            Option("None", "every order counts as paid")], True)))
        return


def _single_seller(p: Proposal, app: Flask) -> None:
    sender = app.config.get("MIRETTE_RETURNS_MAIL_SENDER") or app.config.get("MAIL_DEFAULT_SENDER")
    if isinstance(sender, (tuple, list)):
        sender = f"{sender[0]} <{sender[1]}>"
    name, email = parseaddr(sender or "")
    unsure = not (name and email)
    name = name or app.name.replace("_", " ").title()
    email = email or "returns@example.com"
    ref = "-".join(split_words(re.sub(r"[^A-Za-z0-9 ]", " ", name))) or "shop"
    source = (f"SingleSeller(\n        ref={ref!r}, name={name!r}, email={email!r},\n"
              "        policy=ReturnPolicy(window_days=30),\n    )")
    p.extras.insert(0, ("seller", Choice("seller", "", [Option(source, (
        "from MAIL_DEFAULT_SENDER" if not unsure else "no sender address in the config") + "; the policy's 30 days "
        "and its other terms are a guess: write your own")], 0, True)))


def order_words(order: ModelInfo) -> set[str]:
    return {w for w in order.words() if w not in ("shop", "my")} | {"order"}


def order_page_rule(app: Flask, order: ModelInfo) -> tuple[Any, str] | None:
    """The shop's page of one order: a GET route with one argument, its endpoint named like the order."""
    words = order_words(order)
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(f"{BLUEPRINT_NAME}."):
            continue  # the plugin's own pages, when it is mounted already
        endpoint = split_words(rule.endpoint.rsplit(".", 1)[-1])
        if endpoint and endpoint[0] in words and len(rule.arguments) == 1 and "GET" in (rule.methods or ()):
            # "order" before "order_detail", "order_detail" before "order_invoice_pdf".
            found.append((len(endpoint), rule.rule, rule))
    if not found:
        return None
    rule = min(found, key=lambda f: (f[0], f[1]))[2]
    return rule, next(iter(rule.arguments))


def _order_page(p: Proposal, app: Flask, order: ModelInfo, page_rule: tuple[Any, str] | None) -> None:
    """``order_url`` and the button's snippet, for the template that shows one order."""
    ref_column = next((choice.picked.source.strip("'") for name, choice in p.blocks[0].entries if name == "ref"),
                      None)
    key = ref_column or (order.primary_key.name if order.primary_key else "id")
    template = shop_pages.order_template(app, order_words(order))
    p.order_template = template
    p.button_ref = f"{template.variable if template else 'order'}.{key}"
    if page_rule is None:
        return
    rule, argument = page_rule
    fits = (ref_column and ref_column in argument) or (not ref_column and "id" in argument)
    p.other_imports.add("from flask import url_for")
    p.extras.append(("order_url", Choice("order_url", "", [Option(
        f"lambda ref: url_for({rule.endpoint!r}, {argument}=ref)",
        f"the shop's page {rule.rule} shows one order")], 0, not fits)))


def _settings(p: Proposal, app: Flask) -> None:
    base, why = shop_pages.layout(app)
    key = "MIRETTE_RETURNS_BASE_TEMPLATE"
    if base:
        p.settings[key] = repr(base)
        p.settings_why[key] = [why]
    else:
        p.settings[key] = repr("mirette_returns/base.html")
        p.settings_why[key] = [f"CHECK: {why}"]
    prefix = app.config.get("MIRETTE_RETURNS_URL_PREFIX")
    p.settings["MIRETTE_RETURNS_URL_PREFIX"] = repr(prefix or "/returns")
    p.settings_why["MIRETTE_RETURNS_URL_PREFIX"] = ["the app already sets it" if prefix else
                                                    "where the plugin's pages live; any free path"]
    if not app.config.get("MAIL_DEFAULT_SENDER") and not app.config.get("MIRETTE_RETURNS_MAIL_SENDER"):
        p.settings["MIRETTE_RETURNS_MAIL_SENDER"] = repr("Returns <returns@example.com>")
        p.settings_why["MIRETTE_RETURNS_MAIL_SENDER"] = ["CHECK: no sender address in the config; emails need one"]
