"""The committed Grafana dashboards are the generator's output, and well formed."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

GRAFANA = Path(__file__).resolve().parents[2] / "grafana"
generator: dict[str, Any] = runpy.run_path(str(GRAFANA / "dashboards.py"))


def test_committed_dashboards_equal_the_generated_ones() -> None:
    for name, build in generator["DASHBOARDS"].items():
        committed = (GRAFANA / "dashboards" / name).read_text(encoding="utf-8")
        assert generator["render"](build()) == committed, f"run `make dashboards` ({name})"


def test_panels_do_not_overlap_and_fit_24_columns() -> None:
    for name in generator["DASHBOARDS"]:
        board = json.loads((GRAFANA / "dashboards" / name).read_text())
        cells = set()
        for p in board["panels"]:
            g = p["gridPos"]
            assert g["x"] + g["w"] <= 24
            area = {
                (x, y)
                for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])
            }
            assert not cells & area, f"{name}: {p['title']} overlaps"
            cells |= area


def test_every_panel_queries_the_provisioned_datasource() -> None:
    for name in generator["DASHBOARDS"]:
        board = json.loads((GRAFANA / "dashboards" / name).read_text())
        for p in board["panels"]:
            assert "prometheus" == p["datasource"]["uid"]
            assert p["targets"]
            assert all(t["expr"].strip() for t in p["targets"])
