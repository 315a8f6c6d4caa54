"""A marketplace-sized history for the benchmarks and load tests (not shipped with the plugin)."""

from .generate import generate, generate_command
from .paths import FINAL
from .scale import FULL_PAGE, Landmarks, Scale

__all__ = ["FINAL", "FULL_PAGE", "Landmarks", "Scale", "generate", "generate_command"]
