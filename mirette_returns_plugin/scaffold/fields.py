"""Every mapping field the generator fills by reading a column, in one table.

A row names the map (``order``, ``line``, ``stage_holder`` for the part or,
without one, the order; ``product``, ``users``, ``artists``), the field of
:mod:`~mirette_returns_plugin.sqla_mapping` and how to find its column. To
teach the generator a new field of the mapping, add a row here. Keys and the
stage column are structural and chosen in :mod:`.proposal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .inventory import ModelInfo, split_words
from .roles import NAME_NAMES, QUANTITY_NAMES


@dataclass(frozen=True)
class Pick:
    #: The field's value as Python source (``'qty'``, ``lambda row: _money(row.price_pence)``).
    source: str
    why: str
    unsure: bool = False


@dataclass(frozen=True)
class Context:
    """What a finder may look at besides the model."""

    single_seller: bool
    #: ``distinct(model, column)``: the values a column holds now.
    distinct: Callable[[ModelInfo, str], list[object]]


#: A finder returns every fitting pick, best first (the rest are the alternatives).
Finder = Callable[[ModelInfo, Context], list[Pick]]


def named(names: tuple[str, ...], kinds: tuple[str, ...], what: str) -> Finder:
    def find(model: ModelInfo, ctx: Context) -> list[Pick]:
        found = []
        for name in names:
            column = model.columns.get(name)
            if column is not None and column.kind in kinds and not column.primary_key:
                found.append(Pick(repr(name), f"{model.name}.{name} is the {what}"))
        for column in model.columns.values():
            if column.kind in kinds and not column.primary_key and column.target is None \
                    and repr(column.name) not in {p.source for p in found} \
                    and any(column.name.endswith("_" + n) or column.name.startswith(n + "_") for n in names):
                found.append(Pick(repr(column.name), f"{model.name}.{column.name} looks like the {what}", True))
        return found
    return find


def money(names: tuple[str, ...], what: str) -> Finder:
    """A ``Numeric`` column as it is; integer cents (or pence) divided by 100."""
    def find(model: ModelInfo, ctx: Context) -> list[Pick]:
        found = []
        for column in model.columns.values():
            if column.primary_key or column.target is not None:
                continue
            fits = column.name in names or any(n in column.name for n in names)
            if not fits or set(split_words(column.name)) & {"status", "state", "stage"}:
                continue
            exact = column.name in names
            if column.kind == "numeric":
                found.append(Pick(repr(column.name), f"{model.name}.{column.name} is a Numeric {what}", not exact))
            elif column.kind == "int":
                found.append(Pick(f"lambda row: _money(row.{column.name})",
                                  f"{model.name}.{column.name} is an integer {what} in cents (or pence)",
                                  not any(unit in column.name for unit in ("cents", "pence", "minor"))))
        return sorted(found, key=lambda p: p.unsure)
    return find


def returnable(model: ModelInfo, ctx: Context) -> list[Pick]:
    """A boolean column that says an item can, or cannot, be returned."""
    found = []
    for column in model.columns.values():
        if column.kind != "bool":
            continue
        name = column.name
        if name in ("returnable", "is_returnable", "can_return", "returns_allowed"):
            found.append(Pick(repr(name), f"{model.name}.{name} says whether it can be returned"))
        elif any(word in name for word in ("final_sale", "non_returnable", "not_returnable", "no_return")):
            found.append(Pick(f"lambda row: not row.{name}", f"{model.name}.{name} marks a final sale"))
        elif "gift_card" in name or "digital" in name or "download" in name:
            found.append(Pick(f"lambda row: not row.{name}",
                              f"{model.name}.{name}: gift cards and downloads are usually final", True))
        elif any(word in name for word in MADE_FOR_THE_BUYER):
            found.append(Pick(f"lambda row: not row.{name}", f"{model.name}.{name}: what is made or personalised "
                              "for one buyer is usually a final sale", True))
    return found


#: Words of a yes/no column marking an item made for one buyer (a commission, an engraving).
MADE_FOR_THE_BUYER = ("made_to_order", "custom", "bespoke", "personalised", "personalized", "commission",
                      "engraved", "made_to_measure")


#: Columns holding what the buyer paid (0 until the payment is captured).
PAID_NAMES = ("amount_paid", "paid_amount", "total_paid", "paid_total", "amount_captured", "captured_amount",
              "paid_cents", "amount_paid_cents", "paid_pence")


def paid(model: ModelInfo, ctx: Context) -> list[Pick]:
    """What the buyer paid: an amount column, or a yes/no column; without one, everything counts as paid."""
    found = [Pick(pick.source, f"{pick.why}: an unpaid order is cancelled without a refund", pick.unsure)
             for pick in money(PAID_NAMES, "amount paid")(model, ctx)]
    for name in ("is_paid", "paid"):
        column = model.columns.get(name)
        if column is not None and column.kind == "bool":
            found.append(Pick(repr(name), f"{model.name}.{name} says whether it was paid: an unpaid order is "
                              "cancelled without a refund"))
    return found


def currency(model: ModelInfo, ctx: Context) -> list[Pick]:
    found = named(("currency", "currency_code"), ("text",), "currency")(model, ctx)
    if found:
        return found
    # Without a column, the unit of the prices is the best clue.
    pence = any("pence" in c.name for c in model.columns.values())
    code = "GBP" if pence else "EUR"
    return [Pick(f"constant({code!r})", "no currency column; prices in pence suggest GBP" if pence
                 else "no currency column: EUR is a guess", True)]


def order_number(model: ModelInfo, ctx: Context) -> list[Pick]:
    found = named(("number", "order_number", "reference", "ref", "code"), ("text", "int"),
                  "number printed on the receipt")(model, ctx)
    key = model.primary_key
    if key is not None:
        found.append(Pick(repr(key.name), f"no number column: the buyer sees {model.name}.{key.name} "
                          "as the order's number", True))
    return found


PERSON_FLAGS = {
    "is_support": (("is_support", "support", "is_admin", "admin", "is_superuser", "is_owner"),
                   ("support", "admin", "owner", "superuser", "manager")),
    "is_seller": (("is_staff", "staff", "is_seller", "is_admin", "admin", "is_employee"),
                  ("staff", "admin", "owner", "seller", "manager", "employee", "support", "superuser", "packer")),
}
#: Role values that are plain customers.
CUSTOMER_ROLES = {"customer", "buyer", "user", "member", "client", "guest", ""}


def person_flag(flag: str) -> Finder:
    """A boolean column, or the role values (read in the database) that make a person staff or support."""
    columns, role_words = PERSON_FLAGS[flag]

    def find(model: ModelInfo, ctx: Context) -> list[Pick]:
        if flag == "is_seller" and not ctx.single_seller:
            return []
        found = [Pick(repr(name), f"{model.name}.{name} is a yes/no column") for name in columns
                 if name in model.columns and model.columns[name].kind == "bool"]
        for column in model.columns.values():
            if column.kind != "text" or column.name not in ("role", "roles", "kind", "type", "user_type", "group"):
                continue
            values = [str(v) for v in ctx.distinct(model, column.name)]
            if flag == "is_seller":
                chosen = [v for v in values if v.lower() not in CUSTOMER_ROLES]
            else:
                chosen = [v for v in values if v.lower() in role_words]
            if chosen:
                found.append(Pick(f"lambda row: row.{column.name} in {tuple(sorted(chosen))!r}",
                                  f"{model.name}.{column.name} holds {', '.join(map(repr, sorted(values)))}", True))
        return found
    return find


delivered_at = named(("delivered_at", "delivery_date", "delivered_on", "delivered", "received_at"),
                     ("datetime", "date"), "delivery date")


def shipped_at(model: ModelInfo, ctx: Context) -> list[Pick]:
    """Read only without a delivery date: the return window then counts from the shipping."""
    if delivered_at(model, ctx):
        return []
    return named(("shipped_at", "shipped_on", "dispatched_at", "posted_at", "sent_at"), ("datetime", "date"),
                 "shipping date")(model, ctx)


#: (map, field, finder). The order of rows is the order of the lines in the generated file.
FIELDS: tuple[tuple[str, str, Finder], ...] = (
    ("order", "number", order_number),
    ("order", "placed_at", named(("placed_at", "ordered_at", "created_at", "created", "date", "created_on",
                                  "placed_on", "timestamp"), ("datetime", "date"), "date the order was placed")),
    ("order", "currency", currency),
    ("stage_holder", "delivered_at", delivered_at),
    ("stage_holder", "shipped_at", shipped_at),
    ("stage_holder", "delivery_cost", money(("delivery_cost", "shipping_cost", "postage", "shipping_fee",
                                             "delivery_fee", "shipping_price", "delivery_price", "shipping"),
                                            "delivery cost")),
    ("order", "paid", paid),
    ("parts", "paid", paid),
    ("line", "quantity", named(QUANTITY_NAMES, ("int", "numeric"), "quantity bought")),
    ("line", "unit_price", money(("unit_price", "price", "unit_amount", "amount", "price_each"), "unit price")),
    ("line", "variant", named(("variant", "size", "option", "colour", "color", "variant_name"), ("text",),
                              "variant (size, colour)")),
    ("line", "returnable", returnable),
    ("product", "name", named(NAME_NAMES, ("text",), "product's name")),
    ("product", "returnable", returnable),
    ("users", "name", named((*NAME_NAMES, "first_name"), ("text",), "person's name")),
    ("users", "email", named(("email", "email_address", "mail"), ("text",), "email address")),
    ("users", "locale", named(("locale", "language", "lang", "preferred_language"), ("text",), "language")),
    ("users", "is_seller", person_flag("is_seller")),
    ("users", "is_support", person_flag("is_support")),
    ("artists", "name", named((*NAME_NAMES, "shop_name", "store_name"), ("text",), "seller's name")),
    ("artists", "email", named(("email", "email_address", "contact_email"), ("text",), "seller's email")),
)

#: What a missing column means for the buyer, written as a CHECK where the field would be.
MISSING: dict[tuple[str, str], str] = {
    ("stage_holder", "delivered_at"): "no delivery date column was found: the return window counts from "
                                      "shipped_at when it is given, else from placed_at (the order date)",
    ("line", "unit_price"): "no unit price column was found: give unit_price=lambda row: ...",
    ("users", "email"): "no email column was found: the plugin emails buyers, give email=...",
}
