"""Demo data for `make run`: created once, then reused, so that every start prints the same
logins and API key. Development only; the secrets it keeps live in var/ (never committed)."""

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework_api_key.models import APIKey

from core.accounts import integrator_account_default, integrator_account_save
from core.integrator_client import build_integrator_client
from core.models import IntegratorAccount
from core.sandbox_address import sandbox_public_url, sandbox_url_fill
from integrator import errors as remote
from tenants.models import IntegrationTemplate
from tenants.services import template_load, template_snapshot_take

OPS_USERNAME = "ops"
DEMO_API_KEY_NAME = "demo host app"
DEMO_TEMPLATE_FILE = Path(__file__).resolve().parent / "template_files" / "shop-to-erp.yaml"
# The second demo template: its CRM slot connects by OAuth 2 with the sandbox's demo CRM.
DEMO_OAUTH_TEMPLATE_FILE = DEMO_TEMPLATE_FILE.with_name("crm-to-erp.yaml")
# The second demo account (`make run`): the sandbox's EU account, by its default token
# (SANDBOX_EU_API_TOKENS).
DEMO_EU_ACCOUNT_KEY = "demo-eu"
DEMO_EU_TOKEN = "dev-integrator-token-eu"
# How often the seed asks again while the sandbox starts (see `demo_seed`).
_SNAPSHOT_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class DemoCredentials:
    ops_username: str
    ops_password: str
    api_key: str
    template_key: str
    oauth_template_key: str
    # The sandbox's address the demo data was made with, when the sandbox is elsewhere now
    # (None when it is where it was): see `_demo_sandbox_moved_from`.
    sandbox_moved_from: str | None = None


def _credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.json"


def _load_saved() -> dict:
    path = _credentials_file()
    return json.loads(path.read_text()) if path.exists() else {}


def _save(values: dict) -> None:
    path = _credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)


def demo_seed(*, api_key_make: Callable[[str], str], wait_seconds: float = 0) -> DemoCredentials:
    """Create the ops superuser, the demo template and a host-app API key once; later calls
    return the saved values unchanged. `api_key_make(name)` makes the key (with every scope)
    and returns it in clear: API keys and their scopes belong to the `api` layer above.

    The template's first version is published with its snapshot, read from the sandbox
    (INTEGRATOR_API_URL), so that later versions can be rolled out to the demo's tenants;
    `make run` starts the sandbox beside this seed, hence `wait_seconds` for it to answer.
    Raises integrator.errors.IntegratorError when it does not."""
    saved = _load_saved()
    password = _ops_password(saved)
    api_key = _demo_api_key(saved, api_key_make)
    template = _demo_template(DEMO_TEMPLATE_FILE, wait_seconds=wait_seconds)
    oauth_template = _demo_template(DEMO_OAUTH_TEMPLATE_FILE, wait_seconds=wait_seconds)
    return DemoCredentials(
        ops_username=OPS_USERNAME,
        ops_password=password,
        api_key=api_key,
        template_key=template.key,
        oauth_template_key=oauth_template.key,
        sandbox_moved_from=_demo_sandbox_moved_from(saved),
    )


def _demo_sandbox_moved_from(saved: dict) -> str | None:
    """The sandbox's address of the run that made the demo data, if the sandbox is elsewhere
    now (another SANDBOX_PORT). The demo templates are loaded once, their OAuth slot's consent
    and token pages filled with that address (`demo_template_document`), and the demo tenants'
    connections name it in integrator.io: after a move they point at a port where nothing
    answers. Nothing here can move them, so the banner says so. The first run records its
    address; a checkout seeded before that was recorded takes the current one."""
    current = sandbox_public_url()
    made_with = saved.get("sandbox_url")
    if made_with is None:
        saved["sandbox_url"] = made_with = current
        _save(saved)
    return None if made_with == current else made_with


def _ops_password(saved: dict) -> str:
    User = get_user_model()
    password = saved.get("ops_password")
    user = User.objects.filter(username=OPS_USERNAME).first()
    if user is None or password is None or not user.check_password(password):
        password = secrets.token_urlsafe(12)
        user = user or User(username=OPS_USERNAME, email="ops@example.com")
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        saved["ops_password"] = password
        _save(saved)
    return password


def _demo_api_key(saved: dict, api_key_make: Callable[[str], str]) -> str:
    # Only the hash is in the database; the key itself is kept in var/ so that every
    # `make run` can print the same one. A revoked or lost key is replaced.
    key = saved.get("api_key")
    if key is None or not APIKey.objects.is_valid(key):
        key = api_key_make(DEMO_API_KEY_NAME)
        saved["api_key"] = key
        _save(saved)
    return key


def demo_template_document(path: Path) -> dict:
    """A demo template file, the `{sandbox_url}`s of what the service opens or sends filled
    with the sandbox's address (an OAuth slot's consent and token pages, a slot's connection
    document: they must be real URLs, and are kept as loaded). The texts shown to people keep
    `{sandbox_url}`, filled with the address of the run that shows them
    (core/sandbox_address.py), so that a later `make run` on another port names its own."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for slot in document.get("slots", []):
        for part in ("connection", "oauth"):
            if part in slot:
                # URLs and names only: the address carries nothing JSON would escape.
                slot[part] = json.loads(sandbox_url_fill(json.dumps(slot[part])))
    return document


def _demo_template(path: Path, *, wait_seconds: float) -> IntegrationTemplate:
    document = demo_template_document(path)
    template = IntegrationTemplate.objects.filter(key=document["key"]).first()
    if template is None:  # loaded once: later edits in the admin are kept
        snapshot = _snapshot(document["source_integration_id"], wait_seconds=wait_seconds)
        template, _ = template_load(document=document, snapshot=snapshot)
    return template


def demo_seed_eu(*, wait_seconds: float = 0) -> IntegrationTemplate:
    """A second demo integrator.io account, in the EU region (the sandbox's own EU account,
    reached at INTEGRATOR_EU_API_URL: `make run` points it at the sandbox's /eu/v1), and the
    demo template published on it as `shop-to-erp-eu`. Once: later runs keep both."""
    account = IntegratorAccount.objects.filter(key=DEMO_EU_ACCOUNT_KEY).first()
    if account is None:
        account = integrator_account_save(
            key=DEMO_EU_ACCOUNT_KEY, name="Demo EU account", region="eu", token=DEMO_EU_TOKEN
        )
    document = demo_template_document(DEMO_TEMPLATE_FILE)
    name = document["name"]
    document["key"] = f"{document['key']}-eu"
    document["name"] = f"{name} (EU)"
    for texts in document.get("translations", {}).values():
        if name in texts:
            texts[document["name"]] = f"{texts[name]} (EU)"
    template = IntegrationTemplate.objects.filter(key=document["key"]).first()
    if template is None:
        snapshot = _snapshot(
            document["source_integration_id"], wait_seconds=wait_seconds, account=account
        )
        template, _ = template_load(document=document, snapshot=snapshot, account=account)
    return template


def _snapshot(
    source_integration_id: str, *, wait_seconds: float, account: IntegratorAccount | None = None
) -> dict:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with build_integrator_client(account=account or integrator_account_default()) as client:
                return template_snapshot_take(
                    client=client, source_integration_id=source_integration_id
                )
        # Not listening yet, or listening but not seeded yet (it seeds once it listens).
        except (remote.ConnectionFailedError, remote.NotFoundError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(_SNAPSHOT_POLL_SECONDS)
