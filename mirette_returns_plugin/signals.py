"""Blinker signals a shop can connect to.

Each is sent once, after the change was committed (never for a change that
was refused or rolled back, nor for a service call made with ``commit=False``,
whose caller owns the commit), with the Flask app as sender and the plugin's
:class:`~mirette_returns_plugin.models.Request` as ``request``::

    from mirette_returns_plugin import signals

    @signals.status_changed.connect_via(app)
    def log_change(app, request, entry, **extra): ...
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A request was submitted. Arguments: ``request``.
request_created = _signals.signal("mirette-returns-request-created")
#: A step was recorded in a request's history: a status change, or a step
#: that keeps the status (escalation, a failed refund attempt, ...); compare
#: ``entry.from_status`` and ``entry.to_status``. Arguments: ``request``,
#: ``entry`` (the history row).
status_changed = _signals.signal("mirette-returns-status-changed")
#: A message was posted. Arguments: ``request``, ``message``.
message_posted = _signals.signal("mirette-returns-message-posted")
#: The shop accepted a refund order. Arguments: ``request``, ``refund``.
refund_initiated = _signals.signal("mirette-returns-refund-initiated")
#: The shop confirmed a refund. Arguments: ``request``, ``refund``.
refund_confirmed = _signals.signal("mirette-returns-refund-confirmed")
