"""The Flask extension object."""

from __future__ import annotations

from flask import Flask

from .adapter import ShopAdapter
from .cli import cli
from .mount import PREFIX, check_adapter, mount, read_config
from .photos import PhotoStorage

__all__ = ["PREFIX", "MiretteReturns", "check_adapter", "read_config"]


class MiretteReturns:
    """Cancellation, return and exchange pages for a Flask shop.

    ::

        returns = MiretteReturns(app, adapter=MyShopAdapter())
        # or, with an app factory:
        returns = MiretteReturns()
        returns.init_app(app, adapter=MyShopAdapter())

    The shop's Flask-SQLAlchemy extension must be set up first; the plugin
    uses its session and engine for its own tables.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        adapter: ShopAdapter | None = None,
        photo_storage: PhotoStorage | None = None,
    ) -> None:
        self.adapter = adapter
        self.photo_storage = photo_storage
        if app is not None:
            self.init_app(app)

    def init_app(
        self,
        app: Flask,
        *,
        adapter: ShopAdapter | None = None,
        photo_storage: PhotoStorage | None = None,
    ) -> None:
        """Mount the plugin on ``app``.

        ``adapter`` (or the one given to the constructor) connects the plugin
        to the shop's orders; ``photo_storage`` replaces the local folder.
        """
        mount(app, adapter or self.adapter, photo_storage or self.photo_storage)
        app.cli.add_command(cli)
