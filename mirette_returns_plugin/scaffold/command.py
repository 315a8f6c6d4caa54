"""``flask mirette-returns init``: propose the mapping, ask about the guesses, write it, check it."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import ScriptInfo, with_appcontext

from ..state import current_flask_app
from . import dry_run, proposal, writer
from .choices import Choice, survey


@click.command("init")
@with_appcontext
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("returns_mapping.py"), show_default=True, help="The file to write.")
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@click.option("--yes", "-y", is_flag=True, help="Ask nothing: take every proposal (for scripts).")
@click.option("--try", "try_order", metavar="ORDER_ID",
              help="Then show that order's Return Request page as its buyer would see it.")
def init_command(output: Path, force: bool, yes: bool, try_order: str | None) -> None:
    """Read the shop's models and write returns_mapping.py, the mapping that mounts the plugin.

    Every choice in the file says why it was made and what else was possible;
    the guesses are marked CHECK. Without --yes, a question is asked for each
    guess. No file of the shop is changed.
    """
    if output.exists() and not force:
        raise click.ClickException(f"{output} exists: nothing was written. Add --force to overwrite it, "
                                   "or choose another file with --output.")
    app = current_flask_app()
    try:
        shop = survey(app)
        answers: dict[str, int | str] = {}
        found = proposal.propose(shop, answers)
        while not yes:
            pending = [choice for choice in found.questions if choice.key not in answers]
            if not pending:
                break
            answers[pending[0].key] = _ask(pending[0])
            found = proposal.propose(shop, answers)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        # The survey only read (SELECT DISTINCT): end its transaction before the dry run.
        db = app.extensions.get("sqlalchemy")
        if db is not None:
            db.session.rollback()

    info = click.get_current_context().find_object(ScriptInfo)
    app_path = getattr(info, "app_import_path", None)
    text = writer.render(found, app_name=app.name, app_option=f" --app {app_path}" if app_path else "",
                         output=str(output), module=output.stem)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    checks = text.count("# CHECK:")
    click.echo(f"Wrote {output}: {checks} guess(es) marked CHECK to read before mounting.")

    click.echo("\nMounting it in memory (nothing is written, no page is served):")
    report, adapter = dry_run.check(app, output, found.settings)
    for note in report.notes:
        click.echo(f"  ok: {note}")
    for problem in report.problems:
        click.echo(f"  PROBLEM: {problem}")
    if report.ok and try_order:
        click.echo("")
        for line in dry_run.try_order(app, adapter, try_order, found.settings):
            click.echo(line)
    if not report.ok:
        raise click.ClickException(f"The mapping does not mount yet: fix the problems above in {output}.")
    click.echo(f"\nNext: read {output} (the settings, the mount and the button are at its top).")


def _ask(choice: Choice) -> int | str:
    """One question; the answer is an option's index, or a Python expression typed in."""
    click.echo(f"\n{choice.question}")
    for number, option in enumerate(choice.options, 1):
        said = option.label or option.source
        why = "" if option.why.startswith("answered ") else f"  ({option.why})"
        click.echo(f"  {number}. {said}{why}")
    if len(choice.options) == 1:
        typed = click.prompt("Press Enter to keep it, or type what to write instead",
                             default=choice.picked.source, show_default=False)
        return 0 if typed == choice.picked.source else typed
    return click.prompt("Your choice", type=click.IntRange(1, len(choice.options)), default=choice.chosen + 1) - 1
