"""This deployment's identity: read once per process from its row (see core.models)."""

from __future__ import annotations

import logging
import re
import secrets
import threading

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import Deployment
from core.signals import deployment_rekeyed

logger = logging.getLogger(__name__)

# Ten characters of lowercase letters and digits, starting with a letter: short enough for
# integrator.io names (100 characters) and Redis keys, 50 bits of randomness, and never
# mistaken for a number or a Mongo ObjectId.
IDENTITY_PATTERN = r"[a-z][a-z0-9]{9}"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

_current: Deployment | None = None
_lock = threading.Lock()


def identity_new() -> str:
    return secrets.choice(_ALPHABET[:26]) + "".join(secrets.choice(_ALPHABET) for _ in range(9))


def identity_is_valid(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(IDENTITY_PATTERN, value) is not None


def deployment_current() -> Deployment:
    """The deployment row, created at first start if a migration did not write it. Cached for
    the life of the process: the identity never changes under a running process (a rekey
    needs a restart, see deployment_rekey)."""
    global _current
    with _lock:
        if _current is None:
            _current = _deployment_load()
        return _current


def deployment_identity() -> str:
    return deployment_current().identity


def _deployment_load() -> Deployment:
    deployment = Deployment.objects.filter(pk=1).first()
    if deployment is not None:
        return deployment
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                id=1, identity=identity_new(), created_at=timezone.now()
            )
    except IntegrityError:  # another process wrote it first
        return Deployment.objects.get(pk=1)
    logger.warning("created this deployment's identity: %s", deployment.identity)
    return deployment


def deployment_rekey() -> tuple[str, str]:
    """Give this database a new identity; returns (old, new).

    Only for a database restored from another deployment (a production dump loaded into
    staging): until it is rekeyed, the copy believes it owns the original's integrations.
    Afterwards, resources marked with the old identity are no longer this deployment's: it
    refuses to change or delete them, and reports none of them as its orphans. Every process
    must be restarted to pick the new identity up.
    """
    global _current
    with transaction.atomic():
        current = Deployment.objects.select_for_update().get(pk=1)
        old = current.identity
        new = identity_new()
        Deployment.objects.filter(pk=1).update(identity=new, rekeyed_from=old)
        # The audit log records it (audit.deployment); core cannot call it.
        deployment_rekeyed.send(sender=Deployment, deployment=current, old=old, new=new)
    with _lock:
        _current = None
    return old, new


def deployment_cache_clear() -> None:
    """Forget the cached row (tests that create a second deployment's database)."""
    global _current
    with _lock:
        _current = None
