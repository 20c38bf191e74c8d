"""One frozen settings object, built at the edge from a YAML file and `HEALTHSCORE_*` variables.

Precedence: keyword arguments, then environment variables, then the YAML file named by
`HEALTHSCORE_CONFIG_FILE` (keys are the field names below), then the defaults.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from stream.codec import DEFAULT_MAX_MESSAGE_BYTES
from stream.contract import INPUT_TOPICS, OUTPUT_TOPICS
from stream.i18n import Languages

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class Settings(BaseSettings):
    """Worker and tool settings; every field reads `HEALTHSCORE_<FIELD>` from the environment."""

    # errors name the field and the rule but never echo the value: it may be a secret
    model_config = SettingsConfigDict(
        env_prefix="HEALTHSCORE_", frozen=True, extra="forbid", hide_input_in_errors=True
    )

    # Kafka
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="host:port[,host:port]")
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    app_id: str = Field("healthscore", min_length=1, description="Kafka consumer group id")
    partitions: int = Field(
        12,
        ge=1,
        le=1024,
        description="partitions of every topic we create: the most worker processes that get "
        "work, and the batches one worker has in flight at once (12: even shares for 1, 2, 3, "
        "4, 6 or 12 processes)",
    )
    replication_factor: int = Field(
        1,
        ge=1,
        le=16,
        description="replicas of every topic we create (3 on a cluster of three brokers, whose "
        "min.insync.replicas=2 then lets one broker fail without losing an acknowledged write)",
    )

    # Redis: redis:// or rediss:// (TLS), password in the URL
    redis_url: SecretStr = Field(SecretStr("redis://127.0.0.1:6379/0"))
    redis_key_prefix: str = Field("hs", min_length=1, max_length=32)
    redis_retry_max_seconds: float = Field(5.0, gt=0, description="backoff ceiling on Redis errors")
    redis_cluster: bool = Field(
        False,
        description="redis_url names one node of a Redis Cluster: commands are routed by slot "
        "(every key of a customer shares its hash tag) and follow failovers",
    )
    redis_wait_replicas: int = Field(
        0,
        ge=0,
        le=16,
        description="replicas that must hold a write before its Kafka offset is committed "
        "(Redis WAIT); 1 on a Redis Cluster with replicas, so a failover loses nothing "
        "acknowledged",
    )

    # Alertmanager: churn alerts forwarded there, re-sent while open, resolved on recovery
    alertmanager_url: str | None = Field(
        None, description="Alertmanager's base URL (http://host:9093); unset: not forwarded"
    )
    alertmanager_resend_seconds: float = Field(
        60.0, gt=0, le=3600, description="how often open alerts are sent again"
    )
    public_url: str | None = Field(
        None,
        description="the base URL managers reach the worker's pages at, for links in alerts "
        "(default http://<web_host>:<web_port>)",
    )

    # Languages (stream.i18n): who reads which
    locale: str = Field(
        "en",
        description="the deployment's language for alerts, published scores and pages: en, "
        "ru, lv or zh (a customer's owner's language, then the customer's own `locale` "
        "attribute, come first; a page's reader chooses with ?lang= or Accept-Language)",
    )
    owner_locales: dict[str, str] = Field(
        default_factory=dict,
        description='each owner\'s language, as JSON: {"ana@example.com": "lv", "li@example.com": '
        "\"zh\"}; an owner not listed reads the customer's language, else the deployment's",
    )

    # HTTP
    web_host: str = Field("127.0.0.1", description="address the HTTP API binds")
    web_port: int = Field(6066, ge=1, le=65535)
    web_token: SecretStr | None = Field(
        None,
        description="bearer token the customer and metrics pages require (`Authorization: "
        "Bearer <token>`); required when web_host is not a loopback address",
    )

    # Engine
    policy_file: Path | None = Field(None, description="scoring policy YAML; None = packaged")
    shadow_policy_file: Path | None = Field(
        None,
        description="a candidate policy scored beside the live one on the same stream; its "
        "scores and alerts go to the shadow topics only (None: no shadow)",
    )
    max_message_bytes: int = Field(DEFAULT_MAX_MESSAGE_BYTES, ge=256, le=16 * 1024 * 1024)
    publish_min_step: float = Field(1.0, ge=0, description="points a score must move to publish")
    allowed_lateness_seconds: float = Field(60.0, ge=0, description="event-time lateness allowed")
    reevaluate_every_seconds: float = Field(
        7 * 86_400.0,
        gt=0,
        description="the grid of event time on which a silent customer whose score still "
        "drifts is re-evaluated, at the first step at which it moved 2 points (band "
        "crossings, drop alerts, inactivity and SLAs are evaluated at the moment they happen)",
    )
    evaluate_every_event: bool = Field(
        False,
        description="evaluate a customer (score, alerts, next due time) after every event, as a "
        "replay does, instead of once per customer per batch at its latest event time: "
        "identical alerts however the stream was batched, at several times the CPU per event",
    )
    record_cache_size: int = Field(
        100_000,
        ge=0,
        le=10_000_000,
        description="customer records a worker keeps in memory between batches (about 4 KiB "
        "each), so Redis is read only on a miss; cleared at each rebalance; 0: none",
    )
    input_idle_seconds: float = Field(
        10.0,
        ge=0,
        description="how long an input topic that is caught up but behind the others in event "
        "time is waited for before it counts as idle (its producer may be pausing)",
    )
    merge_buffer: int = Field(
        10_000,
        ge=10,
        le=1_000_000,
        description="messages buffered per input topic-partition for the event-time merge "
        "before its fetching is paused (resumed below half); at least twice batch_max, so a "
        "whole batch is still buffered while the next is fetched",
    )
    timer_interval_seconds: float = Field(1.0, gt=0, description="how often the timer looks")
    batch_max: int = Field(
        5000,
        ge=1,
        le=100_000,
        description="messages of one partition applied as one batch: a customer is evaluated, "
        "published and stored once per batch, so a busy customer costs less per event in bigger "
        "ones; a batch never waits longer than batch_within_seconds to fill",
    )
    batch_within_seconds: float = Field(0.05, gt=0, le=10)
    fetch_max_wait_seconds: float = Field(
        0.1,
        gt=0,
        le=30,
        description="how long the broker may hold a fetch for fetch_min_bytes to gather "
        "(Kafka's fetch.max.wait.ms): a live event waits at most about this long to be "
        "fetched (Faust's own 1.5 s left busy partitions unfetched behind a fetch of quiet ones)",
    )
    fetch_min_bytes: int = Field(
        262_144,
        ge=1,
        le=52_428_800,
        description="how much data the broker gathers before it answers a fetch, unless "
        "fetch_max_wait_seconds passes first (Kafka's fetch.min.bytes): fetches answered at "
        "the first byte took a live worker 89% of a core at 5,000 events/s, against 64%",
    )
    producer_batch_bytes: int = Field(
        1_000_000,
        ge=16_384,
        le=52_428_800,
        description="the most bytes of one partition's outputs sent to the broker as one batch "
        "(Kafka's batch.size; the clients' default is 16,384): a score update is about 1.3 KB, "
        "and batches of 16 KiB cost a draining worker up to an eighth of its throughput. At most "
        "the broker's message.max.bytes (1,048,588 by default); a batch the broker refuses as "
        "too large is sent again in halves",
    )
    commit_interval_seconds: float = Field(
        2.8,
        gt=0,
        le=60,
        description="how often processed offsets are committed; a crash re-reads at most this "
        "much, which the per-customer offset check skips",
    )

    # Topics
    topic_usage: str = INPUT_TOPICS["usage"]
    topic_support: str = INPUT_TOPICS["support"]
    topic_survey: str = INPUT_TOPICS["survey"]
    topic_account: str = INPUT_TOPICS["account"]
    topic_scores: str = OUTPUT_TOPICS["scores"]
    topic_alerts: str = OUTPUT_TOPICS["alerts"]
    topic_shadow_scores: str = "health-scores-shadow"
    topic_shadow_alerts: str = "churn-alerts-shadow"
    topic_dlq: str = OUTPUT_TOPICS["dlq"]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("HEALTHSCORE_CONFIG_FILE")
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @model_validator(mode="after")
    def _check_security(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                "kafka_sasl_username and kafka_sasl_password are required when "
                f"kafka_security_protocol is {self.kafka_security_protocol}"
            )
        if self.web_token is None and not is_loopback(self.web_host):
            raise ValueError(
                f"web_token (HEALTHSCORE_WEB_TOKEN) is required when web_host is "
                f"{self.web_host!r}: the HTTP API serves customer data, so off this machine it "
                "takes a bearer token (or bind 127.0.0.1)"
            )
        if self.web_token is not None and len(self.web_token.get_secret_value()) < 16:
            raise ValueError("web_token must be at least 16 characters")
        if self.merge_buffer < 2 * self.batch_max:
            raise ValueError(
                f"merge_buffer ({self.merge_buffer}) must be at least twice batch_max "
                f"({self.batch_max}): a batch is taken from what the merge buffers, an input "
                "is fetched again once below half, and with less each batch waits on a fetch "
                "(HEALTHSCORE_MERGE_BUFFER, HEALTHSCORE_BATCH_MAX)"
            )
        self.languages()  # an unknown language is an error now, not at the first alert
        return self

    def languages(self) -> Languages:
        """Who reads which language (`stream.i18n.Languages`)."""
        return Languages(self.locale, self.owner_locales)

    @property
    def input_topics(self) -> dict[str, str]:
        """Map each configured input topic name to its contract (default) name."""
        return {
            self.topic_usage: INPUT_TOPICS["usage"],
            self.topic_support: INPUT_TOPICS["support"],
            self.topic_survey: INPUT_TOPICS["survey"],
            self.topic_account: INPUT_TOPICS["account"],
        }

    @property
    def page_base(self) -> str:
        """Where the customer pages are reached, without a trailing slash."""
        return (self.public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def bootstrap_list(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context for Kafka when the protocol uses SSL, from the configured files."""
        if not self.kafka_security_protocol.endswith("SSL"):
            return None
        ctx = ssl.create_default_context(
            cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None
        )
        if self.kafka_ssl_certfile:
            ctx.load_cert_chain(
                str(self.kafka_ssl_certfile),
                str(self.kafka_ssl_keyfile) if self.kafka_ssl_keyfile else None,
            )
        return ctx

    def kafka_python_config(self) -> dict[str, Any]:
        """Connection options for kafka-python clients (producer, admin, consumer)."""
        cfg: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_list,
            "security_protocol": self.kafka_security_protocol,
        }
        if self.kafka_security_protocol.startswith("SASL_"):
            cfg["sasl_mechanism"] = self.kafka_sasl_mechanism
            cfg["sasl_plain_username"] = self.kafka_sasl_username
            cfg["sasl_plain_password"] = (
                self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None
            )
        context = self.ssl_context()
        if context is not None:
            cfg["ssl_context"] = context
        return cfg


def is_loopback(host: str) -> bool:
    """Is `host` a loopback address (or `localhost`)? Names other than localhost are not
    resolved: they count as reachable from elsewhere.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0"), is_loopback("w1")
    (True, True, False, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
