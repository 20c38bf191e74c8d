"""Bring the local stack up, report on it and take it down again, recording what we started."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import redis

from stream.dev.stack.processes import (
    StackError,
    pid_alive,
    port_answers,
    redis_answers,
    spawn,
    stop_pid,
    wait_until,
)
from stream.dev.stack.prometheus import (
    ALERTMANAGER_MARKER,
    prometheus_ready,
    start_alertmanager,
    start_prometheus,
)
from stream.dev.stack.prometheus import MARKER as PROMETHEUS_MARKER
from stream.settings import Settings

KAFKA_VERSION = "4.1.1"
KAFKA_MARKER = "kafka.Kafka"
REDIS_MARKER = "redis-server"
REDIS_CLUSTER_NODES = 6
REDIS_CLUSTER_BUS_OFFSET = 10_000  # a cluster node also listens on its port + this, for the bus
STATE_FILE = "stack.json"

Report = Callable[[str], None]


def default_state_dir() -> Path:
    return Path(os.environ.get("HEALTHSCORE_STACK_DIR", ".stack"))


def default_cache_dir() -> Path:
    if "HEALTHSCORE_CACHE_DIR" in os.environ:
        return Path(os.environ["HEALTHSCORE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "healthscore"


@dataclass(frozen=True)
class KafkaSecurity:
    """SASL/SCRAM over TLS (SASL_SSL) on the brokers' client listener.

    The users are created when the storage is formatted (a broker formatted earlier keeps the
    users it was formatted with); the first is also the identity brokers use with each other.
    The controller listener stays plaintext on the loopback address."""

    users: tuple[tuple[str, str], ...]  # (name, password)
    keystore: Path  # PEM: the broker's private key (unencrypted PKCS#8) and certificate chain
    truststore: Path  # PEM: the CA that signed the brokers' certificates
    mechanism: str = "SCRAM-SHA-512"

    def __post_init__(self) -> None:
        if not self.users:
            raise StackError("Kafka SASL needs at least one user")
        for name, password in self.users:
            if not name or not password or any(c in f"{name}{password}" for c in '"\\,=[]'):
                raise StackError(
                    f"Kafka SASL user {name!r}: name and password must be non-empty, without "
                    'any of " \\ , = [ ]'
                )

    def __repr__(self) -> str:  # the passwords stay out of logs and tracebacks
        names = [name for name, _ in self.users]
        return f"KafkaSecurity(users={names}, mechanism={self.mechanism!r})"


@dataclass(frozen=True)
class StackOptions:
    """Where the stack keeps its state and caches, and the loopback ports it listens on."""

    state_dir: Path = field(default_factory=default_state_dir)
    cache_dir: Path = field(default_factory=default_cache_dir)
    host: str = "127.0.0.1"
    kafka_port: int = 9092
    controller_port: int = 9093
    redis_port: int = 6379
    kafka_heap: str = "512m"
    # how long the group coordinator waits for more members before a new group's first
    # assignment: 0 starts each test's worker at once; Kafka's own default is 3 s, so that
    # processes started together share the partitions from the start (bench/stack.py)
    group_initial_rebalance_delay_ms: int = 0
    timeout: float = 120.0
    with_prometheus: bool = False
    prometheus_port: int = 9090
    # Alertmanager (`alertmanager_config`, default the shipped one); 9193, since Kafka's
    # controllers take 9093 and up
    with_alertmanager: bool = False
    alertmanager_port: int = 9193
    alertmanager_config: Path | None = None
    worker_targets: tuple[str, ...] = ("127.0.0.1:6066",)
    # brokers of the KRaft cluster, each also a controller: broker i (from 0) listens on
    # kafka_port + 2i and votes on controller_port + 2i (9092/9093, 9094/9095, 9096/9097)
    kafka_brokers: int = 1
    # a Redis Cluster instead of one redis-server: REDIS_CLUSTER_NODES nodes on redis_port,
    # redis_port + 1, ... (three primaries, each with one replica)
    redis_cluster: bool = False
    # SASL/SCRAM over TLS on the client listener instead of plaintext
    kafka_security: KafkaSecurity | None = None

    @property
    def redis_nodes(self) -> int:
        return REDIS_CLUSTER_NODES if self.redis_cluster else 1

    def redis_port_of(self, index: int) -> int:
        return self.redis_port + index

    @property
    def redis_names(self) -> tuple[str, ...]:
        """The service name of each Redis node: `redis`, then `redis-2`, ..., `redis-6`."""
        return ("redis", *(f"redis-{i + 1}" for i in range(1, self.redis_nodes)))

    @property
    def redis_url(self) -> str:
        """HEALTHSCORE_REDIS_URL (on a cluster, its first node: the client finds the others)."""
        return f"redis://{self.host}:{self.redis_port}/0"

    def broker_port(self, index: int) -> int:
        return self.kafka_port + 2 * index

    def controller_port_of(self, index: int) -> int:
        return self.controller_port + 2 * index

    @property
    def bootstrap(self) -> str:
        """host:port of every broker, comma-separated (HEALTHSCORE_KAFKA_BOOTSTRAP_SERVERS)."""
        return ",".join(f"{self.host}:{self.broker_port(i)}" for i in range(self.kafka_brokers))

    @property
    def broker_names(self) -> tuple[str, ...]:
        """The service name of each broker: `kafka`, then `kafka-2`, `kafka-3`, ..."""
        return ("kafka", *(f"kafka-{i + 1}" for i in range(1, self.kafka_brokers)))

    @property
    def kafka_libs(self) -> Path:
        return self.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"


@dataclass
class ServiceStatus:
    """What we know of one service: its pid if we started it, its port, and whether it answers."""

    name: str
    port: int
    pid: int | None = None
    managed: bool = False
    state: str = "stopped"
    detail: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"


# --- state file ------------------------------------------------------------------------------


def _load(state_dir: Path) -> dict[str, ServiceStatus]:
    path = state_dir / STATE_FILE
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
        return {name: ServiceStatus(**entry) for name, entry in raw["services"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise StackError(
            f"{path} is unreadable ({exc}); remove it and run `stack up` again"
        ) from exc


def _save(state_dir: Path, services: dict[str, ServiceStatus]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"services": {n: asdict(s) for n, s in services.items()}}, indent=2))
    tmp.replace(path)


def _await_ready(
    name: str,
    title: str,
    proc: subprocess.Popen[bytes],
    port: int,
    log: Path,
    opts: StackOptions,
    report: Report,
) -> ServiceStatus:
    """Wait until a service we just spawned answers on its port; report and record it."""
    report(f"{name}: started pid {proc.pid}, waiting for {opts.host}:{port}")
    took = wait_until(
        lambda: _answers(name, opts.host, port),
        proc,
        name=title,
        timeout=opts.timeout,
        log_path=log,
    )
    report(f"{name}: ready on {opts.host}:{port} after {took:.1f}s")
    return ServiceStatus(name, port, proc.pid, managed=True, state="running")


# --- Kafka -----------------------------------------------------------------------------------


def _require(tool: str, install_hint: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise StackError(f"`{tool}` was not found on PATH. Install it: {install_hint}")
    return found


def ensure_kafka_jars(opts: StackOptions, report: Report) -> Path:
    """Fetch the Kafka broker jars from Maven Central into the cache, once."""
    libs = opts.kafka_libs
    done = libs / ".complete"
    if done.exists():
        return libs
    mvn = _require("mvn", "apt-get install -y maven (Debian/Ubuntu), or see maven.apache.org")
    work = libs.parent
    work.mkdir(parents=True, exist_ok=True)
    pom = work / "pom.xml"
    pom.write_bytes(resources.files("stream.dev.stack").joinpath("kafka-pom.xml").read_bytes())
    report(
        f"kafka: fetching Apache Kafka {KAFKA_VERSION} jars from Maven Central into {libs} (once)"
    )
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        out = (result.stdout + result.stderr).strip().splitlines()[-20:]
        raise StackError("Maven could not fetch the Kafka jars:\n" + "\n".join(out))
    done.write_text(KAFKA_VERSION + "\n")
    return libs


def _kafka_properties(opts: StackOptions, data_dir: Path, index: int = 0) -> str:
    """One node's configuration. A cluster of three or more replicates everything three times
    and acknowledges a write once two replicas have it (`min.insync.replicas=2`), so one broker
    can fail without losing or refusing an acknowledged write."""
    h = opts.host
    port, controller = opts.broker_port(index), opts.controller_port_of(index)
    voters = ",".join(
        f"{i + 1}@{h}:{opts.controller_port_of(i)}" for i in range(opts.kafka_brokers)
    )
    replicas = min(3, opts.kafka_brokers)
    in_sync = min(2, replicas)
    listener = "PLAINTEXT" if opts.kafka_security is None else "SASL_SSL"
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={index + 1}",
            f"controller.quorum.voters={voters}",
            f"listeners={listener}://{h}:{port},CONTROLLER://{h}:{controller}",
            f"advertised.listeners={listener}://{h}:{port}",
            "controller.listener.names=CONTROLLER",
            f"inter.broker.listener.name={listener}",
            f"listener.security.protocol.map=CONTROLLER:PLAINTEXT,{listener}:{listener}",
            *_security_properties(opts.kafka_security),
            f"log.dirs={data_dir.resolve()}",
            # a topic made by a producer before the worker made it has the worker's count
            f"num.partitions={Settings.model_fields['partitions'].default}",
            f"default.replication.factor={replicas}",
            f"min.insync.replicas={in_sync}",
            f"offsets.topic.replication.factor={replicas}",
            "offsets.topic.num.partitions=8",
            f"transaction.state.log.replication.factor={replicas}",
            f"transaction.state.log.min.isr={in_sync}",
            f"share.coordinator.state.topic.replication.factor={replicas}",
            f"share.coordinator.state.topic.min.isr={in_sync}",
            f"group.initial.rebalance.delay.ms={opts.group_initial_rebalance_delay_ms}",
            "auto.create.topics.enable=true",
            "",
        ]
    )


def _security_properties(security: KafkaSecurity | None) -> list[str]:
    """SASL_SSL listener settings: SCRAM for clients and between brokers, PEM key and CA."""
    if security is None:
        return []
    mech = security.mechanism
    name, password = security.users[0]
    login = "org.apache.kafka.common.security.scram.ScramLoginModule"
    return [
        f"sasl.enabled.mechanisms={mech}",
        f"sasl.mechanism.inter.broker.protocol={mech}",
        f"listener.name.sasl_ssl.{mech.lower()}.sasl.jaas.config={login} required "
        f'username="{name}" password="{password}";',
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={security.keystore.resolve()}",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={security.truststore.resolve()}",
    ]


def _scram_users(security: KafkaSecurity | None) -> list[str]:
    """The format tool's arguments creating each SCRAM user in the cluster metadata."""
    if security is None:
        return []
    return [
        arg
        for name, password in security.users
        for arg in ("--add-scram", f"{security.mechanism}=[name={name},password={password}]")
    ]


def cluster_id(random_bytes: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.

    Like Kafka's own ``Uuid.randomUuid``, an id that would start with ``-`` is drawn
    again: one in 64 would, and a command line reads it as an option.
    """
    while True:
        text = base64.urlsafe_b64encode(random_bytes()).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def _node_files(opts: StackOptions, index: int) -> tuple[Path, Path, Path]:
    """A broker's data directory, properties file and log (the first keeps the single-node
    names, so a stack made before clusters existed is found again)."""
    suffix = "" if index == 0 else f"-{index + 1}"
    d = opts.state_dir
    return d / f"kafka-data{suffix}", d / f"server{suffix}.properties", d / f"kafka{suffix}.log"


def _cluster_id(opts: StackOptions) -> str:
    """The cluster's id, made once and shared by every node's storage format."""
    path = opts.state_dir / "kafka-cluster-id"
    if not path.exists():
        path.write_text(cluster_id())
    return path.read_text().strip()


def _spawn_kafka(
    opts: StackOptions, report: Report, index: int = 0
) -> tuple[subprocess.Popen[bytes], Path]:
    """Format a broker's storage if new and start it; its process and log."""
    java = _require("java", "apt-get install -y openjdk-17-jre-headless (Java 17 or newer)")
    libs = ensure_kafka_jars(opts, report)
    data_dir, props, log = _node_files(opts, index)
    data_dir.mkdir(parents=True, exist_ok=True)
    props.touch(mode=0o600)  # it may hold the brokers' SASL password
    props.chmod(0o600)
    props.write_text(_kafka_properties(opts, data_dir, index))
    classpath = f"{libs.resolve()}/*"
    name = opts.broker_names[index]
    if not (data_dir / "meta.properties").exists():
        report(f"{name}: formatting KRaft storage")
        result = subprocess.run(
            [
                java,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={_cluster_id(opts)}",
                "-c",
                str(props.resolve()),
                *_scram_users(opts.kafka_security),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError("Kafka storage format failed:\n" + (result.stdout + result.stderr))
    controller = opts.controller_port_of(index)
    if port_answers(opts.host, controller):
        raise StackError(
            f"port {controller} (Kafka controller) is taken by another program; "
            "choose another with --controller-port"
        )
    proc = spawn(
        [
            java,
            f"-Xmx{opts.kafka_heap}",
            f"-Xms{opts.kafka_heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            "-cp",
            classpath,
            KAFKA_MARKER,
            str(props.resolve()),
        ],
        log,
        cwd=opts.state_dir,
    )
    return proc, log


def _start_brokers(
    opts: StackOptions, report: Report, names: list[str]
) -> dict[str, ServiceStatus]:
    """Start the named brokers all at once (a KRaft quorum answers only once most of its
    voters run), then wait for each."""
    started = [(name, *_spawn_kafka(opts, report, opts.broker_names.index(name))) for name in names]
    return {
        name: _await_ready(
            name,
            "Kafka broker",
            proc,
            opts.broker_port(opts.broker_names.index(name)),
            log,
            opts,
            report,
        )
        for name, proc, log in started
    }


# --- Redis -----------------------------------------------------------------------------------


def _start_redis(opts: StackOptions, report: Report, index: int = 0) -> ServiceStatus:
    """Start one redis-server: the only one, or node `index` of the cluster."""
    server = _require("redis-server", "apt-get install -y redis-server")
    suffix = "" if index == 0 else f"-{index + 1}"
    data_dir = opts.state_dir / f"redis-data{suffix}"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = opts.state_dir / f"redis{suffix}.log"
    port = opts.redis_port_of(index)
    cluster = (
        # node timeout: how long a primary may be unreachable before its replica takes over
        [
            *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
            *("--cluster-node-timeout", "2000"),
        ]
        if opts.redis_cluster
        else []
    )
    proc = spawn(
        [
            server,
            "--bind",
            opts.host,
            "--port",
            str(port),
            "--dir",
            str(data_dir.resolve()),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--save",
            "",
            *cluster,
        ],
        log,
        cwd=opts.state_dir,
    )
    name = opts.redis_names[index]
    return _await_ready(name, "redis-server", proc, port, log, opts, report)


def _form_redis_cluster(opts: StackOptions, report: Report) -> None:
    """Join fresh cluster nodes into one cluster (once: a formed cluster keeps its layout in
    each node's nodes.conf), then wait until every node reports it healthy."""
    nodes = [(opts.host, opts.redis_port_of(i)) for i in range(opts.redis_nodes)]
    first = redis.Redis(host=opts.host, port=opts.redis_port, socket_timeout=5)
    if int(first.cluster("INFO")["cluster_slots_assigned"]) == 0:
        cli = _require("redis-cli", "apt-get install -y redis-tools")
        report(f"redis: forming a cluster of {len(nodes)} nodes (3 primaries, 1 replica each)")
        done = subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *(f"{h}:{p}" for h, p in nodes),
                *("--cluster-replicas", "1", "--cluster-yes"),
            ],
            capture_output=True,
            text=True,
            timeout=opts.timeout,
            check=False,
        )
        if done.returncode != 0:
            raise StackError(f"redis-cli --cluster create failed: {done.stdout}{done.stderr}")

    def healthy() -> bool:
        for host, port in nodes:
            try:
                info = redis.Redis(host=host, port=port, socket_timeout=2).cluster("INFO")
            except redis.RedisError:
                return False
            if info.get("cluster_state") != "ok" or int(info["cluster_known_nodes"]) < len(nodes):
                return False
        return True

    deadline = time.monotonic() + opts.timeout
    while not healthy():
        if time.monotonic() > deadline:
            raise StackError(f"the Redis Cluster is not healthy after {opts.timeout:.0f}s")
        time.sleep(0.2)
    report(f"redis: cluster ok on ports {nodes[0][1]}-{nodes[-1][1]}")


def _start_prometheus(opts: StackOptions, report: Report) -> ServiceStatus:
    pid = start_prometheus(
        opts.state_dir / "prometheus",
        host=opts.host,
        port=opts.prometheus_port,
        targets=opts.worker_targets,
        timeout=opts.timeout,
        report=report,
        alertmanager=f"{opts.host}:{opts.alertmanager_port}" if opts.with_alertmanager else None,
    )
    return ServiceStatus("prometheus", opts.prometheus_port, pid, managed=True, state="running")


def _start_alertmanager(opts: StackOptions, report: Report) -> ServiceStatus:
    pid = start_alertmanager(
        opts.state_dir / "alertmanager",
        host=opts.host,
        port=opts.alertmanager_port,
        config=opts.alertmanager_config,
        timeout=opts.timeout,
        report=report,
    )
    return ServiceStatus("alertmanager", opts.alertmanager_port, pid, managed=True, state="running")


# --- commands --------------------------------------------------------------------------------

_MARKERS = {
    "kafka": KAFKA_MARKER,
    "redis": REDIS_MARKER,
    "prometheus": PROMETHEUS_MARKER,
    "alertmanager": ALERTMANAGER_MARKER,
}
SERVICES = ("kafka", "redis", "prometheus", "alertmanager")
OPTIONAL = ("prometheus", "alertmanager")  # reported only once started


def _answers(name: str, host: str, port: int) -> bool:
    if name.startswith("redis"):
        return redis_answers(host, port)
    if name in ("prometheus", "alertmanager"):
        return prometheus_ready(host, port)
    return port_answers(host, port)


def up(opts: StackOptions, report: Report = print) -> dict[str, ServiceStatus]:
    """Start Kafka (one broker, or `kafka_brokers`) and Redis unless they already run; harmless
    to repeat, and it restarts a broker of the cluster that stopped."""
    highest = 65535 - REDIS_CLUSTER_BUS_OFFSET - (opts.redis_nodes - 1)
    if opts.redis_cluster and opts.redis_port > highest:
        raise StackError(
            f"a Redis Cluster node also listens on its port + {REDIS_CLUSTER_BUS_OFFSET} (the "
            f"cluster bus): --redis-port must be at most {highest}"
        )
    opts.state_dir.mkdir(parents=True, exist_ok=True)
    services = _load(opts.state_dir)
    missing = [
        name
        for index, name in enumerate(opts.broker_names)
        if not _in_place(name, opts.broker_port(index), services, opts, report)
    ]
    if missing:
        services.update(_start_brokers(opts, report, missing))
        _save(opts.state_dir, services)
    for index, name in enumerate(opts.redis_names):
        if not _in_place(name, opts.redis_port_of(index), services, opts, report):
            services[name] = _start_redis(opts, report, index)
        _save(opts.state_dir, services)
    if opts.redis_cluster:
        _form_redis_cluster(opts, report)
    if opts.with_alertmanager and not _in_place(
        "alertmanager", opts.alertmanager_port, services, opts, report
    ):
        services["alertmanager"] = _start_alertmanager(opts, report)
        _save(opts.state_dir, services)
    if opts.with_prometheus and not _in_place(
        "prometheus", opts.prometheus_port, services, opts, report
    ):
        services["prometheus"] = _start_prometheus(opts, report)
        _save(opts.state_dir, services)
    return services


def _in_place(
    name: str, port: int, services: dict[str, ServiceStatus], opts: StackOptions, report: Report
) -> bool:
    """Does service `name` already run (ours, or something external answering on its port,
    recorded as such)? False: it must be started."""
    known = services.get(name)
    if known and known.managed and pid_alive(known.pid, _marker(name)):
        if _answers(name, opts.host, known.port):
            report(f"{name}: already running (pid {known.pid}, port {known.port})")
            return True
        raise StackError(
            f"{name} (pid {known.pid}) runs but does not answer on port {known.port}; "
            "run `healthscore stack down` and try again"
        )
    if _answers(name, opts.host, port):
        report(f"{name}: something already answers on {opts.host}:{port}; using it as it is")
        services[name] = ServiceStatus(
            name, port, None, managed=False, state="running", detail="external"
        )
        _save(opts.state_dir, services)
        return True
    return False


def _marker(name: str) -> str:
    """What a service's command line contains (to tell our process from a reused pid)."""
    if name.startswith("kafka"):
        return KAFKA_MARKER
    return REDIS_MARKER if name.startswith("redis") else _MARKERS[name]


def status(opts: StackOptions) -> dict[str, ServiceStatus]:
    """Report each recorded service: running, not answering, or its process gone."""
    services = _load(opts.state_dir)
    extra = [n for n in services if n.startswith(("kafka-", "redis-"))]
    ports = {name: opts.broker_port(i) for i, name in enumerate(opts.broker_names)}
    ports.update({name: opts.redis_port_of(i) for i, name in enumerate(opts.redis_names)})
    ports.update(prometheus=opts.prometheus_port, alertmanager=opts.alertmanager_port)
    for name in (*SERVICES, *sorted(set(extra) - set(SERVICES))):
        svc = services.get(name)
        if svc is None and name in OPTIONAL:
            continue  # only reported once started (--with-prometheus, --with-alertmanager)
        if svc is None:
            services[name] = ServiceStatus(
                name,
                ports.get(name, 0),
                state="stopped",
                detail="not started by this stack",
            )
            continue
        alive = pid_alive(svc.pid, _marker(name)) if svc.managed else True
        answering = _answers(name, opts.host, svc.port)
        if svc.managed and not alive:
            svc.state, svc.detail = "down", f"process {svc.pid} is gone"
        elif not answering:
            svc.state, svc.detail = "down", f"nothing answers on {opts.host}:{svc.port}"
        else:
            svc.state = "running"
            svc.detail = "started by this stack" if svc.managed else "external, used as it is"
    return services


def down(opts: StackOptions, report: Report = print, purge: bool = False) -> None:
    """Stop exactly the processes this stack started; with `purge`, delete their data too."""
    services = _load(opts.state_dir)
    brokers = sorted((n for n in services if n.startswith("kafka-")), reverse=True)
    nodes = sorted((n for n in services if n.startswith("redis-")), reverse=True)
    for name in ("prometheus", "alertmanager", *nodes, "redis", *brokers, "kafka"):
        svc = services.get(name)
        if svc is None:
            continue
        if not svc.managed:
            report(f"{name}: external, left running")
        elif svc.pid is not None and stop_pid(svc.pid, _marker(name)):
            report(f"{name}: stopped pid {svc.pid}")
        else:
            report(f"{name}: was not running")
    state_file = opts.state_dir / STATE_FILE
    state_file.unlink(missing_ok=True)
    if purge:
        for sub in ("kafka-data", "redis-data", "prometheus", "alertmanager"):
            shutil.rmtree(opts.state_dir / sub, ignore_errors=True)
        for extra in [*opts.state_dir.glob("kafka-data-*"), *opts.state_dir.glob("redis-data-*")]:
            shutil.rmtree(extra, ignore_errors=True)
        (opts.state_dir / "kafka-cluster-id").unlink(missing_ok=True)
        report("data removed")
