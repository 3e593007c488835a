"""What the benchmarks share: a throw-away PostgreSQL database and a sandbox subprocess.

A package, not a script, so that `make bench` (which runs bench/*.py) does not run it.
"""

import base64
import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
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
