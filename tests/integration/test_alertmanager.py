"""Churn alerts delivered through a real Alertmanager (Debian's prometheus-alertmanager) with the
shipped configuration, to a webhook receiver and to an e-mail receiver on a local SMTP sink: an
alert raised by the worker arrives once, grouped per customer, with its reasons and the link to
the customer's page; it resolves when the customer recovers; a silence set in Alertmanager
holds."""

from __future__ import annotations

import email
import email.policy
import html as markup
import json
import re
import socketserver
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring.holdout import Holdout
from scoring.words import say
from stream.dev.stack import down, status, up
from stream.i18n import words
from stream.resources import resource

from .conftest import Stack, free_port, wait_for
from .harness import Run, Topics, produce, read_topic
from .histories import DAY, doc, healthy

PAGES = "http://pages.example:8080"
OWNER = "ana@example.com"


class Webhook(ThreadingHTTPServer):
    """Collects the notifications Alertmanager posts (its webhook JSON)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def for_customer(self, cid: str, status: str) -> list[dict[str, Any]]:
        return [
            n
            for n in self.received
            if n["status"] == status and n["groupLabels"].get("customer") == cid
        ]


@dataclass
class SmtpSink:
    """A minimal SMTP server that keeps every message (enough for Alertmanager's client)."""

    messages: list[tuple[list[str], str]] = field(default_factory=list)
    port: int = 0

    def start(self) -> socketserver.ThreadingTCPServer:
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 sink ESMTP\r\n")
                rcpt: list[str] = []
                while line := self.rfile.readline():
                    verb = line.decode(errors="replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        self.wfile.write(b"250 sink\r\n")
                    elif verb.startswith("RCPT TO:"):
                        rcpt.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == "DATA":
                        self.wfile.write(b"354 go on\r\n")
                        body = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b""):
                            body.append(data.decode(errors="replace"))
                        sink.messages.append((rcpt, "".join(body)))
                        rcpt = []
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:  # MAIL FROM, RSET, NOOP
                        self.wfile.write(b"250 ok\r\n")

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass
class Delivery:
    url: str  # Alertmanager
    webhook: Webhook
    smtp: SmtpSink


@pytest.fixture
def delivery(stack: Stack, tmp_path: Path) -> Iterator[Delivery]:
    """Alertmanager running the shipped configuration, its receivers pointed at a webhook and
    an SMTP sink of the test's own, and its timings shortened."""
    webhook = Webhook()
    threading.Thread(target=webhook.serve_forever, daemon=True).start()
    smtp = SmtpSink()
    smtp_server = smtp.start()
    config = yaml.safe_load(resource("alertmanager/alertmanager.yml").read_text())
    config["global"]["smtp_smarthost"] = f"127.0.0.1:{smtp.port}"
    config["route"].update(group_wait="1s", group_interval="2s", repeat_interval="1h")
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = f"http://127.0.0.1:{webhook.server_address[1]}/healthscore-alerts"
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    opts = replace(
        stack.opts,
        state_dir=tmp_path / "stack",
        with_alertmanager=True,
        alertmanager_port=free_port(),
        alertmanager_config=path,
    )
    up(opts, report=print)  # the stack launcher's Alertmanager; Kafka and Redis: the stack's
    try:
        assert status(opts)["alertmanager"].running
        yield Delivery(f"http://127.0.0.1:{opts.alertmanager_port}", webhook, smtp)
    finally:
        down(opts, report=print)  # stops Alertmanager only: the others are not its own
        webhook.shutdown()
        smtp_server.shutdown()


def api(url: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        url + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310 - http://127.0.0.1
        return json.loads(r.read() or b"null")


def paging_detractors(tmp_path: Path) -> Path:
    """The shipped policy with `detractor` among the paging rules: a detractor answer is the
    quickest trouble a test can cause, and this test is about delivery, not about which rules
    page (the shipped policy pages detractors since issue 22's sixth part; a policy file keeps
    this test's premise whatever the default becomes)."""
    doc = yaml.safe_load(Path(str(resource("scoring.yaml"))).read_text())
    page = doc["alerts"]["page"]
    if "detractor" not in page:
        doc["alerts"]["page"] = [*page, "detractor"]
    path = tmp_path / "paging-detractors.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def forwarding(stack: Stack, topics: Topics, tmp_path: Path, delivery: Delivery, **env: str) -> Run:
    """A worker forwarding to the test's Alertmanager, re-sending open alerts every 2 s."""
    return Run(
        stack,
        topics,
        tmp_path,
        extra_env={
            "HEALTHSCORE_ALERTMANAGER_URL": delivery.url,
            "HEALTHSCORE_ALERTMANAGER_RESEND_SECONDS": "2",
            "HEALTHSCORE_PUBLIC_URL": PAGES,
            "HEALTHSCORE_POLICY_FILE": str(paging_detractors(tmp_path)),
            **env,
        },
    )


def detractor_then(cid: str, later: int | None) -> list[tuple[str, dict[str, Any]]]:
    """A healthy customer owned by OWNER who answers NPS 2 on day 31 (a detractor alert) and,
    with `later`, NPS 10 that many days on (the alert resolves)."""
    docs = [*healthy(cid), doc("account", "account_updated", cid, 60, owner=OWNER)]
    docs.append(doc("survey", "nps", cid, 31 * DAY, score=2))
    if later is not None:
        docs.append(doc("survey", "nps", cid, (31 + later) * DAY, score=10))
    return docs


def test_an_alert_arrives_once_grouped_with_reasons_and_link_then_resolves(
    stack: Stack, tmp_path: Path, delivery: Delivery
) -> None:
    topics = Topics()
    run = forwarding(stack, topics, tmp_path, delivery)
    try:
        run.start()
        produce(stack, topics, detractor_then("am-1", None))
        wait_for(lambda: delivery.webhook.for_customer("am-1", "firing"), 60, "the alert")
        time.sleep(8)  # resent every 2 s meanwhile: Alertmanager must not notify again
        (note,) = delivery.webhook.for_customer("am-1", "firing")
        (alert,) = note["alerts"]
        assert alert["labels"] | {"customer": "am-1"} == alert["labels"]
        assert ("detractor", "warning", OWNER) == tuple(
            alert["labels"][k] for k in ("rule", "severity", "owner")
        )
        assert "latest NPS answer was 2/10 (a detractor)" in alert["annotations"]["description"]
        assert f"{PAGES}/customers/am-1?lang=en" == alert["generatorURL"]
        wait_for(lambda: delivery.smtp.messages, 30, "the e-mail to the owner")
        rcpt, body = delivery.smtp.messages[0]
        assert [OWNER] == rcpt
        assert "am-1: churn risk (warning)" in body

        produce(stack, topics, [doc("survey", "nps", "am-1", 33 * DAY, score=10)])
        wait_for(lambda: delivery.webhook.for_customer("am-1", "resolved"), 60, "the resolution")
        (resolved,) = delivery.webhook.for_customer("am-1", "resolved")
        assert "resolved" == resolved["alerts"][0]["status"]
        assert 1 == len(delivery.webhook.for_customer("am-1", "firing"))
    finally:
        run.stop_all()


# the letters each language's words cannot do without
SCRIPTS = {
    "ru": re.compile("[\u0430-\u044f\u0451]", re.I),  # Cyrillic letters
    "lv": re.compile("[āēīūčšžģķļņ]", re.I),
    "zh": re.compile("[\u4e00-\u9fff]"),
}


def test_the_e_mail_of_an_alert_is_in_its_owners_language(
    stack: Stack, tmp_path: Path, delivery: Delivery
) -> None:
    """Owners who read Russian and Latvian (HEALTHSCORE_OWNER_LOCALES), and a customer whose
    own `locale` is Chinese with an owner the deployment has no language for: each e-mail
    Alertmanager sends, subject and body, is in that language."""
    owners = {"ru": "olga@example.com", "lv": "liga@example.com", "zh": "li@example.com"}
    topics = Topics()
    languages = json.dumps({owners["ru"]: "ru", owners["lv"]: "lv"})
    run = forwarding(stack, topics, tmp_path, delivery, HEALTHSCORE_OWNER_LOCALES=languages)
    docs = []
    for locale, owner in owners.items():
        cid = f"am-{locale}"
        attrs: dict[str, Any] = {"owner": owner}
        if locale == "zh":
            attrs["locale"] = "zh-CN"
        docs += [*healthy(cid), doc("account", "account_updated", cid, 60, **attrs)]
        docs.append(doc("survey", "nps", cid, 31 * DAY, score=2))
    try:
        run.start()
        produce(stack, topics, docs)
        wait_for(lambda: len(delivery.smtp.messages) >= 3, 90, "three e-mails")
        mails = {}
        for rcpt, raw in delivery.smtp.messages:
            mails[rcpt[0]] = email.message_from_string(raw, policy=email.policy.default)
        assert set(owners.values()) == set(mails)
        for locale, owner in owners.items():
            cid, w = f"am-{locale}", words(locale)
            mail = mails[owner]
            assert w.say("notify-subject", customer=cid, severity="warning") == mail["Subject"]
            text = mail.get_body(preferencelist=("plain",)).get_content()
            page = markup.unescape(mail.get_body(preferencelist=("html",)).get_content())
            for said in (
                w(say("alert-detractor", latest=2)),
                w.say("notify-reasons"),
                w.say("notify-next-step"),
                w.say("next-step", rule="detractor"),
            ):
                assert said in text, (locale, said, text)
            assert SCRIPTS[locale].search(text), text
            assert "latest NPS answer" not in text  # no English left
            assert f'lang="{locale}"' in page
            assert w(say("alert-detractor", latest=2)) in page
    finally:
        run.stop_all()


def test_a_silence_set_in_alertmanager_holds(
    stack: Stack, tmp_path: Path, delivery: Delivery
) -> None:
    now = time.time()
    api(
        delivery.url,
        "/api/v2/silences",
        {
            "matchers": [{"name": "customer", "value": "am-quiet", "isRegex": False}],
            "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
            "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
            "createdBy": "test",
            "comment": "customer on a planned break",
        },
    )
    topics = Topics()
    run = forwarding(stack, topics, tmp_path, delivery)
    try:
        run.start()
        docs = [*detractor_then("am-quiet", None), *detractor_then("am-loud", None)]
        produce(stack, topics, docs)
        wait_for(lambda: delivery.webhook.for_customer("am-loud", "firing"), 60, "am-loud")

        def suppressed() -> bool:
            alerts = api(delivery.url, '/api/v2/alerts?filter=customer="am-quiet"')
            return bool(alerts) and alerts[0]["status"]["state"] == "suppressed"

        wait_for(suppressed, 30, "am-quiet's alert in Alertmanager, silenced")
        time.sleep(5)
        assert [] == delivery.webhook.for_customer("am-quiet", "firing")
        assert all("am-quiet" not in body for _, body in delivery.smtp.messages)
    finally:
        run.stop_all()


def test_a_held_out_customers_alert_reaches_neither_alertmanager_nor_churn_alerts(
    stack: Stack, tmp_path: Path, delivery: Delivery
) -> None:
    """The policy's holdout (docs/alerts.md): of two customers raising the same alert, the one
    the experiment holds out is recorded but never told of; the other is delivered."""
    holdout = Holdout("am-holdout", 0.5)
    names = [f"am-ho-{i}" for i in range(100)]
    held = next(c for c in names if holdout.holds(c))
    told = next(c for c in names if not holdout.holds(c))
    doc = yaml.safe_load(paging_detractors(tmp_path).read_text())
    doc["alerts"]["holdout"] = {"experiment": holdout.experiment, "share": holdout.share}
    policy = tmp_path / "holdout.yaml"
    policy.write_text(yaml.safe_dump(doc))
    topics = Topics()
    run = forwarding(stack, topics, tmp_path, delivery, HEALTHSCORE_POLICY_FILE=str(policy))
    try:
        run.start()
        produce(stack, topics, [*detractor_then(held, None), *detractor_then(told, None)])
        wait_for(lambda: bool(delivery.webhook.for_customer(told, "firing")), 60, told)
        time.sleep(5)  # two more resend periods of the forwarder
        assert [] == api(delivery.url, f'/api/v2/alerts?filter=customer="{held}"')
        assert [] == delivery.webhook.for_customer(held, "firing")
        assert all(held not in body for _, body in delivery.smtp.messages)
        assert [told] == [v["customer_id"] for _, v in read_topic(stack, topics.alerts)]
    finally:
        run.stop_all()
