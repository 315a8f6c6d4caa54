"""The planned history as table rows: the shop's, then each request's with its
history, messages and refund, consistent with each other."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app, url_for

from mirette_returns_plugin.demo.models import (
    Account,
    ArtistProfile,
    PaymentRefund,
    Product,
    Shipment,
    ShopOrder,
    ShopOrderLine,
    Variant,
)
from mirette_returns_plugin.models import HistoryEntry, Message, PartLock, Refund, RefundState, Request, RequestKind

from .bulk_load import CHUNK
from .catalogue import CATALOGUE, COMMENTS, CRAFTS, REASONS, SENTENCES
from .paths import ACTIONS, FINAL
from .plan import Ids, Plan, PlannedRequest, between

CENT = Decimal("0.01")


@dataclass
class Urls:
    """The demo's URLs that the workflow copies onto a request."""

    image: dict[str, str]
    artist: dict[int, str]


def demo_urls(plan: Plan) -> Urls:
    with current_app.test_request_context():
        return Urls(
            image={image: url_for("demo.static", filename=image) for _name, image, _price, _v in CATALOGUE},
            artist={artist.id: url_for("demo.artist", artist_id=artist.id) for artist in plan.artists},
        )


def shop_rows(plan: Plan) -> Iterator[tuple[sa.Table, Iterable[dict]]]:
    yield ArtistProfile.__table__, (
        dict(id=a.id, name=a.name, email=a.email, craft=CRAFTS[a.id % len(CRAFTS)],
             return_window_days=a.policy[0], refunds_delivery=a.policy[1], return_shipping_paid_by=a.policy[2],
             restocking_fee_percent=Decimal(a.policy[3]), policy_text=a.policy[4])
        for a in plan.artists
    )
    accounts = [dict(id=a.account_id, name=a.name, email=a.email, locale=a.locale, is_support=False,
                     artist_id=a.id) for a in plan.artists]
    accounts += [dict(id=b.id, name=b.name, email=b.email, locale=b.locale, is_support=False, artist_id=None)
                 for b in plan.buyers]
    if plan.new_support:
        account_id, name, email = plan.new_support
        accounts.append(dict(id=account_id, name=name, email=email, locale="en", is_support=True, artist_id=None))
    yield Account.__table__, accounts
    yield Product.__table__, (
        dict(id=p.id, artist_id=a.id, name=p.name, description=f"{p.name}, handmade by {a.name}.",
             image=p.image, price=p.price, final_sale=False)
        for a in plan.artists for p in a.products
    )
    yield Variant.__table__, (
        dict(id=variant_id, product_id=p.id, name=name, price=None)
        for a in plan.artists for p in a.products for variant_id, name in p.variants
    )
    yield ShopOrder.__table__, (
        dict(id=o.id, number=o.number, buyer_id=o.buyer.id, currency="EUR", placed_at=o.placed_at)
        for o in plan.orders
    )
    yield Shipment.__table__, (
        dict(id=p.id, order_id=o.id, artist_id=p.artist.id, state=p.state, delivery_cost=p.delivery_cost,
             delivered_at=p.delivered_at)
        for o in plan.orders for p in o.parts
    )
    yield ShopOrderLine.__table__, (
        dict(id=line.id, shipment_id=p.id, product_id=line.product.id,
             variant_id=line.variant[0] if line.variant else None, quantity=line.quantity,
             unit_price=line.product.price)
        for o in plan.orders for p in o.parts for line in p.lines
    )


def shop_row_count(plan: Plan) -> int:
    parts = [p for o in plan.orders for p in o.parts]
    products = [p for a in plan.artists for p in a.products]
    return (2 * len(plan.artists) + len(plan.buyers) + bool(plan.new_support) + len(products)
            + sum(len(p.variants) for p in products) + len(plan.orders) + len(parts)
            + sum(len(p.lines) for p in parts))


def _refund_preview(request: PlannedRequest) -> tuple[Decimal, Decimal, Decimal]:
    """Items, delivery and restocking fee, as ``money.preview_*`` computes them."""
    part = request.part
    _window, refunds_delivery, _payer, fee, _text = part.artist.policy
    if request.line is None:
        items = sum((line.product.price * line.quantity for line in part.lines), Decimal("0"))
        return items.quantize(CENT, ROUND_HALF_UP), part.delivery_cost, Decimal("0.00")
    items = request.line.product.price.quantize(CENT, ROUND_HALF_UP)
    restocking = (items * Decimal(fee) / 100).quantize(CENT, ROUND_HALF_UP)
    delivery = Decimal("0.00")
    if refunds_delivery:
        units = sum(line.quantity for line in part.lines) or 1
        delivery = (part.delivery_cost / units).quantize(CENT, ROUND_DOWN)
    return items, delivery, restocking


def _request_row(request: PlannedRequest, urls: Urls, rng: random.Random, seen: tuple) -> dict:
    order, artist, buyer, line = request.part.order, request.part.artist, request.part.order.buyer, request.line
    window, refunds_delivery, payer, fee, text = artist.policy
    items, delivery, restocking = _refund_preview(request)
    reached = set(request.path)
    product = line.product if line else None
    wanted_ref = wanted_label = None
    if product and (request.kind == RequestKind.EXCHANGE or request.converted):
        variant_id, variant_name = rng.choice([v for v in product.variants if v != line.variant])
        wanted_ref, wanted_label = str(variant_id), f"{product.name} – {variant_name}"
    return dict(
        id=request.id, kind=request.kind, status=request.status, version=len(request.path) + request.messages,
        order_ref=str(order.id), order_number=order.number, artist_ref=str(artist.id), artist_name=artist.name,
        artist_email=artist.email, artist_locale=artist.locale, buyer_ref=str(buyer.id), buyer_name=buyer.name,
        buyer_email=buyer.email, buyer_locale=buyer.locale, currency="EUR",
        line_ref=str(line.id) if line else None, product_ref=str(product.id) if product else None,
        product_name=product.name if product else None, variant=line.variant[1] if line and line.variant else None,
        image_url=urls.image[product.image] if product else None, quantity=1 if line else 0,
        unit_price=product.price if product else Decimal("0"),
        reason_code=rng.choice(REASONS) if line else None,
        comment=(rng.choice(COMMENTS) or None) if line else None,
        wanted_ref=wanted_ref, wanted_label=wanted_label, converted_from_exchange=request.converted,
        policy_window_days=window, policy_refunds_delivery=refunds_delivery,
        policy_return_shipping_paid_by=payer,
        policy_restocking_fee_percent=Decimal(fee) if line else Decimal("0"),
        policy_text=text, policy_url=urls.artist[artist.id],
        refund_items=items, refund_delivery=delivery, refund_restocking_fee=restocking,
        refund_total=items - restocking + delivery,
        instructions="Please send it back in its original box to the workshop address on my page."
        if "accept" in reached else None,
        decline_reason="The piece was used and cannot be taken back." if "decline" in reached else None,
        return_tracking=f"6A{request.id:011d}" if "ship_back" in reached and request.id % 2 else None,
        replacement_tracking=f"8R{request.id:011d}" if "ship_replacement" in reached else None,
        escalated=request.escalated, submission_token=None,
        created_at=request.created_at, last_activity_at=request.last_activity_at,
        buyer_seen_at=seen[0], artist_seen_at=seen[1],
        closed_at=request.last_activity_at if request.status in FINAL else None,
    )


def _thread_rows(request: PlannedRequest, ids: Ids, rng: random.Random, support: tuple[str, str]):
    """The history and message rows of a request, along one timeline.

    Returns ``(history rows, message rows, (buyer seen at, artist seen at))``.
    """
    buyer, artist = request.part.order.buyer, request.part.artist
    events = len(request.path) + request.messages
    # The submission opens the timeline and the last event is the request's
    # last activity; everything else falls in between, in order.
    middle = sorted(between(rng, request.created_at, request.last_activity_at) for _ in range(events - 2))
    times = [request.created_at, *middle, request.last_activity_at][:events]
    kinds = ["history"] * (len(request.path) - 1) + ["message"] * request.messages
    rng.shuffle(kinds)
    if request.kind == RequestKind.CANCELLATION and request.messages:
        # The buyer's message is written together with the submission.
        kinds.remove("message")
        kinds.insert(0, "message")
    kinds.insert(0, "history")
    people = {"buyer": (str(buyer.id), buyer.name), "artist": (str(artist.id), artist.name),
              "support": support, "shop": ("shop", "shop")}
    history, messages = [], []
    status = None
    steps = iter(request.path)
    author = "buyer" if request.kind == RequestKind.CANCELLATION or rng.random() < 0.5 else "artist"
    seen = {"buyer": request.created_at, "artist": None}
    first_history = ids.take(HistoryEntry.__table__, len(request.path))
    first_message = ids.take(Message.__table__, request.messages)
    for moment, kind in zip(times, kinds, strict=False):
        if kind == "history":
            action = next(steps)
            target, role = ACTIONS[action]
            ref, name = people[role]
            history.append(dict(
                id=first_history + len(history), request_id=request.id, action=action, from_status=status,
                to_status=target or status, actor_role=role, actor_ref=ref, actor_name=name,
                note="Could the support team have a look?" if action == "escalate" else None,
                created_at=moment))
            status = target or status
        else:
            role = "support" if rng.random() < 0.02 else author
            ref, name = people[role]
            messages.append(dict(
                id=first_message + len(messages), request_id=request.id, author_role=role, author_ref=ref,
                author_name=name, body=" ".join(rng.sample(SENTENCES[role], rng.randint(1, 2))),
                created_at=moment))
            if role in seen:
                seen[role] = moment
            author = "artist" if author == "buyer" else "buyer"
    # Both sides have read everything, except on some open requests where the
    # other side had the last word.
    last, final = request.last_activity_at, request.status in FINAL
    buyer_seen = last if final or rng.random() < 0.7 else seen["buyer"]
    artist_seen = last if final or rng.random() < 0.6 else seen["artist"]
    return history, messages, (buyer_seen, artist_seen)


def _refund_rows(request: PlannedRequest, row: dict, ids: Ids) -> tuple[dict, dict]:
    """The plugin's refund and the demo payment provider's record of it."""
    completed = request.status == "refunded"
    key, when = f"mr-{request.id}-gen", request.last_activity_at
    payment_id = ids.take(PaymentRefund.__table__)
    refund = dict(id=ids.take(Refund.__table__), request_id=request.id, idempotency_key=key,
                  amount=row["refund_total"], currency="EUR",
                  state=RefundState.COMPLETED if completed else RefundState.INITIATED,
                  shop_reference=f"demo-refund-{payment_id}", last_error=None, attempts=1, created_at=when,
                  attempted_at=when, completed_at=when if completed else None)
    payment = dict(id=payment_id, idempotency_key=key, order_id=request.part.order.id, amount=row["refund_total"],
                   currency="EUR", paid=completed, created_at=when)
    if "paid_at" in PaymentRefund.__table__.c:
        payment["paid_at"] = when if completed else None
    return refund, payment


def request_rows(plan: Plan, ids: Ids, urls: Urls, rng: random.Random, support: tuple[str, str]):
    """Requests with their history, messages and refunds, a slice at a time."""
    slice_size = CHUNK // 5
    for start in range(0, len(plan.requests), slice_size):
        requests, history, messages, refunds, payments = [], [], [], [], []
        for request in plan.requests[start:start + slice_size]:
            steps, thread, seen = _thread_rows(request, ids, rng, support)
            row = _request_row(request, urls, rng, seen)
            requests.append(row)
            history.extend(steps)
            messages.extend(thread)
            if request.status in ("refund_initiated", "refunded", "order_refused"):
                refund, payment = _refund_rows(request, row, ids)
                refunds.append(refund)
                payments.append(payment)
        yield Request.__table__, requests
        yield HistoryEntry.__table__, history
        yield Message.__table__, messages
        yield PaymentRefund.__table__, payments
        yield Refund.__table__, refunds


def request_artist_rows(plan: Plan) -> list[dict]:
    """The artists who received requests, for the support list's filter."""
    with_requests = {request.part.artist.id: request.part.artist for request in plan.requests}
    return [dict(ref=str(artist.id), name=artist.name[:255], name_key=artist.name.casefold()[:255])
            for artist in with_requests.values()]


def part_lock_rows(plan: Plan, ids: Ids) -> Iterator[dict]:
    counts: dict[tuple[int, int], int] = {}
    for request in plan.requests:
        key = (request.part.order.id, request.part.artist.id)
        counts[key] = counts.get(key, 0) + 1
    for (order_id, artist_id), changes in counts.items():
        yield dict(id=ids.take(PartLock.__table__), order_ref=str(order_id), artist_ref=str(artist_id),
                   changes=changes)
