"""Status paths: what the workflow writes on the way to each status, and how
often each status is reached."""

from __future__ import annotations

#: action -> (status it leads to, or None to keep it; role of the actor)
ACTIONS: dict[str, tuple[str | None, str]] = {
    "submit": ("requested", "buyer"),
    "accept": ("accepted", "artist"),
    "ship_back": ("shipped_back", "buyer"),
    "receive": ("received", "artist"),
    "initiate_refund": ("refund_initiated", "artist"),
    "confirm_refund": ("refunded", "shop"),
    "decline": ("declined", "artist"),
    "withdraw": ("withdrawn", "buyer"),
    "ship_replacement": ("replacement_shipped", "artist"),
    "convert_to_refund": (None, "artist"),
    "refuse_order": ("order_refused", "artist"),
    "refund_initiated": (None, "artist"),
    "escalate": (None, "buyer"),
}
_TO_RECEIVED = ("submit", "accept", "ship_back", "receive")
RETURN_PATHS: dict[str, tuple[str, ...]] = {
    "requested": ("submit",),
    "accepted": ("submit", "accept"),
    "shipped_back": ("submit", "accept", "ship_back"),
    "received": _TO_RECEIVED,
    "refund_initiated": (*_TO_RECEIVED, "initiate_refund"),
    "refunded": (*_TO_RECEIVED, "initiate_refund", "confirm_refund"),
    "declined": ("submit", "decline"),
    "withdrawn": ("submit", "withdraw"),
}
EXCHANGE_PATHS: dict[str, tuple[str, ...]] = {
    "requested": ("submit",),
    "accepted": ("submit", "accept"),
    "shipped_back": ("submit", "accept", "ship_back"),
    "received": _TO_RECEIVED,
    "replacement_shipped": (*_TO_RECEIVED, "ship_replacement"),
    "declined": ("submit", "decline"),
    "withdrawn": ("submit", "withdraw"),
}
#: An exchange turned into a refund so the buyer could reorder.
CONVERTED_PATH = (*_TO_RECEIVED, "convert_to_refund", "initiate_refund", "confirm_refund")
CANCELLATION_PATHS: dict[str, tuple[str, ...]] = {
    "requested": ("submit",),
    "order_refused": ("submit", "refuse_order", "refund_initiated"),
    "refunded": ("submit", "refuse_order", "refund_initiated", "confirm_refund"),
    "declined": ("submit", "decline"),
    "withdrawn": ("submit", "withdraw"),
}
FINAL = frozenset({"declined", "withdrawn", "refunded", "replacement_shipped"})
#: Statuses an old request has reached, and their weights.
OLD_RETURN = {"refunded": 60, "declined": 15, "withdrawn": 15, "refund_initiated": 2, "received": 1}
OLD_EXCHANGE = {"replacement_shipped": 70, "declined": 15, "withdrawn": 15}
RECENT_RETURN = {"requested": 20, "accepted": 20, "shipped_back": 10, "received": 8, "refund_initiated": 7,
                 "refunded": 15, "declined": 10, "withdrawn": 10}
RECENT_EXCHANGE = {"requested": 20, "accepted": 20, "shipped_back": 10, "received": 10,
                   "replacement_shipped": 20, "declined": 10, "withdrawn": 10}
IN_TRANSIT = {"requested": 50, "accepted": 30, "declined": 10, "withdrawn": 10}
#: Cancellations older than a few days have been answered.
CANCELLATIONS = {"order_refused": 3, "refunded": 57, "declined": 20, "withdrawn": 20}
#: What a part's stage is after a cancellation in each status: refused, or
#: shipped and delivered because it was too late or the buyer changed their mind.
CANCELLED_PART_STATE = {"requested": "paid", "withdrawn": "delivered", "order_refused": "cancelled",
                        "refunded": "cancelled", "declined": "delivered"}
