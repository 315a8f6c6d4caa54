"""The rules of the help page, enforced in the workflow.

Returns and exchanges only once the artist accepted the part (even in
transit); cancellation only before; returnable quantity; photo reasons; the
wanted product of an exchange; the artist's policy frozen at submission and
the refund it pays; cancelling several artists' parts; rate limits. Every
refusal carries a message and changes nothing.

On the tiny shop (``tests/unit/tiny_shop.py``): the demo's orders and terms in
plain objects, which a test changes directly.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, strategies as st

from mirette_returns_plugin import money, workflow
from mirette_returns_plugin.adapter import OrderLine, OrderPart, ReturnPolicy, ReturnShippingPayer, Stage
from mirette_returns_plugin.errors import Conflict, NotAllowed, NotFound, ValidationError
from mirette_returns_plugin.models import Message, Photo, RequestKind, utcnow
from mirette_returns_plugin.state import current_state
from mirette_returns_plugin.workflow import ReturnForm, Status

from . import steps as flows
from .steps import count_requests, session
from .tiny_shop import ALEX, BOIS, CAMILLE, LUNE, SUPPORT, VERRE, line_ref

RETURN, EXCHANGE, CANCELLATION = RequestKind.RETURN, RequestKind.EXCHANGE, RequestKind.CANCELLATION


def user(who: str):
    return flows.shop().user(who)


def cancel(order: str, artists: list[str] | None, **extra):
    extra.setdefault("message", "Please cancel, I ordered the wrong colour.")
    return workflow.request_cancellation(user(CAMILLE), order, artists, **extra)


def returnable(order: str, product: str) -> int:
    found = current_state().adapter.get_order(order).find_line(line_ref(order, product))
    _part, line = found
    return workflow.returnable_quantity(line, workflow.held_quantities(order, [line.ref]))


# --------------------------------------------------------------------------- #
# Stage of the part
# --------------------------------------------------------------------------- #


def test_pending_part_can_only_be_cancelled(ctx):
    with pytest.raises(NotAllowed) as refused:
        flows.submit_line(order="MIR-1001", product="Speckled mug")
    assert refused.value.message == (
        "This part of the order has not been processed yet: you can still ask to cancel it.")
    assert count_requests() == 0
    [request] = cancel("MIR-1001", [LUNE])
    assert (request.kind, request.status) == (CANCELLATION, Status.REQUESTED)


@pytest.mark.parametrize("order,artist,product,stage", [
    ("MIR-1002", VERRE, "Tumbler set", "accepted"),
    ("MIR-1003", BOIS, "Oak chopping board", "shipped"),
    ("MIR-1004", LUNE, "Speckled mug", "delivered"),
])
def test_processed_part_can_be_returned_even_in_transit_but_not_cancelled(ctx, order, artist, product, stage):
    assert flows.stage(order, artist) == stage
    with pytest.raises(NotAllowed) as refused:
        cancel(order, [artist])
    assert refused.value.message == (
        "This part of the order has already been processed, so it can no longer be cancelled. "
        "You can request a return instead.")
    assert count_requests() == 0
    request = flows.submit_line(order=order, product=product)
    assert (request.kind, request.status, request.quantity) == (RETURN, Status.REQUESTED, 1)


def test_cancelled_part_can_neither_be_returned_nor_cancelled_again(ctx):
    request_id = flows.submit_cancellation().id
    flows.take(LUNE, request_id, "refuse_order")
    assert flows.stage("MIR-1002", LUNE) == Stage.CANCELLED
    before = count_requests()
    with pytest.raises(NotAllowed) as refused:
        flows.submit_line(order="MIR-1002", product="Serving bowl")
    assert refused.value.message == "This part of the order was cancelled."
    with pytest.raises(NotAllowed) as refused:
        cancel("MIR-1002", [LUNE])
    assert refused.value.message == "This part of the order is already cancelled."
    assert count_requests() == before


def test_return_window_expired(ctx):
    # MIR-1005: Verre Soufflé delivered 50 days ago, policy of 7 days.
    with pytest.raises(NotAllowed) as refused:
        flows.submit_line(order="MIR-1005", product="Tumbler set")
    assert refused.value.message.startswith("The return period of 7 days ended on ")
    assert count_requests() == 0


def test_return_window_counts_from_delivery(ctx, shop):
    shop.part("MIR-1004", VERRE).delivered_at = utcnow() - timedelta(days=6, hours=23)
    flows.submit_line(order="MIR-1004", product="Blown glass vase")
    shop.part("MIR-1004", VERRE).delivered_at = utcnow() - timedelta(days=7, minutes=1)
    with pytest.raises(NotAllowed):
        flows.submit_line(order="MIR-1004", product="Blown glass vase", kind=EXCHANGE)


def test_final_sale_cannot_be_returned(ctx, shop):
    shop.final_sale.add("Serving bowl")
    assert returnable("MIR-1004", "Serving bowl") == 0
    with pytest.raises(NotAllowed) as refused:
        flows.submit_line(product="Serving bowl")
    assert refused.value.message == "This item is a final sale: it cannot be returned or exchanged."
    assert count_requests() == 0


@pytest.mark.parametrize("who", [ALEX, VERRE, SUPPORT, None])
def test_only_the_buyer_can_ask(ctx, who):
    form = ReturnForm(line_ref=line_ref("MIR-1004", "Speckled mug"), quantity=1, kind=RETURN,
                      reason_code="changed_mind")
    with pytest.raises(NotFound) as refused:
        workflow.submit_return(flows.as_user(who), "MIR-1004", form)
    assert refused.value.message == "This order does not exist."
    with pytest.raises(NotFound):
        workflow.request_cancellation(flows.as_user(who), "MIR-1001", None, message="Cancel")
    assert count_requests() == 0


def test_a_line_of_another_order_is_not_found(ctx):
    with pytest.raises(NotFound) as refused:
        workflow.submit_return(user(CAMILLE), "MIR-1004", ReturnForm(
            line_ref=line_ref("MIR-1003", "Oak chopping board"), quantity=1, kind=RETURN, reason_code="other"))
    assert refused.value.message == "This item is not part of the order."


# --------------------------------------------------------------------------- #
# Quantity
# --------------------------------------------------------------------------- #


def test_returnable_quantity_is_bought_minus_open_and_completed_requests(ctx):
    assert returnable("MIR-1004", "Speckled mug") == 4
    first = flows.submit_line(quantity=3)
    assert returnable("MIR-1004", "Speckled mug") == 1
    with pytest.raises(ValidationError) as refused:
        flows.submit_line(quantity=2, kind=EXCHANGE)
    assert refused.value.errors["quantity"] == "You can return at most 1 item of this line."
    last = flows.submit_line(quantity=1, kind=EXCHANGE)
    assert returnable("MIR-1004", "Speckled mug") == 0
    with pytest.raises(NotAllowed) as refused:
        flows.submit_line(quantity=1)
    assert refused.value.message == "Every unit of this item is already under a request."
    # A completed return keeps its units: they were refunded.
    for action, who in (("accept", LUNE), ("receive", LUNE), ("initiate_refund", LUNE), ("confirm_refund", SUPPORT)):
        flows.take(who, first.id, action)
    assert flows.fresh(first.id).status == Status.REFUNDED
    assert returnable("MIR-1004", "Speckled mug") == 0
    # The exchange is declined: its unit is free again.
    flows.take(LUNE, last.id, "decline", note="This mug was used.")
    assert returnable("MIR-1004", "Speckled mug") == 1


def test_withdrawn_request_frees_its_quantity(ctx):
    request = flows.submit_line(quantity=4)
    assert returnable("MIR-1004", "Speckled mug") == 0
    flows.take(CAMILLE, request.id, "withdraw")
    assert returnable("MIR-1004", "Speckled mug") == 4
    again = flows.submit_line(quantity=4)
    assert again.id != request.id


def test_a_second_exchange_of_the_same_item_works(ctx):
    """spree/spree#8332: the replacement may in turn be exchanged."""
    first = flows.submit_line(EXCHANGE, quantity=4)
    for action, who in (("accept", LUNE), ("ship_back", CAMILLE), ("receive", LUNE), ("ship_replacement", LUNE)):
        flows.take(who, first.id, action)
    assert flows.fresh(first.id).status == Status.REPLACEMENT_SHIPPED
    assert returnable("MIR-1004", "Speckled mug") == 4
    second = flows.submit_line(EXCHANGE, quantity=4, reason="wrong_size")
    assert (second.status, second.quantity) == (Status.REQUESTED, 4)


@pytest.mark.parametrize("quantity", [0, -1, "-3", 10**9, 5, "two", "", None, "1.5", "  ", 2**64, "9" * 5000])
def test_bad_quantity_is_refused_with_a_message(ctx, quantity):
    with pytest.raises(ValidationError) as refused:
        flows.submit_line(quantity=quantity)
    message = refused.value.errors["quantity"]
    assert message in ("Enter how many items, from 1 to 4.", "You can return at most 4 items of this line.")
    assert count_requests() == 0


def test_quantity_as_the_form_sends_it(ctx):
    request = flows.submit_line(quantity=" 2 ")
    assert request.quantity == 2


# --------------------------------------------------------------------------- #
# Reasons, photos, wanted product
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("reason", ["wrong_product", "damaged", "non_compliant"])
def test_photo_reasons_need_a_photo(ctx, reason):
    label = current_state().reasons.get(reason).display
    with pytest.raises(ValidationError) as refused:
        flows.submit_line(reason=reason)
    assert refused.value.errors == {"photos": f"Attach at least one photo for the reason “{label}”."}
    assert count_requests() == 0
    session().rollback()
    assert session().scalar(sa.select(sa.func.count()).select_from(Photo)) == 0

    request = flows.submit_line(reason=reason, photos=[flows.photo()])
    photos = list(session().scalars(sa.select(Photo).where(Photo.request_id == request.id)))
    assert len(photos) == 1
    stored = current_state().photos.storage.open(photos[0].storage_key)
    assert stored is not None and stored[:2] == b"\xff\xd8"  # a real JPEG
    assert (photos[0].uploaded_by_role, photos[0].width, photos[0].height) == ("buyer", 64, 48)


@pytest.mark.parametrize("reason", ["changed_mind", "wrong_size", "other"])
def test_other_reasons_need_no_photo(ctx, reason):
    assert flows.submit_line(reason=reason).reason_code == reason


def test_reasons_say_whether_a_photo_is_required():
    from mirette_returns_plugin.reasons import DEFAULT_REASONS

    needing = {reason.label for reason in DEFAULT_REASONS if reason.photo_required}
    assert needing == {"Wrong product received", "Damaged product", "Non-compliant"}


def test_too_many_photos(ctx):
    with pytest.raises(ValidationError) as refused:
        flows.submit_line(reason="damaged", photos=[flows.photo()] * 6)
    assert refused.value.errors["photos"] == "Attach at most 5 photos."
    assert count_requests() == 0


@pytest.mark.parametrize("reason", ["", None, "made_up", "damaged ", "DAMAGED"])
def test_unknown_reason_is_refused(ctx, reason):
    with pytest.raises(ValidationError) as refused:
        flows.submit_line(reason=reason)
    assert refused.value.errors["reason_code"] == "Choose a reason from the list."
    assert count_requests() == 0


@pytest.mark.parametrize("kind", ["", "refund", "cancellation", None])
def test_unknown_kind_is_refused(ctx, kind):
    with pytest.raises(ValidationError) as refused:
        flows.submit_line(kind=kind)
    assert refused.value.errors["kind"] == "Choose a return or an exchange."
    assert count_requests() == 0


def test_exchange_names_one_of_the_shops_options(ctx):
    order, line = "MIR-1004", line_ref("MIR-1004", "Speckled mug")
    options = current_state().adapter.exchange_options(order, line)
    assert [o.label for o in options] == ["Speckled mug – Sand", "Speckled mug – Moss"]
    for wanted in (None, "", "999999", line_ref("MIR-1004", "Serving bowl")):
        with pytest.raises(ValidationError) as refused:
            flows.submit_line(EXCHANGE, wanted_ref=wanted)
        assert refused.value.errors == {"wanted_ref": "Choose the product you would like instead."}
    assert count_requests() == 0
    request = flows.submit_line(EXCHANGE, wanted_ref=options[1].ref)
    assert (request.wanted_ref, request.wanted_label) == (options[1].ref, "Speckled mug – Moss")


def test_exchange_says_in_words_what_it_wants_when_the_shop_offers_nothing(ctx):
    # The oak board has no variants: the buyer says what they want.
    assert current_state().adapter.exchange_options("MIR-1003",
                                                    line_ref("MIR-1003", "Oak chopping board")) == []
    with pytest.raises(ValidationError) as refused:
        flows.submit_line(EXCHANGE, order="MIR-1003", product="Oak chopping board", wanted_text="   ")
    assert refused.value.errors == {"wanted_text": "Say which product you would like instead."}
    request = flows.submit_line(EXCHANGE, order="MIR-1003", product="Oak chopping board",
                                wanted_text=" The walnut board instead ")
    assert (request.wanted_ref, request.wanted_label) == (None, "The walnut board instead")


def test_a_return_names_no_wanted_product(ctx):
    request = flows.submit_line(RETURN, wanted_ref="1", wanted_text="something")
    assert (request.wanted_ref, request.wanted_label) == (None, None)


def test_every_error_of_the_form_is_reported_at_once(ctx):
    with pytest.raises(ValidationError) as refused:
        flows.submit_line("swap", quantity=0, reason="nope", comment="x" * 5001)
    assert set(refused.value.errors) == {"quantity", "kind", "reason_code", "comment"}


def test_comment_is_kept_trimmed(ctx):
    request = flows.submit_line(comment="  The handle is loose.  ")
    assert request.comment == "The handle is loose."
    assert flows.history(request.id)[0].note == "The handle is loose."


# --------------------------------------------------------------------------- #
# Repeated submissions
# --------------------------------------------------------------------------- #


def test_a_repeated_submission_returns_the_same_request(ctx):
    token = "f3a9c2e18b7d4e6fa1b2c3d4e5f60718"
    first = flows.submit_line(quantity=2, submission_token=token)
    again = flows.submit_line(quantity=2, submission_token=token)
    assert again.id == first.id
    assert count_requests() == 1
    assert returnable("MIR-1004", "Speckled mug") == 2
    # Even once the line has nothing left to return, the retry finds its request.
    flows.submit_line(quantity=2)
    assert flows.submit_line(quantity=2, submission_token=token).id == first.id


def test_a_repeated_cancellation_returns_the_same_requests(ctx):
    token = "c0ffee00c0ffee00c0ffee00"
    first = cancel("MIR-1002", None, submission_token=token)
    again = cancel("MIR-1002", None, submission_token=token)
    assert sorted(r.id for r in again) == sorted(r.id for r in first)
    assert count_requests() == 2


# --------------------------------------------------------------------------- #
# Policy and refund preview
# --------------------------------------------------------------------------- #


def test_policy_is_frozen_at_submission(ctx, shop):
    request = flows.submit_line(quantity=1)
    frozen = {
        "policy_window_days": 14, "policy_refunds_delivery": True, "policy_return_shipping_paid_by": "artist",
        "policy_restocking_fee_percent": Decimal("0.00"), "refund_items": Decimal("24.00"),
        "refund_delivery": Decimal("1.38"), "refund_restocking_fee": Decimal("0.00"),
        "refund_total": Decimal("25.38"),
    }
    stored = flows.fresh(request.id)
    assert {name: getattr(stored, name) for name in frozen} == frozen
    assert "prepaid return label" in stored.policy_text

    shop.set_policy(LUNE, window_days=1, refunds_delivery_costs=False,
                    return_shipping_paid_by=ReturnShippingPayer.BUYER, restocking_fee_percent=Decimal("25"),
                    text="No returns at all.")

    stored = flows.fresh(request.id)
    assert {name: getattr(stored, name) for name in frozen} == frozen
    assert "prepaid return label" in stored.policy_text
    # ... and the refund pays what was shown, under the old policy.
    for action in ("accept", "receive", "initiate_refund"):
        flows.take(LUNE, request.id, action)
    assert flows.refund_row(request.id).amount == Decimal("25.38")
    # A new request follows the new policy (3 days after delivery, the new 1-day window is over).
    with pytest.raises(NotAllowed):
        flows.submit_line()


@pytest.mark.parametrize("order,product,quantity,items,fee,delivery", [
    # Atelier Lune refunds delivery: 6.90 shared over the 5 units of the part.
    ("MIR-1004", "Speckled mug", 1, "24.00", "0.00", "1.38"),
    ("MIR-1004", "Speckled mug", 4, "96.00", "0.00", "5.52"),
    ("MIR-1004", "Serving bowl", 1, "58.00", "0.00", "1.38"),
    # Bois & Fil: no delivery refund, 10 % restocking fee.
    ("MIR-1003", "Woven linen scarf", 2, "79.00", "7.90", "0.00"),
    ("MIR-1003", "Oak chopping board", 1, "45.00", "4.50", "0.00"),
    # Verre Soufflé: neither.
    ("MIR-1004", "Blown glass vase", 1, "89.00", "0.00", "0.00"),
])
def test_refund_preview_follows_the_policy(ctx, order, product, quantity, items, fee, delivery):
    request = flows.submit_line(order=order, product=product, quantity=quantity)
    stored = flows.fresh(request.id)
    assert (stored.refund_items, stored.refund_restocking_fee, stored.refund_delivery) == (
        Decimal(items), Decimal(fee), Decimal(delivery))
    assert stored.refund_total == Decimal(items) - Decimal(fee) + Decimal(delivery)
    assert stored.currency == "EUR"


@pytest.mark.parametrize("reason,fee", [("damaged", "0.00"), ("wrong_product", "0.00"), ("non_compliant", "0.00"),
                                        ("changed_mind", "4.50"), ("wrong_size", "4.50")])
def test_no_restocking_fee_when_the_artist_is_at_fault(ctx, reason, fee):
    # Bois & Fil keep 10 % "on returns that are not faulty".
    photos = [flows.photo()] if current_state().reasons.get(reason).photo_required else []
    request = flows.submit_line(order="MIR-1003", product="Oak chopping board", reason=reason, photos=photos)
    stored = flows.fresh(request.id)
    assert (stored.refund_restocking_fee, stored.refund_total) == (Decimal(fee), Decimal("45.00") - Decimal(fee))


def test_delivery_shares_never_add_up_to_more_than_was_paid(ctx):
    mugs = flows.submit_line(product="Speckled mug", quantity=4)
    bowl = flows.submit_line(product="Serving bowl", quantity=1)
    assert mugs.refund_delivery + bowl.refund_delivery == Decimal("6.90")


@given(
    quantities=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=4),
    delivery=st.decimals(min_value=0, max_value=50, places=2),
    price=st.decimals(min_value=Decimal("0.01"), max_value=500, places=2),
    fee=st.decimals(min_value=0, max_value=100, places=2),
)
def test_preview_in_cents_and_never_above_what_was_paid(quantities, delivery, price, fee):
    lines = tuple(OrderLine(ref=str(i), product_ref="p", product_name="p", quantity=q, unit_price=price,
                            currency="EUR") for i, q in enumerate(quantities))
    part = OrderPart(artist_ref="a", stage=Stage.DELIVERED, lines=lines, delivery_cost=delivery)
    policy = ReturnPolicy(refunds_delivery_costs=True, restocking_fee_percent=fee)
    previews = [money.preview_return(policy, part, line, line.quantity) for line in lines]
    assert sum(p.delivery for p in previews) <= delivery
    for preview, line in zip(previews, lines, strict=True):
        assert preview.items == price * line.quantity
        assert Decimal("0") <= preview.restocking_fee <= preview.items
        for amount in (preview.items, preview.restocking_fee, preview.delivery, preview.total):
            assert amount == amount.quantize(Decimal("0.01"))
        assert preview.total >= 0


# --------------------------------------------------------------------------- #
# Cancellation
# --------------------------------------------------------------------------- #


def test_cancel_everything_asks_each_pending_artist_in_their_own_thread(ctx):
    # MIR-1002: Atelier Lune and Bois & Fil pending, Verre Soufflé accepted.
    created = cancel("MIR-1002", None, message="I moved house, please cancel.",
                     contact_email="camille.new@example.org")
    assert sorted(r.artist_ref for r in created) == sorted([LUNE, BOIS])
    totals = {}
    for request in created:
        stored = flows.fresh(request.id)
        assert (stored.kind, stored.status, stored.order_number) == (CANCELLATION, Status.REQUESTED, "MIR-1002")
        assert (stored.contact_email, stored.buyer_email) == ("camille.new@example.org", "camille@buyers.example")
        messages = list(session().scalars(sa.select(Message).where(Message.request_id == request.id)))
        assert [(m.author_role, m.body) for m in messages] == [("buyer", "I moved house, please cancel.")]
        totals[stored.artist_ref] = stored.refund_total
    # The whole part, delivery included: 58.00 + 6.90 and 39.50 + 6.90.
    assert totals == {LUNE: Decimal("64.90"), BOIS: Decimal("46.40")}
    with pytest.raises(ValidationError) as refused:
        cancel("MIR-1002", None)
    assert refused.value.errors == {"__all__": "No part of this order can still be cancelled."}
    assert count_requests() == 2


def test_a_second_cancellation_of_the_same_part_is_refused(ctx):
    cancel("MIR-1002", [LUNE])
    with pytest.raises(Conflict) as refused:
        cancel("MIR-1002", [LUNE])
    assert refused.value.message == "You have already asked for this part of the order to be cancelled."
    # Cancelling everything now asks only the artist not asked yet.
    [other] = cancel("MIR-1002", None)
    assert other.artist_ref == BOIS
    assert count_requests() == 2


def test_after_a_declined_or_withdrawn_cancellation_the_buyer_may_ask_again(ctx):
    [first] = cancel("MIR-1001", [LUNE])
    flows.take(CAMILLE, first.id, "withdraw")
    [second] = cancel("MIR-1001", [LUNE])
    flows.take(LUNE, second.id, "decline", note="Let me check with the carrier first.")
    [third] = cancel("MIR-1001", [LUNE])
    assert len({first.id, second.id, third.id}) == 3


@pytest.mark.parametrize("message,email,field", [
    ("   ", None, "message"),
    ("x" * 5001, None, "message"),
    ("Please cancel", "not an email", "contact_email"),
    ("Please cancel", "a b@example.org", "contact_email"),
])
def test_cancellation_form_errors(ctx, message, email, field):
    with pytest.raises(ValidationError) as refused:
        cancel("MIR-1001", [LUNE], message=message, contact_email=email)
    assert field in refused.value.errors
    assert count_requests() == 0


def test_cancellation_of_an_artist_not_in_the_order(ctx):
    with pytest.raises(NotFound) as refused:
        cancel("MIR-1001", [BOIS])
    assert refused.value.message == "This artist has no items in the order."


def test_refusing_a_part_processed_meanwhile_points_to_a_return(ctx, shop):
    request = flows.submit_cancellation()
    shop.part("MIR-1002", LUNE).stage = Stage.SHIPPED
    before = flows.snapshot(request.id)
    with pytest.raises(NotAllowed) as refused:
        flows.take(LUNE, request.id, "refuse_order")
    assert "point the buyer to a return" in refused.value.message
    assert flows.snapshot(request.id) == before
    flows.take(LUNE, request.id, "decline", note="Already shipped: please ask for a return on delivery.")
    assert flows.fresh(request.id).status == Status.DECLINED


# --------------------------------------------------------------------------- #
# Rate limits
# --------------------------------------------------------------------------- #


def test_requests_per_hour(ctx, monkeypatch):
    monkeypatch.setitem(current_state().config, "REQUESTS_PER_HOUR", 2)
    flows.submit_line()
    flows.submit_line()
    with pytest.raises(NotAllowed) as refused:
        flows.submit_line()
    assert refused.value.message.startswith("You have sent many requests in the last hour.")
    with pytest.raises(NotAllowed):
        cancel("MIR-1001", [LUNE])
    assert count_requests() == 2
    # Another buyer is not held back by Camille's requests.
    flows.submit_line(buyer=ALEX, order="MIR-2002")


def test_messages_per_minute(ctx, monkeypatch):
    monkeypatch.setitem(current_state().config, "MESSAGES_PER_MINUTE", 2)
    request_id = flows.submit_line().id
    workflow.post_message(user(CAMILLE), request_id, "Hello")
    workflow.post_message(user(CAMILLE), request_id, "Are you there?")
    with pytest.raises(NotAllowed) as refused:
        workflow.post_message(user(CAMILLE), request_id, "Hello??")
    assert refused.value.message == "You are sending messages very fast. Please wait a minute and try again."
    workflow.post_message(user(LUNE), request_id, "Yes, I am here.")
    session().rollback()
    assert session().scalar(sa.select(sa.func.count()).select_from(Message)
                             .where(Message.request_id == request_id)) == 3


# --------------------------------------------------------------------------- #
# Messages
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("who,role", [(CAMILLE, "buyer"), (LUNE, "artist"), (SUPPORT, "support")])
def test_the_parties_write_in_the_thread(ctx, who, role):
    request_id = flows.submit_line().id
    message = workflow.post_message(user(who), request_id, "  Any news?  ", photos=[flows.photo()])
    stored = session().get(Message, message.id)
    assert (stored.author_role, stored.author_ref, stored.body) == (role, user(who).ref, "Any news?")
    assert stored.created_at.tzinfo is not None
    assert session().scalar(sa.select(sa.func.count()).select_from(Photo).where(Photo.message_id == message.id)) == 1


@pytest.mark.parametrize("who", [ALEX, VERRE, None])
def test_outsiders_cannot_write(ctx, who):
    request_id = flows.submit_line().id
    before = flows.snapshot(request_id)
    with pytest.raises(NotFound):
        workflow.post_message(flows.as_user(who), request_id, "Hello")
    assert flows.snapshot(request_id) == before


@pytest.mark.parametrize("body,field", [("   ", "body"), ("x" * 5001, "body")])
def test_bad_messages(ctx, body, field):
    request_id = flows.submit_line().id
    before = flows.snapshot(request_id)
    with pytest.raises(ValidationError) as refused:
        workflow.post_message(user(CAMILLE), request_id, body)
    assert field in refused.value.errors
    assert flows.snapshot(request_id) == before


# --------------------------------------------------------------------------- #
# Every message a user reads is translatable
# --------------------------------------------------------------------------- #

PACKAGE = Path(workflow.__file__).parent.parent
ERRORS = {"NotAllowed", "NotFound", "Conflict", "AdapterError", "MiretteReturnsError", "ValidationError"}


def _raw_text(node: ast.AST | None) -> bool:
    """A string written in the code that reaches the user untranslated."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _raw_text(node.left) or _raw_text(node.right)
    if isinstance(node, ast.Dict):
        return any(_raw_text(value) for value in node.values)
    return False


@pytest.mark.parametrize("module", [*sorted(f"workflow/{path.name}" for path in (PACKAGE / "workflow").glob("*.py")),
                                    "refunds.py", "money.py", "access.py", "reasons.py", "domain.py", "labels.py"])
def test_messages_go_through_gettext(module):
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    untranslated = []
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS and node.args:
            text = node.args[0]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == "errors"
            for t in node.targets
        ):
            text = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "errors":
            text = node.args[1]
        elif (isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
              and isinstance(node.value.value, str)):
            text = node.value  # a guard's message
        if _raw_text(text):
            untranslated.append((node.lineno, ast.unparse(node)[:90]))
    assert not untranslated, f"{module}: messages not marked for translation: {untranslated}"


def test_labels_of_the_table_are_marked_for_translation():
    source = "".join((PACKAGE / name).read_text(encoding="utf-8") for name in ("workflow/steps.py", "labels.py"))
    for transition in workflow.TRANSITIONS:
        assert f'N_("{transition.label}")' in source, transition.label
    for label in workflow.STATUS_LABELS.values():
        assert f'N_("{label}")' in source, label
