"""Demo data for `make run`: created once, then reused, so that every start prints the same
logins. Development only; the secrets it keeps live in var/ (never committed)."""

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

OPS_USERNAME = "ops"


@dataclass(frozen=True)
class DemoCredentials:
    ops_username: str
    ops_password: str


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


def demo_seed() -> DemoCredentials:
    """Create the ops superuser once; later calls return the saved login unchanged."""
    saved = _load_saved()
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
    return DemoCredentials(ops_username=OPS_USERNAME, ops_password=password)
