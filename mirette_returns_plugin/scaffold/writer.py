"""``returns_mapping.py``: the proposal as a file the shop owns and edits.

Each choice is one line of code with its reason on the line above, so a
change is a one-line edit; every guess is marked ``# CHECK:``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from datetime import datetime, timezone

from .choices import Choice, Proposal

INDENT = "    "
WIDTH = 110

HEADER = '''"""How {app} mounts mirette-returns.

Proposed by `flask mirette-returns init` on {date}. This file is yours: read every
comment, above all those marked CHECK, and change what is wrong. To start over (this
file is overwritten):

    flask{app_option} mirette-returns init --output {output} --force

1. Settings to add to the app's config:

{settings}

2. Mount the plugin in the app factory, after db.init_app(app):

    from mirette_returns_plugin import MiretteReturns
    from {module} import adapter

    MiretteReturns(app, adapter=adapter)

3. The Return Request button, {where}:

    {{% from "mirette_returns/macros.html" import return_request_button %}}
    {{{{ return_request_button({button_ref}|string) }}}}

4. Then run:

    flask{app_option} mirette-returns db upgrade          # create the plugin's tables
    flask{app_option} mirette-returns send-emails --loop  # the email worker

   (or set MIRETTE_RETURNS_SEND_EMAILS_ON_COMMIT = True to send from the web process too).
"""
'''

REFUND = '''

def initiate_refund(refund: RefundOrder) -> RefundResult:
    """Start the refund of ``refund.amount`` to the buyer of ``refund.order_ref``."""
    # CHECK: call your payment provider here (with refund.idempotency_key, so a retry never pays twice).
    # Until then the refund waits: pay it back by hand, then call
    # mirette_returns_plugin.confirm_refund(refund.idempotency_key) to mark it done.
    return RefundResult(reference=None, completed=False)
'''

MONEY = '''

def _money(minor_units: int | None) -> Decimal:
    """An amount kept in cents (or pence), as a Decimal."""
    return Decimal(minor_units or 0).scaleb(-2)
'''

REFUSE_PART = '''

def refuse_part(order_ref: str, artist_ref: str) -> None:
    """Cancel one seller's items of an order, when the seller refuses it."""
    # CHECK: several sellers share one order status here: write how your shop cancels one seller's items.
    raise AdapterError("Cancelling one seller's items of an order is not connected yet.")
'''


def _import(module: str, names: Iterable[str]) -> str:
    line = f"from {module} import {', '.join(sorted(names))}"
    if len(line) <= WIDTH:
        return line
    wrapped = textwrap.wrap(", ".join(sorted(names)) + ",", WIDTH - len(INDENT))
    return f"from {module} import (\n" + "\n".join(INDENT + part for part in wrapped) + "\n)"


def _comment(text: str, depth: int) -> list[str]:
    prefix = INDENT * depth + "# "
    return textwrap.wrap(text, WIDTH - len(prefix), initial_indent=prefix, subsequent_indent=prefix + "  ")


def _entry(name: str | None, choice: Choice, depth: int, stage: bool = False) -> list[str]:
    text = choice.picked.why if stage else choice.comment
    if stage and choice.unsure:
        text = f"CHECK: {text}"
    code = choice.picked.source if name is None else f"{name}={choice.picked.source}"
    return [*_comment(text, depth), f"{INDENT * depth}{code},"]


def render(p: Proposal, *, app_name: str, app_option: str, output: str, module: str) -> str:
    settings = "\n".join(
        "\n".join([*(f"    # {why}" for why in p.settings_why.get(key, ())), f"    {key} = {value}"])
        for key, value in p.settings.items())
    where = (f"in {p.order_template.name} (the template that shows an order)" if p.order_template
             else "in the template that shows one order (none was found by its name)")
    text = HEADER.format(app=app_name, date=datetime.now(timezone.utc).strftime("%Y-%m-%d"), app_option=app_option,
                         output=output, settings=settings, module=module, where=where, button_ref=p.button_ref)
    constructors = sorted({b.constructor for b in p.blocks} | {"ShopMapping", "SQLAlchemyShopAdapter"}
                          | ({"SingleSeller"} if any(n == "seller" for n, _ in p.extras) else set())
                          | ({"constant"} if p.uses_constant else set()))
    lines = [text, "from __future__ import annotations", ""]
    if p.uses_money:
        lines += ["from decimal import Decimal", ""]
    plugin = ["RefundOrder", "RefundResult", "Stage"]
    if any(n == "seller" for n, _ in p.extras):
        plugin.append("ReturnPolicy")
    if p.marketplace_without_parts:
        plugin.append("AdapterError")
    lines += sorted(p.other_imports)
    lines.append(_import("mirette_returns_plugin", plugin))
    lines.append(_import("mirette_returns_plugin.sqla_adapter", constructors))
    lines.append("")
    lines += [_import(module_name, p.shop_imports[module_name]) for module_name in sorted(p.shop_imports)]
    body = "\n".join(lines) + "\n"
    if p.uses_money:
        body += MONEY
    body += REFUND
    if p.marketplace_without_parts:
        body += REFUSE_PART
    out = ["", "", "mapping = ShopMapping("]
    for block in p.blocks:
        out.append(f"{INDENT}{block.argument}={block.constructor}(")
        for name, choice in block.entries:
            out += _entry(name, choice, 2)
        for note in block.notes:
            out += _comment(f"CHECK: {note}", 2)
        out.append(f"{INDENT}),")
    if p.stages_note:
        out += _comment(p.stages_note, 1)
    out.append(f"{INDENT}stages={{")
    for choice in p.stage_choices:
        out += [*_comment(("CHECK: " if choice.unsure else "") + choice.picked.why, 2),
                f"{INDENT * 2}{choice.value_source}: {choice.picked.source},"]
    out.append(f"{INDENT}}},")
    for name, choice in p.extras:
        out += _entry(name, choice, 1)
    out += _comment("The buyer describes the replacement of an exchange in words; give "
                    "exchange_options=function(line row) -> [ExchangeOption, ...] to offer your variants.", 1)
    out.append(f"{INDENT}initiate_refund=initiate_refund,")
    if p.marketplace_without_parts:
        out.append(f"{INDENT}refuse_part=refuse_part,")
    out += [")", "", "adapter = SQLAlchemyShopAdapter(mapping)", ""]
    return body + "\n".join(out)
