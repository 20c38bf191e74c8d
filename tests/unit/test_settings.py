"""Settings: the HTTP API needs a token off loopback, and no secret shows in a repr or an error."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stream.settings import Settings, is_loopback

SECRETS = {
    "redis_url": "rediss://svc:redis-secret-123@redis.internal:6380/0",
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_username": "svc",
    "kafka_sasl_password": "kafka-secret-456",
}


def test_binding_off_loopback_needs_a_token() -> None:
    with pytest.raises(ValidationError, match="HEALTHSCORE_WEB_TOKEN"):
        Settings(web_host="0.0.0.0")
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(web_host="0.0.0.0", web_token="short")  # noqa: S106 - a test value
    assert Settings(web_host="0.0.0.0", web_token="x" * 16).web_token is not None
    assert Settings(web_host="::1").web_token is None


def test_the_merge_buffers_two_batches() -> None:
    """A batch is taken from what the merge buffers, and an input is fetched again once below
    half: with less than two batches' worth, every batch would wait on a fetch, so it is
    refused with both settings named."""
    refused = r"merge_buffer \(9999\) must be at least twice batch_max \(5000\)"
    with pytest.raises(ValidationError, match=refused):
        Settings(merge_buffer=9_999, batch_max=5_000)
    assert Settings(merge_buffer=10_000, batch_max=5_000).merge_buffer == 10_000
    assert Settings(merge_buffer=200, batch_max=100).batch_max == 100
    assert Settings().merge_buffer >= 2 * Settings().batch_max


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("worker", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_no_secret_in_the_repr_or_in_a_validation_error() -> None:
    token = "web-token-secret-789"
    settings = Settings(web_token=token, **SECRETS)  # type: ignore[arg-type]
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    with pytest.raises(ValidationError) as refused:
        Settings(web_host="0.0.0.0", **SECRETS)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as too_short:
        Settings(web_host="0.0.0.0", web_token="short-secret", **SECRETS)  # type: ignore[arg-type]  # noqa: S106
    errors = str(refused.value) + str(too_short.value)
    for secret in ("redis-secret-123", "kafka-secret-456", token, "short-secret"):
        assert secret not in shown
        assert secret not in errors
    assert settings.redis_url.get_secret_value() == SECRETS["redis_url"]
