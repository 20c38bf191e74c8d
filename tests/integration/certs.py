"""A throwaway certificate authority and a server certificate for 127.0.0.1, made with openssl
for one test (TLS Redis, SASL_SSL Kafka)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certs:
    ca: Path  # the CA certificate clients trust
    cert: Path  # the server certificate (subjectAltName IP:127.0.0.1, DNS:localhost)
    key: Path  # its private key, unencrypted PKCS#8
    keystore: Path  # key and certificate chain in one PEM file (Kafka's PEM keystore)


def openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True)


def make_certs(d: Path) -> Certs:
    d.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "1", "-subj", "/CN=healthscore test CA", cwd=d)  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "ext.cnf",
            cwd=d)  # fmt: skip
    keystore = d / "keystore.pem"
    keystore.write_text(
        "".join((d / name).read_text() for name in ("server.key", "server.pem", "ca.pem"))
    )
    return Certs(d / "ca.pem", d / "server.pem", d / "server.key", keystore)
