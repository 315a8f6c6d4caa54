"""Fill the demo shop's database with a marketplace-sized history, for load tests.

``python benchmarks/generate_data.py --orders 100000 --requests 200000
--messages 1000000 --artists 1000 --busiest 20000`` adds artists, buyers,
products, orders at every stage and, through the plugin's own tables,
requests with their history, messages and refunds, all consistent with each
other: a request refers to a real order, part and line of the shop, its
status is one the workflow can reach, its history is the path that leads
there, its quantity never exceeds the line's. Every filter of the support
list gets a full first page at every scale (``full_pages``).

Rows are written in bulk (``bulk_load``) with explicit ids, so that a few
hundred thousand requests load in minutes. The data is appended: existing
rows are kept, and the run is reproducible for a given ``--seed``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from dataclasses import asdict
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from mirette_returns_plugin.demo.models import Account, db
from mirette_returns_plugin.models import PartLock, RequestArtist, utcnow

from .bulk_load import BulkWriter, all_tables, analyse, next_ids, reset_sequences
from .plan import Ids, plan_history
from .rows import demo_urls, part_lock_rows, request_artist_rows, request_rows, shop_row_count, shop_rows
from .scale import Landmarks, Scale


class NoProgress:
    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, steps: int, current_item: object = None) -> None:
        return None


def generate(scale: Scale, *, progress: Callable[[int], ContextManager] | None = None) -> Landmarks:
    """Append ``scale``'s worth of marketplace history to the app's database.

    ``progress(total_rows)`` returns a context manager with an
    ``update(rows, table_name)`` method (``click.progressbar`` is one).
    Creates the tables that are missing. Runs in one transaction.
    """
    scale.check()
    engine = db.engine
    missing = [t.name for t in all_tables() if not sa.inspect(engine).has_table(t.name)]
    if missing:
        raise click.ClickException(
            f"The database has no table {', '.join(missing)}: let the demo create its tables first "
            "(it does on its first start, unless DEMO_SEED is False).")
    now = utcnow()
    with engine.begin() as connection:
        ids = Ids(next_ids(connection))
        support = connection.execute(
            sa.select(Account.id, Account.name, Account.email).where(Account.is_support).order_by(Account.id).limit(1)
        ).first()
        plan = plan_history(scale, ids, now, support.email if support else None)
        support_author = (str(support.id), support.name) if support else (str(plan.new_support[0]),
                                                                            plan.new_support[1])
        urls = demo_urls(plan)
        artist_rows = request_artist_rows(plan)
        total = (shop_row_count(plan) + len(plan.requests) + plan.history_rows + scale.messages
                 + 2 * plan.refund_rows + plan.part_lock_rows + len(artist_rows))
        with (progress or (lambda _total: NoProgress()))(total) as bar:
            writer = BulkWriter(connection, bar.update)
            for table, rows in shop_rows(plan):
                writer.write(table, rows)
            for table, rows in request_rows(plan, ids, urls, random.Random(scale.seed + 1), support_author):
                writer.write(table, rows)
            writer.write(PartLock.__table__, part_lock_rows(plan, ids))
            writer.write(RequestArtist.__table__, artist_rows)
        reset_sequences(connection, writer.counts)
    analyse(engine)
    long_thread, post_target = plan.landmarks
    return Landmarks(
        busiest_artist_ref=str(plan.artists[0].id),
        busiest_artist_email=plan.artists[0].email,
        long_thread_request_id=long_thread.id,
        long_thread_buyer_email=long_thread.part.order.buyer.email,
        post_request_id=post_target.id,
        support_email=plan.support_email,
        rows=writer.counts,
    )


@click.command("generate-marketplace")
@click.option("--orders", type=click.IntRange(min=2), default=100_000, show_default=True)
@click.option("--requests", type=click.IntRange(min=2), default=200_000, show_default=True)
@click.option("--messages", type=click.IntRange(min=0), default=1_000_000, show_default=True)
@click.option("--artists", type=click.IntRange(min=1), default=1_000, show_default=True)
@click.option("--busiest", type=click.IntRange(min=2), default=20_000, show_default=True,
              help="Requests of the busiest artist.")
@click.option("--buyers", type=click.IntRange(min=0), default=0, help="Buyer accounts [default: orders / 8].")
@click.option("--long-thread", type=click.IntRange(min=0), default=50, show_default=True,
              help="Messages of the one long thread.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
@click.option("--summary", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write what was generated (ids, emails, row counts) to this JSON file.")
@with_appcontext
def generate_command(orders: int, requests: int, messages: int, artists: int, busiest: int, buyers: int,
                     long_thread: int, seed: int, summary: Path | None) -> None:
    """Fill the demo database with a marketplace-sized history (for load tests)."""
    scale = Scale(orders=orders, requests=requests, messages=messages, artists=artists, busiest=busiest,
                  buyers=buyers, long_thread=long_thread, seed=seed)

    def bar(total: int):
        return click.progressbar(length=total, label="Generating", show_pos=True, show_percent=True,
                                 item_show_func=lambda table: table or "")

    landmarks = generate(scale, progress=bar)
    for table, count in landmarks.rows.items():
        click.echo(f"{table:32} {count:>10,}")
    click.echo(f"Busiest artist: {landmarks.busiest_artist_email} (artist {landmarks.busiest_artist_ref})")
    click.echo(f"Long thread: request {landmarks.long_thread_request_id} "
               f"(buyer {landmarks.long_thread_buyer_email}); post to request {landmarks.post_request_id}")
    click.echo(f"Support: {landmarks.support_email}")
    if summary:
        summary.write_text(json.dumps(asdict(landmarks), indent=2) + "\n", encoding="utf-8")
