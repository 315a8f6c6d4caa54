"""``flask mirette-returns ...`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

cli = AppGroup("mirette-returns", help="Cancellations, returns and exchanges (mirette-returns).")
