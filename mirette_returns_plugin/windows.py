"""Which return window applies: the artist's, or the shop's legal minimum.

A shop may be bound to a minimum withdrawal period (14 days for distance
sales in the EU): ``MIRETTE_RETURNS_MINIMUM_RETURN_DAYS``. An artist's
shorter window is raised to it; a longer one, or none at all, stands. The
rule lives here once: the check on a new request, the pages' policy and the
policy frozen on a request all ask :func:`applicable_window`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ConfigurationError
from .state import current_state


@dataclass(frozen=True)
class ReturnWindow:
    """The window a return may be asked in, and where it comes from."""

    #: Days after delivery that apply (``None``: no time limit).
    days: int | None
    #: Days the artist's own policy gives (``None``: no time limit).
    artist_days: int | None
    #: The shop's legal minimum (``0``: none).
    minimum_days: int = 0

    @property
    def is_legal_minimum(self) -> bool:
        """The legal minimum applies, because the artist's window is shorter."""
        return self.days != self.artist_days


def applicable_window(artist_days: int | None, minimum_days: int | None) -> ReturnWindow:
    """The window that applies when the artist gives ``artist_days`` and the
    law ``minimum_days`` (``None`` or ``0``: no minimum)."""
    minimum = minimum_days or 0
    if artist_days is not None and artist_days < minimum:
        return ReturnWindow(days=minimum, artist_days=artist_days, minimum_days=minimum)
    return ReturnWindow(days=artist_days, artist_days=artist_days, minimum_days=minimum)


def minimum_days() -> int:
    """The shop's legal minimum now (``0``: none)."""
    return int(current_state().config["MINIMUM_RETURN_DAYS"] or 0)


def current_window(artist_days: int | None) -> ReturnWindow:
    """The window that applies today to an artist giving ``artist_days``."""
    return applicable_window(artist_days, minimum_days())


def check_minimum(settings: dict[str, Any]) -> None:
    """Refuse at mount time a minimum that is not a whole number of days."""
    value = settings.get("MINIMUM_RETURN_DAYS")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"MIRETTE_RETURNS_MINIMUM_RETURN_DAYS is {value!r}: give a whole number of days, such as 14 "
            "(the EU's withdrawal period for distance sales), or 0 for no legal minimum."
        )
