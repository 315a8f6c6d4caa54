"""Fill a demo shop's database with a marketplace-sized history (for load tests).

    DEMO_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/mirette_bench_1k \\
        python benchmarks/generate_data.py --orders 500 --requests 1000 --messages 5000 \\
        --artists 20 --busiest 100 --summary /tmp/mirette-bench/1k-summary.json

The demo shop is created as ``flask --app mirette_returns_plugin.demo run``
creates it (its tables, and its seeded accounts on an empty database), then
``marketplace.generate`` appends the history. ``--help`` lists the options.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from marketplace import generate_command

from mirette_returns_plugin.demo import create_app

if __name__ == "__main__":
    with create_app().app_context():
        generate_command.main(prog_name="generate_data.py")
