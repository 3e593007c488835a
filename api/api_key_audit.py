"""API keys in the audit log: the key as the actor of its requests, and the keys themselves as
targets (created, revoked, changed, deleted).

The APIKey model and its admin belong to djangorestframework-api-key, and keys are made by
`manage.py create_api_key` and the admin alike: saving the row is the one place every path
passes through, so the receivers below record there (in the saving transaction), rather than
each caller.
"""

from django.db.models.signals import post_delete, post_save, pre_save
from rest_framework_api_key.models import APIKey

from audit.context import Actor, actor_set
from audit.services import Target, audit_record, snapshot

# What the audit log shows of a key: never the key or its hash.
_FIELDS = ("name", "revoked", "expiry_date")


def api_key_acting(api_key: APIKey, name: str) -> None:
    """The key is the actor of the rest of this request (until the request's end)."""
    actor_set(Actor.api_key(prefix=api_key.prefix, name=name))


def _before_save(sender, instance: APIKey, **kwargs) -> None:
    previous = APIKey.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._audit_before = snapshot(previous, _FIELDS) if previous is not None else None


def _after_save(sender, instance: APIKey, created: bool, **kwargs) -> None:
    before = getattr(instance, "_audit_before", None)
    after = snapshot(instance, _FIELDS)
    if created or before is None:
        # What it may do from its first request: api.api_keys.api_key_create hands the scopes
        # over before the grant row exists; a key made by the library directly has none.
        after["scopes"] = getattr(instance, "_audit_scopes", [])
        audit_record(action="api_key.create", target=_target(instance), after=after)
        return
    if after["revoked"] and not before["revoked"]:
        action = "api_key.revoke"
    elif after != before:
        action = "api_key.update"
    else:
        return
    audit_record(action=action, target=_target(instance), before=before, after=after)


def _after_delete(sender, instance: APIKey, **kwargs) -> None:
    audit_record(
        action="api_key.delete", target=_target(instance), before=snapshot(instance, _FIELDS)
    )


def _target(instance: APIKey) -> Target:
    # The prefix identifies a key without revealing it (it is shown in the admin too).
    return Target("api_key", instance.prefix)


def api_key_receivers_connect() -> None:
    pre_save.connect(_before_save, sender=APIKey, dispatch_uid="audit-api-key-before")
    post_save.connect(_after_save, sender=APIKey, dispatch_uid="audit-api-key-after")
    post_delete.connect(_after_delete, sender=APIKey, dispatch_uid="audit-api-key-delete")
