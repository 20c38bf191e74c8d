"""Default configuration files and the JSON Schemas of every message, shipped with the package."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

import yaml

from scoring.policy import Policy, PolicyError, parse_policy


def resource(name: str) -> Traversable:
    """Locate a file shipped in this package, e.g. `resource("schemas/health-dlq.json")`."""
    return resources.files(__name__).joinpath(name)


def load_policy(path: str | None = None) -> Policy:
    """Read and validate the scoring policy YAML (the packaged default when `path` is None)."""
    if path is None:
        source, text = "config/scoring.yaml", resource("scoring.yaml").read_text(encoding="utf-8")
    else:
        source = path
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise PolicyError(source, "(file)", "a readable file", str(exc)) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(source, "(document)", "valid YAML", str(exc)) from None
    return parse_policy(doc, source)
