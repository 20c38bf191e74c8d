"""The worker's HTTP API and its secrets, against a real worker, broker and redis-server: the
bearer token, customer ids checked, no stack trace in any answer, no secret in the log or in an
answer; the worker reaches Redis as an ACL user with a password, in plain text and over TLS
(a redis-server of the test's own, with a certificate from a CA the test makes)."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from stream.store import Keys

from .certs import make_certs
from .conftest import Stack, free_port, wait_for
from .harness import Run, Topics, produce
from .histories import healthy


def get(port: int, path: str, token: str | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers and body text of a GET to the worker."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310 - http://127.0.0.1
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def login(port: int, token: str) -> tuple[int, dict[str, str]]:
    """POST the sign-in form; its status and headers (the redirect is not followed)."""
    opener = urllib.request.build_opener(NoRedirect)
    data = urllib.parse.urlencode({"token": token}).encode()
    try:
        with opener.open(f"http://127.0.0.1:{port}/login", data=data, timeout=5) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers)


def test_the_api_takes_a_token_checks_ids_hides_errors_and_secrets(
    stack: Stack, tmp_path: Path
) -> None:
    admin = redis.Redis.from_url(stack.redis_url)
    user, password = f"hs-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    admin.acl_setuser(
        user,
        enabled=True,
        passwords=[f"+{password}"],
        keys=["*"],
        channels=["*"],
        commands=["+@all"],
    )
    token = f"tk-{uuid.uuid4().hex}"
    url = stack.redis_url.replace("redis://", f"redis://{user}:{password}@")
    topics = Topics()
    run = Run(
        stack,
        topics,
        tmp_path,
        extra_env={"HEALTHSCORE_REDIS_URL": url, "HEALTHSCORE_WEB_TOKEN": token},
    )
    bodies: list[str] = []
    try:
        run.start()
        port = run.procs[0][1]

        def answer(path: str, with_token: str | None = None) -> tuple[int, dict[str, str], str]:
            status, headers, body = get(port, path, with_token)
            bodies.append(body)
            assert "Traceback" not in body
            return status, headers, body

        for path in ("/metrics", "/customers/acme/health", "/customers/acme", "/portfolio"):
            status, headers, _ = answer(path)
            assert status == 401, path
            assert headers.get("WWW-Authenticate", "").startswith("Bearer")
            assert answer(path, "wrong-token-of-some-length")[0] == 401, path
        assert answer("/metrics", token)[0] == 200
        assert answer("/healthz")[0] == 200  # probes need no token
        status, _, body = answer("/customers/nobody/health", token)
        assert (404, "unknown customer 'nobody'") == (status, json.loads(body)["error"])
        status, _, body = answer("/customers/" + "x" * 129 + "/health", token)
        assert (400, "a customer id is 1-128 characters") == (status, json.loads(body)["error"])

        # a record nobody can read: a plain 500, and the worker goes on
        admin.set(Keys(run.prefix).record("broken-1"), b"3|\x02not msgpack at all")
        status, _, body = answer("/customers/broken-1/health", token)
        assert (500, "internal error; the worker's log has the details") == (
            status,
            json.loads(body)["error"],
        )

        # the worker stores through the ACL user
        produce(stack, topics, healthy("acl-1", days=3))
        wait_for(lambda: answer("/customers/acl-1/health", token)[0] == 200, 60, "acl-1 scored")
        record: Any = json.loads(answer("/customers/acl-1/health", token)[2])
        assert record["customer_id"] == "acl-1"
        assert answer("/healthz")[0] == 200

        # a browser signs in once: the token in an HttpOnly cookie opens the pages
        assert login(port, "wrong-token-of-some-length")[0] == 401
        status, headers = login(port, token)
        assert status == 303
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        request = urllib.request.Request(f"http://127.0.0.1:{port}/portfolio")
        request.add_header("Cookie", cookie.split(";", 1)[0])
        with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310 - http://127.0.0.1
            page = r.read().decode()
        assert "acl-1" in page
    finally:
        run.stop_all()
        admin.acl_deluser(user)
    log = run.procs[0][2].read_text(errors="replace")
    assert "HTTP /customers/broken-1/health failed" in log  # the details went to the log
    for secret in (password, token):
        assert secret not in log
        assert not any(secret in body for body in bodies)


@dataclass
class TlsRedis:
    url: str  # rediss://user:password@127.0.0.1:port/0?ssl_ca_certs=...
    password: str
    log: Path

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[TlsRedis]:
    """A redis-server that speaks only TLS and only to one ACL user with a password."""
    d = tmp_path / "tls"
    certs = make_certs(d)
    port, user, password = free_port(), "hs-worker", f"pw-{uuid.uuid4().hex}"
    log = d / "redis.log"
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", certs.cert, "--tls-key-file", certs.key,
         "--tls-ca-cert-file", certs.ca, "--tls-auth-clients", "no",
         "--user", "default", "off", "--user", user, "on", f">{password}", "~*", "&*", "+@all",
         "--save", "", "--appendonly", "no", "--logfile", str(log)],
        cwd=d,
    )  # fmt: skip
    server = TlsRedis(
        f"rediss://{user}:{password}@127.0.0.1:{port}/0?ssl_ca_certs={certs.ca}",
        password,
        log,
    )

    def answers() -> bool:
        try:
            return bool(server.client().ping())
        except redis.ConnectionError:
            return False

    try:
        wait_for(answers, 20, "the TLS redis-server")
        yield server
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_worker_works_through_redis_over_tls_as_an_acl_user_and_never_shows_the_password(
    stack: Stack, tmp_path: Path, tls_redis: TlsRedis
) -> None:
    topics = Topics()
    run = Run(stack, topics, tmp_path, extra_env={"HEALTHSCORE_REDIS_URL": tls_redis.url})
    wrong = tls_redis.url.replace(tls_redis.password, "pw-wrong-" + uuid.uuid4().hex)
    refused = Run(stack, Topics(), tmp_path, extra_env={"HEALTHSCORE_REDIS_URL": wrong})
    try:
        run.start()
        produce(stack, topics, healthy("tls-1", days=3))
        wait_for(lambda: run.http_health("tls-1")[0] == 200, 60, "tls-1 scored")
        stored = tls_redis.client().get(Keys(run.prefix).record("tls-1"))
        assert stored is not None  # the record lives in the TLS redis-server
        wait_for(lambda: run.readiness()[0] == 200, 60, "the worker ready")

        refused.start()  # a wrong password: not ready, and says why without the password
        status, body = refused.readiness()
        assert status == 503
        problems = " ".join(body["problems"])
        assert "redis:" in problems
        assert "WRONGPASS" in problems or "invalid username-password" in problems
    finally:
        run.stop_all()
        refused.stop_all()
    for worker in (run, refused):
        log = worker.procs[0][2].read_text(errors="replace")
        assert tls_redis.password not in log
        assert wrong.split(":")[2].split("@")[0] not in log
    assert tls_redis.password not in problems
