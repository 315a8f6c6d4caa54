"""``flask mirette-returns db ...``: the plugin's migrations from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from . import migrate

db_cli = AppGroup(
    "db",
    help=(
        "The plugin's own tables (mirette_returns_*), migrated apart from the shop's: "
        "own Alembic history, own version table (mirette_returns_alembic_version)."
    ),
)

_sql_option = click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")


def _describe(revision: str | None) -> str:
    if revision is None:
        return "no revision (no tables yet)"
    suffix = " (newest)" if revision in migrate.heads() else ""
    return f"revision {revision}{suffix}"


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@_sql_option
def upgrade_command(revision: str, sql: bool) -> None:
    """Create or update the plugin's tables (to REVISION, default: the newest)."""
    if sql:
        click.echo(migrate.upgrade(revision, sql=True), nl=False)
        return
    migrate.upgrade(revision)
    click.echo(f"mirette-returns tables at {_describe(migrate.current())}.")


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
@_sql_option
def downgrade_command(revision: str, sql: bool) -> None:
    """Step the plugin's tables back (to REVISION, default: one step; 'base' drops them)."""
    if sql:
        click.echo(migrate.downgrade(revision, sql=True), nl=False)
        return
    migrate.downgrade(revision)
    click.echo(f"mirette-returns tables at {_describe(migrate.current())}.")


@db_cli.command("current")
def current_command() -> None:
    """Print the plugin's revision in the database."""
    click.echo(f"mirette-returns tables at {_describe(migrate.current())}.")


@db_cli.command("check")
def check_command() -> None:
    """Exit with status 1 unless the plugin's tables are up to date and match its models."""
    problems = migrate.check()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise SystemExit(1)
    click.echo(f"mirette-returns tables are up to date: {_describe(migrate.current())}.")


@db_cli.command("revision", hidden=True)
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--empty", is_flag=True, help="Write an empty revision instead of comparing with the models.")
def revision_command(message: str, empty: bool) -> None:
    """For the plugin's own developers: write a new revision into the package."""
    click.echo(migrate.revision(message, autogenerate=not empty))
