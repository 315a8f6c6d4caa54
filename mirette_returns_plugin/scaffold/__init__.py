"""``flask mirette-returns init``: read the shop's models and propose its mount.

One job per module:

* :mod:`.inventory` reads the shop's mapped classes: columns, keys, links;
* :mod:`.roles` scores which model holds the orders, lines, users, products, sellers;
* :mod:`.stages` reads the status values in the database and proposes a stage for each;
* :mod:`.signed_in` finds how the shop knows who is signed in;
* :mod:`.fields` lists every mapping field the generator fills (add new ones there);
* :mod:`.choices` holds what a proposal is made of: choices, options, blocks;
* :mod:`.proposal` puts the choices together, with why and the alternatives;
* :mod:`.writer` writes ``returns_mapping.py``;
* :mod:`.dry_run` mounts it in memory and shows an order as its buyer would see it;
* :mod:`.command` is the command and its questions.
"""
