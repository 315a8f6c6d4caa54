"""The catalogue of reasons a buyer picks from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .i18n import N_, gettext


@dataclass(frozen=True)
class Reason:
    """One reason of the catalogue."""

    #: Stable code stored on the request.
    code: str
    #: English label, translated through the plugin's catalogue when shown.
    label: str
    #: Whether a request with this reason needs at least one photo.
    photo_required: bool = False
    #: The artist is at fault (wrong, damaged, non-compliant item): no
    #: restocking fee is kept from the refund.
    seller_fault: bool = False

    @property
    def display(self) -> str:
        return gettext(self.label)


#: The reasons of the help page first (each needs a photo), then the usual ones.
DEFAULT_REASONS: tuple[Reason, ...] = (
    Reason("wrong_product", N_("Wrong product received"), True, seller_fault=True),
    Reason("damaged", N_("Damaged product"), True, seller_fault=True),
    Reason("non_compliant", N_("Non-compliant"), True, seller_fault=True),
    Reason("wrong_size", N_("Wrong size or fit")),
    Reason("changed_mind", N_("Changed my mind")),
    Reason("late_delivery", N_("Arrived too late")),
    Reason("other", N_("Other")),
)


class ReasonCatalogue:
    """Look-up of reasons by code, in the order they are shown."""

    def __init__(self, reasons: tuple[Reason, ...] | list[Reason]) -> None:
        self.reasons = tuple(reasons)
        self._by_code = {reason.code: reason for reason in self.reasons}

    def get(self, code: str | None) -> Reason | None:
        return self._by_code.get(code or "")

    def __iter__(self) -> Iterator[Reason]:
        return iter(self.reasons)

    def label(self, code: str) -> str:
        reason = self.get(code)
        return reason.display if reason else code
