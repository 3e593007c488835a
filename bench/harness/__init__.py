"""What the benchmarks share: a throw-away PostgreSQL database, a sandbox subprocess, the
environment of a run, Celery worker processes, and tenants with working connections.

A package, not a script, so that `make bench` (which runs bench/*.py) does not run it.
"""

import base64
import os
import secrets
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import redis
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
CONTROL_TOKEN = "dev-sandbox-control"
UNLIMITED = 1_000_000


# What the service requires to start with DEBUG=0: a secret key and an encryption key,
# throw-away ones (a benchmark's data is dropped with its database), the same for every
# process of one run.
_PRODUCTION_ENV = {
    # No env file: a `make run` in the same clone leaves its ports in .env.run, and a
    # benchmark's processes must talk to its own sandbox and Redis only.
    "ENV_FILE": "",
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ENCRYPTION_KEYS": "bench:" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
    "SECURE_SSL_REDIRECT": "0",
}


def production_env() -> dict[str, str]:
    return dict(_PRODUCTION_ENV)


def database_url(name: str) -> str:
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgres://", 1)
    return f"{base}/{name}"


def recreate_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def connections_check(needed: int) -> None:
    """Refuse a run whose workers would hold more PostgreSQL connections than the server has
    free (each worker thread keeps one): past that, claims fail with "too many clients", the
    jobs wait for a sweep the benchmark does not run, and the run hangs until its timeout."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        limit = int(connection.execute("SHOW max_connections").fetchone()[0])
        reserved = int(connection.execute("SHOW superuser_reserved_connections").fetchone()[0])
        in_use = connection.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0]
    # This process, the sandbox's checks and a margin for whatever else connects meanwhile.
    free = limit - reserved - in_use - 10
    if needed > free:
        raise SystemExit(
            f"workers x concurrency = {needed} database connections, but the server has "
            f"{free} to spare (max_connections {limit}, {in_use} in use, {reserved} reserved, "
            "10 kept for the run itself): use fewer threads or worker processes."
        )


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Sandbox:
    """`python -m sandbox --memory` on a free port, with its own rate limit lifted."""

    def __init__(self, token: str, *, env: dict[str, str] | None = None) -> None:
        process_env = {
            **os.environ,
            "SANDBOX_API_TOKENS": token,
            "SANDBOX_CONTROL_TOKEN": CONTROL_TOKEN,
            "SANDBOX_RATE_LIMIT_BURST": str(UNLIMITED),
            "SANDBOX_RATE_LIMIT_PER_SECOND": str(UNLIMITED),
            # Runs that the provisioned flows' schedules would start are not what a
            # benchmark measures.
            "SANDBOX_FIRE_SCHEDULES": "0",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--memory", "--port", "0"],
            cwd=REPO_ROOT,
            env=process_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.base_url = ""
        for line in self.process.stdout:
            if line.startswith("sandbox listening on "):
                self.base_url = line.split()[3]
                break
        if not self.base_url:
            raise RuntimeError("the sandbox did not start")
        # Keep reading its output so that it never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.api_url = self.base_url + "/v1"
        self.token = token
        self.control = requests.Session()
        self.control.trust_env = False
        self.control.headers["Authorization"] = f"Bearer {CONTROL_TOKEN}"

    def call(self, method: str, path: str, **kwargs):
        response = self.control.request(method, f"{self.base_url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def configure(self, **settings) -> None:
        self.call("PATCH", "/config", json=settings)

    def set_latency(self, milliseconds: float) -> None:
        rule = {"path": "/v1/*", "method": "*", "fixedMs": milliseconds, "jitterMs": 0}
        self.call("PUT", "/latency", json={"rules": [rule]})

    def integrations(self) -> list[dict]:
        found = self.call("GET", "/objects", params={"collection": "integrations"})
        return found["objects"]["integrations"]

    def session(self) -> requests.Session:
        """A session on the emulated API, authenticated with the sandbox's token."""
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {self.token}"
        return session

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_in_process(run, *, db_name: str):
    """A benchmark that runs in this process with no worker or sandbox: a fresh database
    (migrated), production settings, Django set up, `run()`'s result; the database dropped
    after."""
    recreate_database(db_name)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **production_env(),
            "ALLOWED_HOSTS": "testserver",
            "INTEGRATOR_API_TOKEN": "bench-integrator-token",
            "DATABASE_URL": database_url(db_name),
            "LOG_LEVEL": "WARNING",
        }
    )
    try:
        migrate({**os.environ})
        import django

        django.setup()
        return run()
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(db_name)


def run_env(*, run_id: str, db_name: str, sandbox: "Sandbox", options) -> dict[str, str]:
    """The environment of every process of one run: production settings under a Redis key
    prefix of the run (bench/provision_settings.py), its database, the sandbox, and the
    service's rate limiter at `options.rate` / `options.burst`."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.provision_settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "BENCH_RUN_ID": run_id,
        **production_env(),
        "DATABASE_URL": database_url(db_name),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "INTEGRATOR_API_URL": sandbox.api_url,
        "INTEGRATOR_API_TOKEN": sandbox.token,
        "INTEGRATOR_RATE_LIMIT_PER_SECOND": str(options.rate),
        "INTEGRATOR_RATE_LIMIT_BURST": str(options.burst),
        "LOG_LEVEL": "WARNING",
    }


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def tear_down(
    *, workers: list, sandbox: "Sandbox", db_name: str, run_id: str, log_dir: Path, ok: bool
) -> None:
    """Stop the workers and the sandbox, drop the database and the run's Redis keys; keep the
    worker logs when the run failed."""
    import shutil

    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    sandbox.stop()
    from django.db import connections

    connections.close_all()
    drop_database(db_name)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"bench-{run_id}:*", count=1000):
        client.delete(key)
    if ok:
        shutil.rmtree(log_dir, ignore_errors=True)
    else:
        print(f"worker logs kept in {log_dir}", file=sys.stderr)


def demo_template_published(sandbox: "Sandbox"):
    """The sandbox seeded and the demo template published from it, as `make run` loads it:
    with its snapshot, which is what lets a provision trust the clone's manifest instead of
    reading the clone back. (seed document, template). Needs Django set up."""
    from core.accounts import integrator_account_default
    from core.integrator_client import build_integrator_client
    from tenants.demo_seed import DEMO_TEMPLATE_FILE
    from tenants.services import template_document_read, template_load, template_snapshot_take

    seed = sandbox.call("POST", "/seed")
    with build_integrator_client(account=integrator_account_default()) as client:
        snapshot = template_snapshot_take(
            client=client, source_integration_id=seed["integrationId"]
        )
    template, _ = template_load(
        document=template_document_read(path=DEMO_TEMPLATE_FILE), snapshot=snapshot
    )
    return seed, template


def tenants_with_connections(sandbox: "Sandbox", template, count: int, *, threads: int = 16):
    """`count` tenants of `template` (bench-0000, ...), each with a working connection per
    slot on the sandbox's demo apps. Needs Django set up."""
    from django.db import connections

    from integrator.client import IntegratorClient
    from sandbox.demo_apps import DEMO_API_KEYS
    from tenants.services import tenant_connection_submit, tenant_create

    client = IntegratorClient(sandbox.api_url, sandbox.token, timeout=30)

    def make_tenant(n: int):
        tenant, _ = tenant_create(
            external_id=f"bench-{n:04d}", name=f"Bench tenant {n}", template=template
        )
        for slot in template.slots:
            result = tenant_connection_submit(
                tenant=tenant,
                slot_key=slot["key"],
                values={
                    "base_url": f"{sandbox.base_url}/_demo/{slot['key']}",
                    "api_key": DEMO_API_KEYS[slot["key"]],
                },
                client=client,
            )
            assert result.ok, result.message
        return tenant

    with ThreadPoolExecutor(threads) as pool:
        tenants = list(pool.map(make_tenant, range(count)))
    connections.close_all()
    return tenants


def sandbox_ceiling(sandbox: Sandbox, path: str, *, seconds: float, threads: int) -> float:
    """Calls/s the sandbox answers at the configured latency with its rate limit lifted."""
    deadline = time.monotonic() + seconds
    counts = [0] * threads

    def hammer(index: int) -> None:
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {sandbox.token}"
        while time.monotonic() < deadline:
            if session.get(sandbox.api_url + path, timeout=10).status_code == 200:
                counts[index] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(hammer, range(threads)))
    return sum(counts) / (time.monotonic() - started)


def start_workers(
    count: int, concurrency: int, env: dict, log_dir: Path, *, queues: str = "provisioning"
) -> list:
    """`count` Celery worker processes, threads pool, consuming `queues` (comma-separated)."""
    workers = []
    for index in range(count):
        log = open(log_dir / f"worker-{index}.log", "wb")  # noqa: SIM115 (closed with the process)
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(concurrency),
                    "-Q",
                    queues,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "WARNING",
                    "--hostname",
                    f"bench-{index}-{env['BENCH_RUN_ID']}@%h",
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far, all cores (Linux /proc/stat):
    the difference over a run says how close the machine came to being the limit."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU seconds so far of each of PostgreSQL's processes on this machine (the benchmarks'
    server is local): their CPU is part of what a job costs."""
    seconds = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    seconds[int(entry.name)] = cpu_seconds(int(entry.name))
            except OSError:  # the process ended meanwhile
                continue
    return seconds


def postgres_cpu_since(before: dict[int, float]) -> float:
    """PostgreSQL's CPU seconds since `before` (a `postgres_cpu_seconds()` reading), its
    processes started meanwhile counted from zero."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in postgres_cpu_seconds().items())


def wait_for_workers(app, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=0.5)) >= count:
            return
    raise RuntimeError("the workers did not answer a ping")


def wait_for_jobs(ids: list, *, timeout: float) -> bool:
    """Poll until none of the jobs is queued or running; False on timeout."""
    from provisioning.models import Job, JobStatus

    unfinished = (JobStatus.QUEUED, JobStatus.RUNNING)
    deadline = time.monotonic() + timeout
    while Job.objects.filter(pk__in=ids, status__in=unfinished).exists():
        if time.monotonic() > deadline:
            print("timed out waiting for the jobs", file=sys.stderr)
            return False
        time.sleep(0.2)
    return True


def worker_arguments(parser, *, tenants: int, concurrency: int = 32) -> None:
    """The options every worker benchmark takes: tenants, latency, rate, burst, workers."""
    parser.add_argument("--tenants", type=int, default=tenants)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=concurrency, help="threads per worker")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")


def run_with_workers(run, options, *, db_name: str, name: str) -> int:
    """A run of a worker benchmark: a fresh database, a sandbox, the run's environment (also
    this process's), migrations, Django; then `run(options, sandbox, env, log_dir, workers)`
    (which appends the workers it starts to `workers`), and everything torn down after."""
    import tempfile
    import uuid

    run_id = uuid.uuid4().hex[:10]
    token = f"bench-{secrets.token_hex(8)}"
    log_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    connections_check(options.workers * options.concurrency)
    recreate_database(db_name)
    sandbox = Sandbox(token)
    env = run_env(run_id=run_id, db_name=db_name, sandbox=sandbox, options=options)
    os.environ.update(env)
    workers: list = []
    outcome = 1
    try:
        migrate(env)
        import django

        django.setup()
        outcome = run(options, sandbox, env, log_dir, workers)
        return outcome
    finally:
        tear_down(
            workers=workers,
            sandbox=sandbox,
            db_name=db_name,
            run_id=run_id,
            log_dir=log_dir,
            ok=outcome == 0,
        )
