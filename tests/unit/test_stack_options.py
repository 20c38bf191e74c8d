"""The stack launcher's configuration and status reporting, without starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stream.dev.stack import StackError, StackOptions, status, up
from stream.dev.stack.launcher import _kafka_properties, cluster_id, ensure_kafka_jars
from stream.dev.stack.prometheus import prometheus_config


def test_kafka_properties_name_the_configured_ports(tmp_path: Path) -> None:
    opts = StackOptions(state_dir=tmp_path, kafka_port=29092, controller_port=29093)
    props = _kafka_properties(opts, tmp_path / "data")
    assert "listeners=PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093" in props
    assert "controller.quorum.voters=1@127.0.0.1:29093" in props
    assert "process.roles=broker,controller" in props


def test_a_cluster_of_three_votes_together_and_replicates_three_times(tmp_path: Path) -> None:
    opts = StackOptions(
        state_dir=tmp_path, kafka_port=29092, controller_port=29093, kafka_brokers=3
    )
    assert opts.bootstrap == "127.0.0.1:29092,127.0.0.1:29094,127.0.0.1:29096"
    assert opts.broker_names == ("kafka", "kafka-2", "kafka-3")
    third = _kafka_properties(opts, tmp_path / "data-3", 2)
    voters = "1@127.0.0.1:29093,2@127.0.0.1:29095,3@127.0.0.1:29097"
    assert f"controller.quorum.voters={voters}" in third
    assert "node.id=3" in third
    assert "listeners=PLAINTEXT://127.0.0.1:29096,CONTROLLER://127.0.0.1:29097" in third
    for line in (
        "default.replication.factor=3",
        "min.insync.replicas=2",
        "offsets.topic.replication.factor=3",
        "transaction.state.log.min.isr=2",
    ):
        assert line in third.splitlines()
    single = _kafka_properties(StackOptions(state_dir=tmp_path), tmp_path / "data")
    assert "min.insync.replicas=1" in single.splitlines()


def test_status_of_a_stack_never_started_says_stopped(tmp_path: Path) -> None:
    services = status(StackOptions(state_dir=tmp_path, kafka_port=1, redis_port=2))
    assert {"kafka": "stopped", "redis": "stopped"} == {n: s.state for n, s in services.items()}


def test_a_corrupt_state_file_gives_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text("{nope")
    with pytest.raises(StackError, match="remove it and run `stack up` again"):
        status(StackOptions(state_dir=tmp_path))


def test_missing_maven_is_reported_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError, match="apt-get install -y maven"):
        ensure_kafka_jars(StackOptions(cache_dir=tmp_path / "cache"), report=lambda _: None)


def test_a_cluster_id_never_starts_with_a_dash() -> None:
    # 0xF8 encodes to "-" in URL-safe base64: the first draw would read as an option.
    draws = iter([b"\xf8" * 16, b"\x01" * 16])
    text = cluster_id(lambda: next(draws))
    assert text == "AQEBAQEBAQEBAQEBAQEBAQ"
    assert len(cluster_id()) == 22


def test_a_redis_cluster_is_six_nodes_on_consecutive_ports_whose_bus_ports_must_exist(
    tmp_path: Path,
) -> None:
    opts = StackOptions(state_dir=tmp_path, redis_port=7000, redis_cluster=True)
    assert opts.redis_names == ("redis", "redis-2", "redis-3", "redis-4", "redis-5", "redis-6")
    assert [opts.redis_port_of(i) for i in range(opts.redis_nodes)] == [*range(7000, 7006)]
    assert opts.redis_url == "redis://127.0.0.1:7000/0"
    assert StackOptions(state_dir=tmp_path).redis_names == ("redis",)
    with pytest.raises(StackError, match="--redis-port must be at most 55530"):
        up(StackOptions(state_dir=tmp_path, redis_port=55531, redis_cluster=True), lambda _: None)


def test_prometheus_sends_its_alerts_to_the_stacks_alertmanager(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    plain = yaml.safe_load(prometheus_config(["127.0.0.1:6066"], rules))
    assert "alerting" not in plain
    config = yaml.safe_load(prometheus_config(["127.0.0.1:6066"], rules, alertmanager="h:9193"))
    assert [{"static_configs": [{"targets": ["h:9193"]}]}] == config["alerting"]["alertmanagers"]
    assert ["127.0.0.1:6066"] == config["scrape_configs"][0]["static_configs"][0]["targets"]
