"""``flask --app mirette_returns_plugin.demo demo-reset``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import wait_for_background
from .setup import drop_everything, reset_database


@click.command("demo-reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def demo_reset(yes: bool) -> None:
    """Empty the demo's database and seed it again (orders dated from today)."""
    if not yes:
        click.confirm("Delete every order, request and email of the demo and seed it again?", abort=True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Emails of this process are sent by a background thread: let it finish
    # before the tables go, and before the process ends.
    wait_for_background(app)
    drop_everything()
    reset_database()
    wait_for_background(app)
    click.echo("The demo shop was reset: seeded accounts, artists and orders are back.")
