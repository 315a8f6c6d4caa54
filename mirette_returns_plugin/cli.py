"""``flask mirette-returns ...`` commands."""

from __future__ import annotations

from flask.cli import AppGroup

cli = AppGroup("mirette-returns", help="Cancellations, returns and exchanges (mirette-returns).")

from .migrate_cli import db_cli  # noqa: E402

cli.add_command(db_cli)

from .delivery_cli import send_emails  # noqa: E402

cli.add_command(send_emails)

from .scaffold.command import init_command  # noqa: E402

cli.add_command(init_command)

from .reminders_cli import tick  # noqa: E402

cli.add_command(tick)
