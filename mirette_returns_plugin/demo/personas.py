"""What to try as each seeded account, shown on the account switch page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: One line per seeded account, by email.
HINTS = {
    "camille@buyers.example": _l(
        "Return or exchange the speckled mugs of MIR-1004, cancel MIR-1001 before Atelier Lune processes it, "
        "or see why MIR-1005 can no longer be returned."
    ),
    "alex@buyers.example": _l(
        "Follow a scarf exchange (MIR-2003) and a bowl refund (MIR-2004), or ask Verre Soufflé to cancel "
        "MIR-2001."
    ),
    "lune@artists.example": _l(
        "Refunds delivery and pays return shipping. Answer Camille's requests: give return instructions, "
        "confirm the item came back, initiate the refund."
    ),
    "boisetfil@artists.example": _l(
        "30 days, restocking fee of 10%, buyer pays return shipping. Receive the scarf sent back for an exchange "
        "and ship the new colour, or refund instead."
    ),
    "verre@artists.example": _l(
        "A strict 7-day window. Refuse an order you have not processed yet when a buyer asks to cancel it."
    ),
    "support@mirette.example": _l(
        "See every request of every artist, read each thread, step in when someone asks, confirm a refund "
        "by hand."
    ),
}
