"""Example shops that mount mirette-returns (not part of the installed package).

``examples.corner_shop`` is a single-seller tea shop, deliberately unlike the
demo marketplace: UUID keys, integer status codes, no foreign keys, its own
login and layout. Run it from the repository root with
``flask --app examples.corner_shop run``.
"""
