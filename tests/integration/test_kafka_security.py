"""The worker on a broker that takes only SASL/SCRAM over TLS (SASL_SSL): users created when the
broker's storage is formatted, a certificate from a CA the test makes. The worker connects with
the documented settings only; a wrong password stops it with an error that names the cause and
never the password."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

from stream.dev.stack import down, up
from stream.dev.stack.launcher import KafkaSecurity
from stream.settings import Settings

from .certs import make_certs
from .conftest import Stack, free_port, wait_for
from .harness import Run, Topics, produce, read_topic
from .histories import healthy


def _answers_plaintext(host: str, port: int) -> bool:
    """Does the port answer a plaintext Kafka ApiVersions request with a Kafka response?"""
    client_id = b"probe"
    body = struct.pack(">hhih", 18, 0, 4242, len(client_id)) + client_id
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        try:
            reply = sock.recv(8)
        except OSError:
            return False
    return len(reply) == 8 and struct.unpack(">i", reply[4:])[0] == 4242


def test_the_worker_reads_and_writes_through_sasl_scram_over_tls_and_never_shows_a_password(
    stack: Stack, tmp_path: Path
) -> None:
    certs = make_certs(tmp_path / "tls")
    admin_pw, worker_pw = f"pw-{uuid.uuid4().hex}", f"pw-{uuid.uuid4().hex}"
    security = KafkaSecurity(
        users=(("broker", admin_pw), ("healthscore", worker_pw)),
        keystore=certs.keystore,
        truststore=certs.ca,
    )
    assert admin_pw not in repr(security)
    opts = replace(
        stack.opts,
        state_dir=tmp_path / "stack",
        kafka_port=free_port(),
        controller_port=free_port(),
        kafka_security=security,
        with_prometheus=False,
    )
    up(opts, report=print)  # Redis: the stack's, as it is
    own = Stack(opts)
    env = {
        "HEALTHSCORE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "HEALTHSCORE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "HEALTHSCORE_KAFKA_SASL_USERNAME": "healthscore",
        "HEALTHSCORE_KAFKA_SASL_PASSWORD": worker_pw,
        "HEALTHSCORE_KAFKA_SSL_CAFILE": str(certs.ca),
    }
    settings = Settings(
        kafka_bootstrap_servers=own.bootstrap,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="healthscore",
        kafka_sasl_password=worker_pw,
        kafka_ssl_cafile=certs.ca,
    )
    client = settings.kafka_python_config()
    topics = Topics()
    run = Run(own, topics, tmp_path, extra_env=env)
    try:
        assert not _answers_plaintext(opts.host, opts.kafka_port)
        run.start()
        produce(own, topics, healthy("sasl-1", days=3), **client)
        wait_for(lambda: run.http_health("sasl-1")[0] == 200, 90, "sasl-1 scored")
        wait_for(lambda: run.readiness()[0] == 200, 60, "the worker ready")
        scores = read_topic(own, topics.scores, **client)
        assert {"sasl-1"} == {key for key, _ in scores}
    finally:
        run.stop_all()
    log = run.procs[0][2].read_text(errors="replace")
    assert worker_pw not in log
    assert admin_pw not in log

    # a wrong password: the worker stops at start-up naming the cause, not the password
    wrong = f"pw-wrong-{uuid.uuid4().hex}"
    refused_env = {**run.env(free_port()), "HEALTHSCORE_KAFKA_SASL_PASSWORD": wrong}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "stream.cli", "worker", "--processes", "1"],
            env=refused_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        down(opts, report=print, purge=True)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "cannot start" in out, out
    assert "refused the connection" in out, out
    assert "uthentication" in out, out
    assert wrong not in out
    assert worker_pw not in out
