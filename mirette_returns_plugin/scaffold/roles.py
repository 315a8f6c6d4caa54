"""Which model holds what: orders, their lines, the buyers, the products, the sellers.

Each role gets its candidates ranked by a score made of plain clues (a column
named ``quantity``, a key to the user model, the words in the class name),
with the clues kept as the reason shown in the generated file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .inventory import PERSON_KEYS, ModelInfo

SELLER_WORDS = {"artist", "seller", "vendor", "merchant", "maker", "supplier", "store", "brand", "studio"}
LINE_WORDS = {"line", "item", "items", "lines", "entry"}
ORDER_WORDS = {"order", "orders", "purchase", "purchases", "sale", "checkout", "basket", "cart"}
PART_WORDS = {"shipment", "suborder", "parcel", "fulfillment", "fulfilment", "consignment", "delivery"}
PRODUCT_WORDS = {"product", "products", "article", "good", "sku", "listing"}
QUANTITY_NAMES = ("quantity", "qty", "count", "units", "amount_ordered", "number_of_items")
NAME_NAMES = ("name", "title", "label", "display_name", "full_name", "fullname", "username")


@dataclass
class Candidate:
    model: ModelInfo
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, points: int, reason: str) -> None:
        self.score += points
        self.reasons.append(reason)


def first_column(model: ModelInfo, names: tuple[str, ...], kinds: tuple[str, ...] = ()) -> str | None:
    """The first of ``names`` that ``model`` has (of one of ``kinds``), else one ending with it."""
    for name in names:
        column = model.columns.get(name)
        if column is not None and (not kinds or column.kind in kinds):
            return name
    for name in names:
        for column in model.columns.values():
            if column.name.endswith(name) and (not kinds or column.kind in kinds):
                return column.name
    return None


def ranked(candidates: list[Candidate]) -> list[Candidate]:
    return sorted((c for c in candidates if c.score > 0), key=lambda c: (-c.score, c.model.name))


def users(models: list[ModelInfo]) -> list[Candidate]:
    found = []
    for model in models:
        candidate = Candidate(model)
        if "email" in model.columns or first_column(model, ("email",), ("text",)):
            candidate.add(3, "it has an email column")
        if model.words() & set(PERSON_KEYS):
            candidate.add(3, f"its name says a person ({model.name})")
        if first_column(model, ("password_hash", "password", "hashed_password")):
            candidate.add(2, "it keeps a password")
        if model.words() & SELLER_WORDS:
            candidate.add(-4, "but its name says a seller")
        referrers = sum(1 for other in models if other is not model and other.refs(model.name))
        if referrers:
            candidate.add(min(referrers, 2), f"{referrers} other model(s) point at it")
        if candidate.score >= 3:
            found.append(candidate)
    return ranked(found)


def lines(models: list[ModelInfo], user: ModelInfo | None) -> list[Candidate]:
    found = []
    for model in models:
        candidate = Candidate(model)
        quantity = first_column(model, QUANTITY_NAMES, ("int", "numeric"))
        if quantity:
            candidate.add(4, f"it has a quantity ({quantity})")
        if model.words() & LINE_WORDS:
            candidate.add(3, f"its name says a line ({model.name})")
        if model.of_kind("numeric") or any("price" in c.name for c in model.of_kind("int")):
            candidate.add(1, "it has a price")
        targets = {c.target for c in model.refs()}
        if user is not None and user.name in targets:
            candidate.add(-3, "but it points at the user directly, as an order does")
        if len(targets) >= 2:
            candidate.add(1, f"it points at {', '.join(sorted(t for t in targets if t))}")
        if not targets:
            candidate.score = 0
        found.append(candidate)
    return ranked(found)


def _by_name(models: list[ModelInfo]) -> dict[str, ModelInfo]:
    return {model.name: model for model in models}


def orders(models: list[ModelInfo], line: ModelInfo, user: ModelInfo | None) -> list[Candidate]:
    """Models the line points at (directly, or through a part) that point at the user."""
    named = _by_name(models)
    found = []
    for ref in line.refs():
        target = named.get(ref.target or "")
        if target is None or (user is not None and target is user):
            continue
        beyond = [(named[c.target], target) for c in target.refs()
                  if c.target in named and named[c.target] not in (line, user)]
        for model, through in [(target, None), *beyond]:
            candidate = Candidate(model)
            if through is not None:
                candidate.add(1, f"the line points at it through {through.name}")
            else:
                candidate.add(1, f"the line points at it ({ref.name})")
            if user is not None and model.refs(user.name):
                candidate.add(4, f"it points at the user ({model.refs(user.name)[0].name})")
            if model.words() & ORDER_WORDS:
                candidate.add(3, f"its name says an order ({model.name})")
            if model.of_kind("datetime", "date"):
                candidate.add(1, "it has a date")
            if model.name in (line.relationships.values() if through is None else through.relationships.values()):
                candidate.add(1, "a relationship leads to it")
            if model.words() & (PRODUCT_WORDS | SELLER_WORDS):
                candidate.add(-4, "but its name says a product or a seller")
            found.append(candidate)
    best: dict[str, Candidate] = {}
    for candidate in found:
        if candidate.model.name not in best or candidate.score > best[candidate.model.name].score:
            best[candidate.model.name] = candidate
    return ranked(list(best.values()))


def part_between(models: list[ModelInfo], line: ModelInfo, order: ModelInfo) -> ModelInfo | None:
    """The model between the line and the order (a shipment), when the line does not point at the order."""
    if line.refs(order.name):
        return None
    named = _by_name(models)
    for ref in line.refs():
        target = named.get(ref.target or "")
        if target is not None and target.refs(order.name):
            return target
    return None


def products(models: list[ModelInfo], line: ModelInfo, taken: set[str]) -> list[Candidate]:
    named = _by_name(models)
    found = []
    for ref in line.refs():
        model = named.get(ref.target or "")
        if model is None or model.name in taken:
            continue
        candidate = Candidate(model)
        candidate.add(1, f"the line points at it ({ref.name})")
        if first_column(model, NAME_NAMES, ("text",)):
            candidate.add(2, "it has a name")
        if model.words() & PRODUCT_WORDS:
            candidate.add(3, f"its name says a product ({model.name})")
        if "variant" in model.words() or "option" in model.words():
            candidate.add(-2, "but its name says a variant")
        if model.of_kind("numeric") or any("price" in c.name for c in model.of_kind("int")):
            candidate.add(1, "it has a price")
        found.append(candidate)
    return ranked(found)


def sellers(models: list[ModelInfo], pointing: list[ModelInfo], taken: set[str]) -> list[Candidate]:
    """Models the part, the product or the line point at that look like a seller."""
    found: dict[str, Candidate] = {}
    for source in pointing:
        for ref in source.refs():
            model = next((m for m in models if m.name == ref.target), None)
            if model is None or model.name in taken:
                continue
            candidate = found.setdefault(model.name, Candidate(model))
            candidate.add(1, f"{source.name}.{ref.name} points at it")
    for model in models:
        if model.words() & SELLER_WORDS and model.name not in taken:
            candidate = found.setdefault(model.name, Candidate(model))
            candidate.add(3, f"its name says a seller ({model.name})")
    for candidate in found.values():
        if "email" in candidate.model.columns:
            candidate.add(1, "it has an email")
        if not (candidate.model.words() & SELLER_WORDS):
            candidate.score -= 2
    return ranked(list(found.values()))
