"""Default configuration files and the JSON Schemas of every message, shipped with the package."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def resource(name: str) -> Traversable:
    """Locate a file shipped in this package, e.g. `resource("schemas/health-dlq.json")`."""
    return resources.files(__name__).joinpath(name)
