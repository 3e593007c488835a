"""The sandbox's own settings: read from the environment, overridden by command-line options.

Bad values fail loudly at start-up. The fields listed in `RUNTIME_FIELDS` can also be changed
while the sandbox runs, through `PATCH /_sandbox/config`.
"""

import argparse
import dataclasses
import os
from pathlib import Path

from sandbox import assumptions

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_FILE = REPO_ROOT / "var" / "sandbox-state.json"
DEFAULT_API_TOKEN = "dev-integrator-token"
DEFAULT_EU_API_TOKEN = "dev-integrator-token-eu"
DEFAULT_CONTROL_TOKEN = "dev-sandbox-control"
# A day either way: enough for any skew worth testing, never a stamp before 1970.
MAX_CLOCK_OFFSET_SECONDS = 86400.0


# What `clone_fault` can make a clone get wrong ("" for nothing).
CLONE_FAULTS = ("", "drop_flow", "keep_source_connection")


class SettingsError(ValueError):
    """A setting has a value the sandbox cannot run with."""


@dataclasses.dataclass
class SandboxSettings:
    host: str = "127.0.0.1"
    port: int = 8100
    state_file: Path | None = DEFAULT_STATE_FILE
    seed: bool = False
    # The version the demo template integration is evolved into once seeded (--seed-version);
    # empty: as seeded (1.0.0), or as the state file kept it.
    seed_version: str = ""
    public_url: str = ""
    api_tokens: tuple[str, ...] = (DEFAULT_API_TOKEN,)
    # Tokens of accounts in the EU region, served under /eu/v1 (sandbox.models.accounts).
    eu_api_tokens: tuple[str, ...] = (DEFAULT_EU_API_TOKEN,)
    control_token: str = DEFAULT_CONTROL_TOKEN
    access_log: bool = False
    # Everything below can be changed at run time.
    rate_limit_burst: int = 1000
    rate_limit_per_second: float = 300.0
    page_size: int = assumptions.DEFAULT_PAGE_SIZE
    job_queue_seconds: float = 1.0
    job_run_seconds: float = 3.0
    job_cancel_seconds: float = 1.0
    # How long a retry of a run's errors runs (0: it has ended when its answer is sent). While
    # it runs, the retried errors are resolved and the records that fail again are not yet
    # open errors: they are once it has ended (assumptions.py, Error Management 2.0).
    retry_run_seconds: float = 0.0
    job_records: int = 20
    # Record errors of every run that no forced outcome decides (0: none): the demo's way to
    # show failing records in `make run` (PATCH /_sandbox/config {"job_error_records": 3}).
    job_error_records: int = 0
    ping_timeout_seconds: float = 5.0
    ping_failure_status: int = assumptions.PING_FAILURE_STATUS
    hang_seconds: float = 30.0
    # Whether a clone keeps the `tag` of its request: not documented (assumptions.py).
    clone_keeps_tag: bool = assumptions.CLONE_KEEPS_TAG
    # A test control, not a reading of the docs: make every integration clone wrong in one way,
    # so that a client can prove it notices. "" (a correct clone), "drop_flow" (the source's
    # last flow is not copied, nor listed in the manifest) or "keep_source_connection" (the
    # first copied import keeps the source's connection instead of the connectionMap's).
    clone_fault: str = ""
    # The account's Error Management: 2 (per-step errors under the flow, with resolve and
    # retry; what new accounts get) or 1 (the older per-job `joberrors`). A run records its
    # errors the way the setting says when it ends; switching does not move recorded errors.
    error_management: int = assumptions.DEFAULT_ERROR_MANAGEMENT
    # How long the demo OAuth provider's (crm) access tokens live.
    crm_access_token_seconds: float = 300.0
    # The account's clock runs this many seconds ahead of this machine's (negative: behind):
    # every createdAt, lastModified, startedAt... the sandbox writes. Stepping it back makes
    # new jobs carry createdAt values earlier than older jobs' (assumptions.py, jobs).
    clock_offset_seconds: float = 0.0
    # Enabled flows with a schedule run by themselves, as on integrator.io (schedule_firing.py).
    # Tests that count runs turn it off (tests/fixtures/sandbox.py), and the benchmarks too.
    fire_schedules: bool = True


RUNTIME_FIELDS = (
    "rate_limit_burst",
    "rate_limit_per_second",
    "page_size",
    "job_queue_seconds",
    "job_run_seconds",
    "job_cancel_seconds",
    "retry_run_seconds",
    "job_records",
    "job_error_records",
    "ping_timeout_seconds",
    "ping_failure_status",
    "hang_seconds",
    "clone_keeps_tag",
    "clone_fault",
    "error_management",
    "crm_access_token_seconds",
    "clock_offset_seconds",
    "fire_schedules",
)

# Environment variable for each field that can come from the environment.
ENV_NAMES = {
    "host": "SANDBOX_HOST",
    "port": "SANDBOX_PORT",
    "public_url": "SANDBOX_PUBLIC_URL",
    "control_token": "SANDBOX_CONTROL_TOKEN",
    "rate_limit_burst": "SANDBOX_RATE_LIMIT_BURST",
    "rate_limit_per_second": "SANDBOX_RATE_LIMIT_PER_SECOND",
    "page_size": "SANDBOX_PAGE_SIZE",
    "job_queue_seconds": "SANDBOX_JOB_QUEUE_SECONDS",
    "job_run_seconds": "SANDBOX_JOB_RUN_SECONDS",
    "job_cancel_seconds": "SANDBOX_JOB_CANCEL_SECONDS",
    "retry_run_seconds": "SANDBOX_RETRY_RUN_SECONDS",
    "job_records": "SANDBOX_JOB_RECORDS",
    "job_error_records": "SANDBOX_JOB_ERROR_RECORDS",
    "ping_timeout_seconds": "SANDBOX_PING_TIMEOUT_SECONDS",
    "ping_failure_status": "SANDBOX_PING_FAILURE_STATUS",
    "hang_seconds": "SANDBOX_HANG_SECONDS",
    "clone_keeps_tag": "SANDBOX_CLONE_KEEPS_TAG",
    "error_management": "SANDBOX_ERROR_MANAGEMENT",
    "crm_access_token_seconds": "SANDBOX_CRM_ACCESS_TOKEN_SECONDS",
    "clock_offset_seconds": "SANDBOX_CLOCK_OFFSET_SECONDS",
    "fire_schedules": "SANDBOX_FIRE_SCHEDULES",
}


def settings_from_env(environ: dict[str, str] | None = None) -> SandboxSettings:
    """Build settings from SANDBOX_* variables; unset variables keep their defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for field, env_name in ENV_NAMES.items():
        if environ.get(env_name, "") != "":
            values[field] = environ[env_name]
    tokens = environ.get("SANDBOX_API_TOKENS", "")
    if tokens.strip():
        values["api_tokens"] = tokens
    if "SANDBOX_EU_API_TOKENS" in environ:  # empty: no EU account
        values["eu_api_tokens"] = environ["SANDBOX_EU_API_TOKENS"]
    return settings_with(SandboxSettings(), values)


def settings_from_options(options: argparse.Namespace | dict) -> SandboxSettings:
    """Environment first, then the command line of `python -m sandbox` (which wins)."""
    values = options if isinstance(options, dict) else vars(options)
    overrides: dict[str, object] = {}
    if values.get("host"):
        overrides["host"] = values["host"]
    if values.get("port") is not None:
        overrides["port"] = values["port"]
    if values.get("memory"):
        overrides["state_file"] = None
    elif values.get("state"):
        overrides["state_file"] = values["state"]
    if values.get("seed") or values.get("seed_version"):
        overrides["seed"] = True
    if values.get("seed_version"):
        overrides["seed_version"] = values["seed_version"]
    if values.get("access_log"):
        overrides["access_log"] = True
    return settings_with(settings_from_env(), overrides)


def settings_with(settings: SandboxSettings, values: dict[str, object]) -> SandboxSettings:
    """Return a copy of `settings` with `values` converted, checked and applied."""
    known = {f.name: f for f in dataclasses.fields(SandboxSettings)}
    converted = {}
    for name, raw in values.items():
        if name not in known:
            raise SettingsError(f"unknown setting {name!r}")
        converted[name] = _convert(name, raw)
    result = dataclasses.replace(settings, **converted)
    _check(result)
    return result


def runtime_settings(settings: SandboxSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in RUNTIME_FIELDS}


def _convert(name: str, raw: object) -> object:
    default = getattr(SandboxSettings(), name)
    try:
        if name in ("api_tokens", "eu_api_tokens"):
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(item).strip() for item in items if str(item).strip())
        if name == "state_file":
            return None if raw is None else Path(str(raw))
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(raw)
            return int(raw)
        if isinstance(default, float):
            if isinstance(raw, bool):
                raise ValueError(raw)
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name!r} has an invalid value {raw!r}") from exc


def _check(settings: SandboxSettings) -> None:
    if not settings.api_tokens:
        raise SettingsError("SANDBOX_API_TOKENS must name at least one token")
    if set(settings.api_tokens) & set(settings.eu_api_tokens):
        raise SettingsError(
            "a token belongs to one account: SANDBOX_API_TOKENS and "
            "SANDBOX_EU_API_TOKENS must not share one"
        )
    if not settings.control_token:
        raise SettingsError("SANDBOX_CONTROL_TOKEN must not be empty")
    if not 0 <= settings.port <= 65535:
        raise SettingsError(f"port {settings.port} is out of range")
    if settings.rate_limit_burst < 1 or settings.rate_limit_per_second <= 0:
        raise SettingsError("the rate limit needs a burst >= 1 and a rate > 0")
    if not 1 <= settings.page_size <= assumptions.MAX_PAGE_SIZE:
        raise SettingsError(f"page_size must be between 1 and {assumptions.MAX_PAGE_SIZE}")
    for name in (
        "job_queue_seconds",
        "job_run_seconds",
        "job_cancel_seconds",
        "retry_run_seconds",
        "hang_seconds",
    ):
        if getattr(settings, name) < 0:
            raise SettingsError(f"{name} must not be negative")
    if settings.job_records < 0:
        raise SettingsError("job_records must not be negative")
    if settings.job_error_records < 0:
        raise SettingsError("job_error_records must not be negative")
    if settings.crm_access_token_seconds <= 0:
        raise SettingsError("crm_access_token_seconds must be positive")
    if abs(settings.clock_offset_seconds) > MAX_CLOCK_OFFSET_SECONDS:
        raise SettingsError(
            f"clock_offset_seconds must be within {MAX_CLOCK_OFFSET_SECONDS:.0f} s of zero"
        )
    if settings.ping_timeout_seconds <= 0:
        raise SettingsError("ping_timeout_seconds must be positive")
    if settings.clone_fault not in CLONE_FAULTS:
        raise SettingsError(f"clone_fault must be one of {', '.join(map(repr, CLONE_FAULTS))}")
    if settings.error_management not in (1, 2):
        raise SettingsError("error_management must be 1 (joberrors) or 2 (per-step errors)")
    if not 200 <= settings.ping_failure_status <= 599:
        raise SettingsError("ping_failure_status must be an HTTP status (200-599)")
