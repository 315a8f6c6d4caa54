"""A real photo, made in memory and checked by the plugin, for the tests of both layers."""

from __future__ import annotations

import io

from PIL import Image

from mirette_returns_plugin.photos import PreparedPhoto
from mirette_returns_plugin.state import current_state


def photo(name: str = "damage.jpg", size: tuple[int, int] = (64, 48)) -> PreparedPhoto:
    """A real photo, checked and re-encoded by the plugin."""
    image = Image.new("RGB", size, (180, 40, 30))
    data = io.BytesIO()
    image.save(data, "JPEG")
    data.seek(0)
    return current_state().photos.prepare(data, name)
