"""Validation against the real stack: a candidate policy running as a shadow beside the live one,
and `healthscore backtest --kafka` reading a topic range from the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring.health import score
from stream.offline import backtest as bt
from stream.resources import load_policy, resource

from .conftest import Stack
from .harness import Run, Topics, produce, read_topic
from .histories import DAY, Doc, declining, doc, healthy

LIVE = load_policy()


def candidate(path: Path, **changes: Any) -> Path:
    """The shipped policy with other weights and a calibration: a shadow can run it."""
    doc_ = yaml.safe_load(Path(str(resource("scoring.yaml"))).read_text())
    doc_["version"] = "candidate"
    doc_["segments"]["smb"] = {"usage": 0.9, "support": 0.05, "sentiment": 0.05}
    doc_["calibration"] = {"default": {"horizon_days": 90, "intercept": 2.0, "slope": 6.0}}
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        doc_[section][key] = value
    path.write_text(yaml.safe_dump(doc_))
    return path


def history() -> list[Doc]:
    docs = healthy("steady") + declining("fading")
    docs.append(doc("account", "churned", "fading", 40 * DAY))
    return docs


def test_a_shadow_policy_scores_beside_the_live_one_on_its_own_topics(
    stack: Stack, tmp_path: Path
) -> None:
    topics = Topics()
    shadow_scores, shadow_alerts = f"{topics.tag}-shadow-scores", f"{topics.tag}-shadow-alerts"
    policy = candidate(tmp_path / "candidate.yaml")
    run = Run(
        stack,
        topics,
        tmp_path,
        publish_min_step="0",
        extra_env={
            "HEALTHSCORE_SHADOW_POLICY_FILE": str(policy),
            "HEALTHSCORE_TOPIC_SHADOW_SCORES": shadow_scores,
            "HEALTHSCORE_TOPIC_SHADOW_ALERTS": shadow_alerts,
        },
    )
    run.start()
    try:
        docs = history()
        accounts = [d for d in docs if d[1]["type"] == "account_updated"]
        produce(stack, topics, accounts)  # customers exist before they act
        run.wait_drained()
        produce(stack, topics, [d for d in docs if d not in accounts])
        run.wait_drained()
        run.wait_quiet()
    finally:
        run.stop_all()
    shadow_policy = load_policy(str(policy))
    live = read_topic(stack, topics.scores)
    shadow = read_topic(stack, shadow_scores)
    assert {LIVE.model} == {v["model"] for _, v in live}
    assert {None} == {v["churn_probability"] for _, v in live}
    assert {shadow_policy.model} == {v["model"] for _, v in shadow}
    assert {"steady", "fading"} == {k for k, _ in shadow}
    assert all(0.0 < v["churn_probability"] < 1.0 for _, v in shadow)
    # each policy's last score is the scoring core's, from the one state the worker keeps
    records = run.records()
    for cid, record in dict(shadow).items():
        at = bt.parse_time(record["as_of"])
        expected = score(records[cid].current_state(), shadow_policy, at)
        assert expected is not None
        assert (expected.score, expected.churn_probability) == (
            record["score"],
            record["churn_probability"],
        )
    for cid, record in dict(live).items():
        expected = score(records[cid].current_state(), LIVE, bt.parse_time(record["as_of"]))
        assert expected is not None
        assert expected.score == record["score"]
    assert dict(shadow)["fading"]["score"] != dict(live)["fading"]["score"]
    # every rule the fading customer fired, whether it led an alert or joined one (the
    # episode has ended: the customer churned)
    fading = records["fading"]
    shadow_rules = {r for r, rs in fading.shadow_memory.rules.items() if rs.last_raised_at}
    live_rules = {r for r, rs in fading.alerts.rules.items() if rs.last_raised_at}
    shadow_led = {v["rule"] for k, v in read_topic(stack, shadow_alerts) if k == "fading"}
    live_led = {v["rule"] for k, v in read_topic(stack, topics.alerts) if k == "fading"}
    assert shadow_led
    assert shadow_led <= shadow_rules
    assert live_led
    assert live_led <= live_rules
    assert "inactivity" in shadow_rules
    assert "inactivity" in live_rules  # the live alerts still go where they went


def test_a_shadow_that_would_need_states_of_its_own_is_refused_by_name(
    stack: Stack, tmp_path: Path
) -> None:
    policy = candidate(tmp_path / "other.yaml", usage__long_half_life_days=14)
    run = Run(stack, Topics(), tmp_path, extra_env={"HEALTHSCORE_SHADOW_POLICY_FILE": str(policy)})
    with pytest.raises(AssertionError, match=r"usage\.long_half_life_days"):
        run.start()
    run.stop_all()


def test_backtest_reads_a_topic_range_from_kafka_as_it_reads_a_file(
    stack: Stack, tmp_path: Path
) -> None:
    topics = Topics()
    docs = history()
    produce(stack, topics, docs)
    lines = tmp_path / "history.jsonl"
    lines.write_text("".join(json.dumps(d) + "\n" for _, d in docs))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHSCORE_")}
    env.update(topics.env())
    env["HEALTHSCORE_KAFKA_BOOTSTRAP_SERVERS"] = stack.bootstrap
    common = ["--cutoff", "2026-01-20", "--horizon-days", "60", "--workers", "1"]

    def backtest(*source: str, out: str) -> dict[str, Any]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "stream.cli",
                "backtest",
                *source,
                *common,
                "--json",
                str(tmp_path / out),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert 0 == done.returncode, done.stdout + done.stderr
        return json.loads((tmp_path / out).read_text())  # type: ignore[no-any-return]

    from_kafka = backtest("--kafka", out="kafka.json")
    from_file = backtest(str(lines), out="file.json")
    assert len(docs) == from_kafka["events"]
    assert 1.0 == from_kafka["score"]["auc"]  # the customer who churned scored lower
    for key in ("events", "customers", "rows", "churners", "score", "bands", "alert_rules"):
        assert from_file[key] == from_kafka[key], key
