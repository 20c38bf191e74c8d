"""Revenue movements and the retention measures (`scoring.revenue`, `stream.offline.business`):
every figure of a small history against values worked out by hand, and the laws that hold for
any history."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import revenue
from scoring.events import AccountUpdated, Churned, Renewed
from scoring.policy import PolicyError, parse_policy
from scoring.segments import Paying, new_facts
from scoring.state import APPLIED, CustomerState, apply_into
from stream.metrics import BusinessCollector, BusinessSnapshot
from stream.offline.backtest import read_files
from stream.offline.business import revenue_ledger
from stream.resources import load_policy
from tests.revenue_history import EXPECTED, HISTORY

POLICY = load_policy()


def _close(got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-9)


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[revenue.Month]]:
    path = tmp_path_factory.mktemp("revenue") / "history.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(doc) for _, doc in HISTORY))
    history = read_files([path])
    assert (history.events, history.rejected) == (len(HISTORY), 0)
    return revenue_ledger(history, POLICY).months(POLICY.gross_margin)


@pytest.mark.parametrize(("group", "month"), [(g, m) for g, per in EXPECTED.items() for m in per])
def test_every_figure_equals_the_hand_computed_one(
    months: dict[str, list[revenue.Month]], group: str, month: str
) -> None:
    got = {m.month: m for m in months[group]}[month].measures()
    want = EXPECTED[group][month]
    wrong = {k: (got[k], v) for k, v in want.items() if not _close(got[k], v)}
    assert {} == wrong


def test_the_groups_and_months_are_those_of_the_history(
    months: dict[str, list[revenue.Month]],
) -> None:
    assert set(EXPECTED) == set(months)
    assert ["2026-01", "2026-02", "2026-03", "2026-04"] == [m.month for m in months["all"]]
    # a month without movement is still a month: mid_market in April, the February cohort in
    # March
    assert ["2026-02", "2026-03", "2026-04"] == [m.month for m in months["cohort 2026-02"]]


def test_margin_comes_from_the_policy() -> None:
    doc = yaml.safe_load(Path("config/scoring.yaml").read_text())
    assert 0.8 == parse_policy(doc).gross_margin
    doc["revenue"]["gross_margin"] = 0.6
    assert 0.6 == parse_policy(doc).gross_margin
    doc["revenue"]["gross_margin"] = 1.5
    with pytest.raises(PolicyError, match=r"revenue\.gross_margin"):
        parse_policy(doc)
    del doc["revenue"]  # a policy written before the key: the default
    assert 0.8 == parse_policy(doc).gross_margin


def test_the_gauges_carry_segment_cohort_and_month(
    months: dict[str, list[revenue.Month]],
) -> None:
    collector = BusinessCollector()
    collector.snapshot = BusinessSnapshot(revenue=months)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in collector.collect()
        for s in family.samples
    }
    key = ("healthscore_revenue_nrr", (("month", "2026-04"), ("segment", "all")))
    assert math.isclose(1250 / 1050, samples[key])
    key = ("healthscore_cohort_ltv", (("cohort", "2026-01"), ("month", "2026-03")))
    assert math.isclose(60.0, samples[key])
    # an undefined measure is no sample, never a 0 that reads as a fact
    assert ("healthscore_revenue_ltv", (("month", "2026-04"), ("segment", "all"))) not in samples
    labels = {
        k for name, pairs in samples if "revenue_" in name or "cohort_" in name for k, _ in pairs
    }
    assert {"segment", "cohort", "month"} == labels


# --- laws ------------------------------------------------------------------------------------

CENTS = st.integers(min_value=0, max_value=10_000_000)
SEGMENTS = st.sampled_from(["smb", "mid_market", "enterprise"])


@given(SEGMENTS, CENTS, SEGMENTS, CENTS, st.booleans())
def test_changes_account_for_the_whole_difference(
    seg_a: str, before: int, seg_b: str, after: int, returning: bool
) -> None:
    moves = revenue.changes(seg_a, before, seg_b, after, returning)
    assert all(amount > 0 and kind in revenue.KINDS for kind, _, amount in moves)
    sign = {"new": 1, "reactivation": 1, "expansion": 1, "moved_in": 1}
    net = sum(sign.get(kind, -1) * amount for kind, _, amount in moves)
    assert after - before == net
    # per segment too: what left one segment and entered another is where it went
    per: dict[str, int] = {}
    for kind, segment, amount in moves:
        per[segment] = per.get(segment, 0) + sign.get(kind, -1) * amount
    want = {seg_a: -before} if before else {}
    if after:
        want[seg_b] = want.get(seg_b, 0) + after
    assert {k: v for k, v in want.items() if v} == {k: v for k, v in per.items() if v}


ACCOUNT = st.one_of(
    st.tuples(st.just("update"), st.one_of(st.none(), SEGMENTS), st.one_of(st.none(), CENTS)),
    st.tuples(st.just("churned"), st.none(), st.none()),
    st.tuples(st.just("renewed"), st.none(), st.none()),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(ACCOUNT, max_size=12), min_size=1, max_size=5))
def test_the_months_add_up_to_what_customers_pay(customers: list[list[tuple]]) -> None:  # type: ignore[type-arg]
    """Whatever the history: each month ends where the next starts, end = start + movements,
    and the last month's MRR and customers per segment are what the customers pay at the end."""
    ledger = revenue.Ledger()
    paying: dict[str, int] = {}
    payers: dict[str, int] = {}
    day = 86_400.0
    for c, events in enumerate(customers):
        state = CustomerState(f"c{c}")
        for i, (kind, segment, cents) in enumerate(events):
            at = 1_767_225_600.0 + (i * 11 + c) * day  # 2026-01-01 on, months apart at times
            eid = f"c{c}-{i}"
            if kind == "update":
                mrr = None if cents is None else cents / 100
                event = AccountUpdated(eid, f"c{c}", at, segment=segment, mrr=mrr)
            elif kind == "churned":
                event = Churned(eid, f"c{c}", at)
            else:
                event = Renewed(eid, f"c{c}", at)
            before = Paying(state)
            assert APPLIED == apply_into(state, event, POLICY)
            for fact in new_facts(before, state, event):
                if fact.kind.startswith("mrr_"):
                    ledger.add(fact.kind[4:], fact.segment or "unknown", int(fact.value), at, "x")
        owed = revenue.cents(state.mrr, state.is_churned)
        if owed:
            seg = state.segment or "unknown"
            paying[seg] = paying.get(seg, 0) + owed
            payers[seg] = payers.get(seg, 0) + 1
    last = max((m for t in ledger.groups.values() for m in t), default=None)
    result = ledger.months(0.8, last)
    for group, months in result.items():
        for a, b in itertools.pairwise(months):
            assert math.isclose(a.end_mrr, b.start_mrr, abs_tol=1e-6)
            assert a.end_logos == b.start_logos
        if group in ("all", "cohort x"):
            want, count = sum(paying.values()), sum(payers.values())
        else:
            want, count = paying.get(group, 0), payers.get(group, 0)
        assert math.isclose(want / 100, months[-1].end_mrr, abs_tol=1e-6)
        assert count == months[-1].end_logos
        for m in months:
            assert m.end_logos >= 0
            assert m.end_mrr >= -1e-6
            if m.grr is not None and m.nrr is not None:
                assert m.grr <= m.nrr + 1e-12  # expansion only adds
                assert m.grr <= 1 + 1e-12


# --- `healthscore report` as a user runs it --------------------------------------------------


def test_report_prints_the_tables_and_writes_json_and_html(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stream.cli import app

    history = tmp_path / "history.jsonl"
    history.write_bytes(b"\n".join(orjson.dumps(doc) for _, doc in HISTORY))
    out, page = tmp_path / "report.json", tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        ["report", str(history), "--cutoff", "2026-02-15", "--json", str(out), "--html", str(page)],
        env={"COLUMNS": "200"},
    )
    assert 0 == result.exit_code, result.output
    for title in ("Revenue, every customer, by month", "Per segment", "Per cohort", "Support"):
        assert title in result.output
    figures = orjson.loads(out.read_bytes())
    months = {m["month"]: m for m in figures["revenue"]["all"]["months"]}
    assert math.isclose(1250 / 1050, months["2026-04"]["nrr"])
    assert math.isclose(840.0, months["2026-03"]["ltv"])
    text = page.read_text()
    assert text.count("<img src='data:image/png;base64,") >= 3  # movements, retention, cohorts
    assert "MRR movements, every customer" in text


def test_report_json_to_stdout_and_a_clear_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stream.cli import app

    history = tmp_path / "history.jsonl"
    history.write_bytes(b"\n".join(orjson.dumps(doc) for _, doc in HISTORY))
    result = CliRunner().invoke(
        app, ["report", str(history), "--cutoff", "2026-02-15", "--json", "-"]
    )
    assert 0 == result.exit_code, result.output
    assert "cohort 2026-01" in orjson.loads(result.stdout)["revenue"]
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nope.jsonl")])
    assert 2 == missing.exit_code
    assert "no such file" in " ".join(missing.output.split())


def test_report_on_the_simulator_shows_every_kind_of_movement(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stream.cli import app
    from stream.offline.datasets import simulate_churn

    simulate_churn(tmp_path, customers=300, days=400, seed=5)
    out, page = tmp_path / "report.json", tmp_path / "report.html"
    events = str(tmp_path / "events.jsonl.gz")
    result = CliRunner().invoke(app, ["report", events, "--json", str(out), "--html", str(page)])
    assert 0 == result.exit_code, result.output
    every = orjson.loads(out.read_bytes())["revenue"]["all"]["months"]
    for kind in ("new", "expansion", "contraction", "churn", "reactivation"):
        assert sum(m[f"mrr_{kind}"] for m in every) > 0, kind
    assert {"smb", "mid_market", "enterprise"} <= set(orjson.loads(out.read_bytes())["revenue"])
    assert page.read_text().count("data:image/png;base64,") == 4


def test_report_on_a_public_set_compares_support_and_retention(tmp_path: Path) -> None:
    """The `saas` set (PyPI pysurvival's churn.csv, cached): no revenue in it, so the report
    says so, and compares churn of customers who contacted support with the others."""
    from typer.testing import CliRunner

    from stream.cli import app
    from stream.offline.datasets import saas

    saas(tmp_path)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(tmp_path / "events.jsonl.gz"),
            "--labels",
            str(tmp_path / "labels.csv"),
            "--cutoff",
            "2020-01-01",
            "--json",
            str(out),
            "--html",
            str(tmp_path / "report.html"),
        ],
        env={"COLUMNS": "200"},
    )
    assert 0 == result.exit_code, result.output
    assert "no MRR in the history" in result.output
    rows = {r["segment"]: r for r in orjson.loads(out.read_bytes())["support"]["segments"]}
    every = rows["all"]
    assert every["contacted"]["customers"] + every["not_contacted"]["customers"] == 2000
    lo, hi = every["difference_interval"]
    assert lo <= every["difference"] <= hi
    assert "data:image/png;base64," in (tmp_path / "report.html").read_text()
