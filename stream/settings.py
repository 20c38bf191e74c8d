"""One frozen settings object, built at the edge from `HEALTHSCORE_*` variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from stream.codec import DEFAULT_MAX_MESSAGE_BYTES
from stream.contract import INPUT_TOPICS, OUTPUT_TOPICS


class Settings(BaseSettings):
    """Worker and tool settings; every field reads `HEALTHSCORE_<FIELD>` from the environment."""

    model_config = SettingsConfigDict(env_prefix="HEALTHSCORE_", frozen=True, extra="forbid")

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="host:port[,host:port]")
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"),
        description="redis:// or rediss:// URL, password included",
    )
    web_host: str = "127.0.0.1"
    web_port: int = Field(6066, ge=1, le=65535)
    app_id: str = Field("healthscore", min_length=1, description="Kafka consumer group id")
    partitions: int = Field(4, ge=1, le=1024, description="partitions of every topic we create")
    max_message_bytes: int = Field(DEFAULT_MAX_MESSAGE_BYTES, ge=256, le=16 * 1024 * 1024)

    topic_usage: str = INPUT_TOPICS["usage"]
    topic_support: str = INPUT_TOPICS["support"]
    topic_survey: str = INPUT_TOPICS["survey"]
    topic_account: str = INPUT_TOPICS["account"]
    topic_scores: str = OUTPUT_TOPICS["scores"]
    topic_alerts: str = OUTPUT_TOPICS["alerts"]
    topic_dlq: str = OUTPUT_TOPICS["dlq"]

    redis_key_prefix: str = Field("hs", min_length=1, max_length=32)
    dedupe_ttl_seconds: int = Field(7 * 24 * 3600, ge=60)
    redis_retry_max_seconds: float = Field(5.0, gt=0, description="backoff ceiling on Redis errors")

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
    def bootstrap_list(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]
