"""The files shipped beside the code: the default scoring policy, JSON Schemas, Prometheus rules.

They live in the repository's `config/` directory, which is data, not a Python package (a
top-level package named `config` would clash with a user's own). They are found next to the
installed packages (a checkout or an editable install), or under `HEALTHSCORE_CONFIG_DIR` (the
Docker image sets it).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from scoring.policy import Policy, PolicyError, parse_policy

CONFIG_DIR_VARIABLE = "HEALTHSCORE_CONFIG_DIR"


def config_dir() -> Path:
    """The directory holding the shipped configuration files."""
    configured = os.environ.get(CONFIG_DIR_VARIABLE)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "config"


def resource(name: str) -> Path:
    """Locate a shipped file, e.g. `resource("schemas/health-dlq.json")`."""
    path = config_dir() / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: a shipped configuration file is missing; set {CONFIG_DIR_VARIABLE} to the "
            "directory holding the repository's config/ files"
        )
    return path


def load_policy(path: str | None = None) -> Policy:
    """Read and validate the scoring policy YAML (the shipped default when `path` is None)."""
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
