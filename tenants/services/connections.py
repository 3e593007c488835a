"""A tenant's connections: checking the credentials a tenant gives for a slot, testing them
through integrator.io, and creating or updating the connection they stand for.

Secrets (fields of kind `password`) pass through to integrator.io and are never stored,
logged or echoed; `TenantConnection.field_values` keeps the other fields only.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.errors import IntegratorUnavailable
from core.integrator_client import build_integrator_client, remote_error_for_caller
from core.redaction import secrets_mask
from core.remote_marks import (
    belongs_to_other_deployment,
    connection_external_id,
    connection_mark,
    name_with_mark,
)
from integrator import errors as remote
from integrator.client import IntegratorClient
from integrator.quirks import MASKED_SECRET
from tenants.call_costs import CallTally
from tenants.errors import (
    ConnectionFieldsInvalid,
    ConnectionTestFailed,
    OAuthSlotOnly,
    SlotNotFound,
    TemplateInvalid,
    TenantGone,
)
from tenants.models import (
    CallPurpose,
    ConnectionStatus,
    IntegrationTemplate,
    TemplateVersion,
    Tenant,
    TenantConnection,
)

# The plain-words reading of an app's refusal, shared with the credential forms.
from tenants.remote_reasons import remote_reason
from tenants.selectors import tenant_connections_ready
from tenants.services.oauth_maps import is_oauth_slot
from tenants.services.tenants import GONE_STATUSES

DEFAULT_MAX_LENGTH = {"text": 1000, "password": 4096, "url": 2000, "select": 200, "number": 50}
_CONNECTION_NAME_MAX = 100
_validate_url = URLValidator(schemes=["http", "https"])


_STATUS_PREFIX = re.compile(r"^(\d{3})\b[^:]*:\s*(.*)$", re.S)


@dataclass(frozen=True)
class ConnectionSubmitResult:
    """`ok` is True when integrator.io accepted the credentials and the connection exists.

    `message` is the remote's readable reason when it did not (secrets removed); `all_slots_ok`
    says whether every slot of the tenant now has a working connection (provisioning may
    start). `refused_status` is set when integrator.io itself refused to save a connection whose
    test passed (its HTTP status); otherwise a failure is the test's. `replaced_connection_id`
    is the slot's previous connection when a new one had to be made instead of updating it
    (it was deleted in integrator.io, or is another deployment's): whatever the tenant's
    integration holds still points at that one.
    """

    ok: bool
    connection: TenantConnection
    message: str = ""
    all_slots_ok: bool = False
    slot_label: str = ""
    refused_status: int | None = None
    replaced_connection_id: str = ""

    def failure(self) -> ConnectionTestFailed:
        """The API's error for a failed submission: what failed in words, and what the app
        (or integrator.io) answered in `remote`."""
        if self.refused_status is not None:
            return ConnectionTestFailed(
                f"The {self.slot_label} credentials work, but integrator.io refused to save the "
                "connection. The template's connection settings may need a fix.",
                remote={"status": self.refused_status, "message": self.message},
            )
        reason = remote_reason(message=self.message, app=self.slot_label, secrets=[])
        answer = None
        if reason.detail:
            status_and_text = _STATUS_PREFIX.match(reason.detail)
            answer = (
                {"status": int(status_and_text[1]), "message": status_and_text[2]}
                if status_and_text
                else {"status": None, "message": reason.detail}
            )
        return ConnectionTestFailed(
            f"integrator.io tested the {self.slot_label} connection and it failed: "
            f"{reason.summary}",
            remote=answer,
        )


def _slot(template: IntegrationTemplate, slot_key: str) -> dict:
    slot = template.slot(slot_key)
    if slot is None:
        raise SlotNotFound(f"The template {template.key!r} has no connection slot {slot_key!r}.")
    return slot


def connection_fields_validate(*, slot: dict, values: dict[str, Any]) -> dict[str, Any]:
    """The cleaned values of the fields that were given; raises ConnectionFieldsInvalid with
    a message per field (`fields.<name>`). Messages never repeat a value."""
    known = {field["name"]: field for field in slot["fields"]}
    problems: dict[str, list[str]] = {
        f"fields.{name}": ["This slot has no such field."] for name in values if name not in known
    }
    cleaned: dict[str, Any] = {}
    for name, field in known.items():
        value = values.get(name)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if field.get("required", False):
                problems[f"fields.{name}"] = ["This field is required."]
            continue
        try:
            cleaned[name] = _clean(field, value)
        except ValueError as error:
            problems[f"fields.{name}"] = [str(error)]
    if problems:
        raise ConnectionFieldsInvalid("Some connection fields are not valid.", fields=problems)
    return cleaned


def _clean(field: dict, value: Any) -> Any:
    kind = field["kind"]
    if kind == "number":
        return _clean_number(field, value)
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    if "\x00" in value:
        raise ValueError("Must not contain NUL characters.")
    if kind != "password":
        value = value.strip()
    limit = field.get("max_length", DEFAULT_MAX_LENGTH[kind])
    if len(value) > limit:
        raise ValueError(f"Must be at most {limit} characters.")
    if kind == "password" and value == MASKED_SECRET:
        raise ValueError("Enter the secret itself, not the masked placeholder.")
    if kind == "url":
        try:
            _validate_url(value)
        except DjangoValidationError:
            raise ValueError("Must be an http or https URL.") from None
        # A URL field is shown back (API, admin, form); a password in it would be too.
        if "@" in urlsplit(value).netloc:
            raise ValueError(
                "Must not contain a user name or password: enter credentials in their own fields."
            )
    if kind == "select":
        allowed = [c if isinstance(c, str) else c["value"] for c in field.get("choices", [])]
        if value not in allowed:
            raise ValueError("Must be one of: " + ", ".join(allowed) + ".")
    pattern = field.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        raise ValueError("Has the wrong format.")
    return value


def _clean_number(field: dict, value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("Must be a number.")
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise ValueError("Must be a number.") from None
    if not isinstance(value, int | float) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise ValueError("Must be a number.")
    if "min" in field and value < field["min"]:
        raise ValueError(f"Must be at least {field['min']}.")
    if "max" in field and value > field["max"]:
        raise ValueError(f"Must be at most {field['max']}.")
    return value


def slot_connection_body(
    *,
    template: IntegrationTemplate | TemplateVersion,
    slot_key: str,
    values: dict[str, Any],
    name: str,
) -> dict:
    """The integrator.io connection document for a slot: its static part, `type` and `name`,
    and each given field value written at the field's `maps_to` path."""
    slot = _slot(template, slot_key)
    body = copy.deepcopy(slot.get("connection") or {})
    body["type"] = slot["connection_type"]
    body["name"] = name[:_CONNECTION_NAME_MAX]
    for field in slot["fields"]:
        if field["name"] in values:
            set_path(body, field["maps_to"], values[field["name"]])
    return body


def set_path(document: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = document
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise TemplateInvalid(
                f"Cannot write {dotted!r}: {part!r} in the slot's connection is not an object."
            )
        node = child
    node[last] = value


def _remote_unavailable(
    error: remote.IntegratorError,
    secret_values: list[str],
    tenant: Tenant,
    *,
    tested: bool = False,
):
    """The caller's error for integrator.io failing; `tested`: the credentials passed their
    test, and saving the connection is what failed (they need no checking)."""
    if isinstance(error, remote.OutcomeUnknownError):
        # Sending the same credentials again is safe, and all the caller can do: the ping
        # writes nothing, a PUT is the same PUT again, and a create whose answer was lost was
        # looked for by its mark (`_save_remote`) and not found. "Check the tenant's
        # connection" sent the host app to look for something it cannot see. Retry-After: the
        # pause a job leaves after such a write before it sends it again.
        return IntegratorUnavailable(
            "integrator.io did not confirm saving the connection, so the credentials were not "
            "recorded; send them again after Retry-After.",
            code="integrator_outcome_unknown",
            retry_after=settings.PROVISIONING_OUTCOME_SETTLE_SECONDS,
        )
    return remote_error_for_caller(
        error,
        not_done=(
            "the credentials passed their test but were not saved"
            if tested
            else "the credentials were neither tested nor saved"
        ),
        secrets=secret_values,
        account=tenant.account,
    )


def _readable(errors: tuple[remote.ErrorDetail, ...], fallback: str) -> str:
    messages = [e.message or (f"error {e.code}" if e.code else "") for e in errors]
    return "; ".join(m for m in messages if m) or fallback


def tenant_connection_submit(
    *,
    tenant: Tenant,
    slot_key: str,
    values: dict[str, Any],
    client: IntegratorClient | None = None,
) -> ConnectionSubmitResult:
    """Test a tenant's credentials for one slot and, if they work, save the connection.

    1. Check the values against the slot's fields (ConnectionFieldsInvalid).
    2. Build the full connection body from the values (never from a fetched document, whose
       secrets read "******") and test it with integrator.io's virtual ping.
    3. Ping failed: stop, with the remote's message. A slot that has no connection yet records
       it (`failed`); an existing connection still holds the credentials that worked before,
       and its state is left as it was.
    4. Ping passed: PUT the existing connection (reconnecting keeps its id) or create it,
       with the row locked so that two submissions cannot create two connections.
    """
    if tenant.status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {tenant.status}; it takes no new credentials.")
    slot = _slot(tenant.template_version, slot_key)
    if is_oauth_slot(slot):
        raise OAuthSlotOnly(
            f"The {slot['label']} slot is connected by the user's consent at the app: send "
            "them a connect link for it."
        )
    cleaned = connection_fields_validate(slot=slot, values=values)
    body = slot_connection_body(
        template=tenant.template_version, slot_key=slot_key, values=cleaned, name=""
    )
    secrets = {f["name"] for f in slot["fields"] if f["kind"] == "password"}
    return connection_test_and_save(
        tenant=tenant,
        slot=slot,
        body=body,
        secret_values=[str(cleaned[name]) for name in secrets if name in cleaned],
        field_values={k: v for k, v in cleaned.items() if k not in secrets},
        client=client,
    )


def connection_test_and_save(
    *,
    tenant: Tenant,
    slot: dict,
    body: dict,
    secret_values: list[str],
    field_values: dict[str, Any],
    client: IntegratorClient | None = None,
) -> ConnectionSubmitResult:
    """Steps 2 to 4 of `tenant_connection_submit`, for any way a slot's connection body was
    made (typed fields, or an OAuth consent's tokens): virtual ping, then create or update.
    `secret_values` are removed from any message kept or returned; `field_values` (no
    secrets) are kept on the slot's row, to fill the form again."""
    if tenant.status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {tenant.status}; it takes no new credentials.")
    body = {**body, "name": connection_name(tenant=tenant, slot=slot)}
    connection, _ = TenantConnection.objects.get_or_create(tenant=tenant, slot_key=slot["key"])
    owned = client is None
    # The calls a submission makes count in the tenant's costs (a client passed in is its
    # owner's to count).
    tally = CallTally(tenant_id=tenant.pk, purpose=CallPurpose.FORM)
    # Someone is waiting for the answer (the API or the form): no long waits.
    client = client or build_integrator_client(
        account=tenant.account, interactive=True, on_call=tally
    )
    try:
        return _submit(tenant, slot, connection, body, client, secret_values, field_values)
    finally:
        if owned:
            client.close()
            tally.flush()


def _submit(
    tenant, slot, connection, body, client, secret_values, field_values
) -> ConnectionSubmitResult:
    try:
        ping = client.ping_virtual_connection(body)
    except remote.IntegratorError as error:
        raise _remote_unavailable(error, secret_values, tenant) from error
    if not ping.ok:
        message = _readable(ping.errors, "integrator.io could not connect with these values.")
        return _record_failure(
            tenant, slot, connection, _without_secrets(message, secret_values), None
        )
    with transaction.atomic():
        _tenant_hold_live(tenant)
        locked = TenantConnection.objects.select_for_update().get(pk=connection.pk)
        try:
            connection_id = _save_remote(
                client,
                locked.connection_id,
                body,
                connection_external_id(tenant_uid=tenant.uid, slot_key=locked.slot_key),
                tenant=tenant,
            )
        except remote.ValidationError as error:
            message = _readable(error.errors, "integrator.io refused the connection.")
            failure = _record_failure(
                tenant, slot, locked, _without_secrets(message, secret_values), error.status
            )
        except remote.IntegratorError as error:
            raise _remote_unavailable(error, secret_values, tenant, tested=True) from error
        else:
            before = {"status": locked.status, "connection_id": locked.connection_id}
            locked.connection_id = connection_id
            locked.status = ConnectionStatus.OK
            locked.last_ping_at = timezone.now()
            locked.last_ping_error = ""
            locked.field_values = field_values
            locked.save()
            # The credentials themselves are never recorded (nor kept anywhere): only that
            # they were handed over, by whom, and the connection they now drive.
            audit_record(
                action="connection.submit",
                target=locked,
                tenant=tenant.external_id,
                before=before,
                after={"status": locked.status, "connection_id": connection_id},
            )
            failure = None
    if failure is not None:
        return failure
    replaced = before["connection_id"]
    return ConnectionSubmitResult(
        ok=True,
        connection=locked,
        all_slots_ok=tenant_connections_ready(tenant=tenant),
        slot_label=slot["label"],
        replaced_connection_id=replaced if replaced and replaced != connection_id else "",
    )


def _tenant_hold_live(tenant: Tenant) -> None:
    """Lock the tenant's row until the connection is saved, and refuse if it is gone.

    Deprovisioning moves the tenant's status (an UPDATE of this row) and then deletes the
    connections it finds recorded. Checked only on entry, a submission that made its
    connection in integrator.io while the deprovision ran would record it after the deletes:
    a connection holding the customer's credentials, left behind. Holding the row, either the
    deprovision waits for this connection to be recorded (and deletes it), or this sees the
    tenant gone before anything is made. The tenant before its connection, as every writer
    that locks both, so that two of them never wait for each other.
    """
    status = (
        Tenant.objects.select_for_update(no_key=True)
        .values_list("status", flat=True)
        .get(pk=tenant.pk)
    )
    if status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {status}; it takes no new credentials.")


def _without_secrets(message: str, secret_values: list[str]) -> str:
    """The remote's reason, minus any secret it repeats (some target apps echo the key they
    refused); the reason is stored, shown and returned, the secret must not be."""
    return secrets_mask(message, secret_values)


def _save_remote(
    client: IntegratorClient, connection_id: str, body: dict, mark: str, *, tenant: Tenant
) -> str:
    """PUT the tenant's existing connection (reconnecting keeps its id), or create one.

    The connection carries the tenant's mark in its `externalId` (integrator.io keeps it as
    given), which finds it again when the answer to its create was lost. An existing id whose
    connection is marked as another deployment's (a restored database that was rekeyed) is
    never overwritten: a new connection is made instead.
    """
    body = {**body, "externalId": mark}
    if connection_id:
        try:
            current = client.get_connection(connection_id)
        except remote.NotFoundError:
            current = None  # deleted in integrator.io: make a new one
        if current is not None and not belongs_to_other_deployment(connection_mark(current.raw)):
            try:
                client.update_connection(connection_id, body)
                return connection_id
            except remote.NotFoundError:
                pass  # deleted in between: make a new one
    try:
        return client.create_connection(body).id
    except remote.OutcomeUnknownError:
        # The create may have happened: adopt it rather than ever making a second one. If it
        # is not there, the error stands and the caller may safely try again.
        for connection in client.list_connections():
            if connection.raw.get("externalId") == mark:
                return connection.id
        raise


def connection_name(*, tenant, slot: dict) -> str:
    """The name of the tenant's connection for `slot` in integrator.io, with its mark. The
    platform's own messages name a connection by it (a run's "Connection '…' is offline.")."""
    return name_with_mark(
        f"{tenant.name} ({tenant.external_id}) - {slot['label']}", tenant_uid=tenant.uid
    )[:_CONNECTION_NAME_MAX]


def _record_failure(
    tenant, slot, connection, message: str, refused_status: int | None
) -> ConnectionSubmitResult:
    """A slot without a connection records the failed attempt (`failed`, with the reason).
    A slot whose connection works keeps its state: `status`, `last_ping_at` and
    `last_ping_error` describe that connection, which still holds the credentials that
    worked, not the rejected ones (their reason is in the answer)."""
    if not connection.connection_id:
        now = timezone.now()
        updates = {
            "status": ConnectionStatus.FAILED,
            "last_ping_at": now,
            "last_ping_error": message,
            "updated_at": now,
        }
        before = {"status": connection.status}
        TenantConnection.objects.filter(pk=connection.pk).update(**updates)
        for name, value in updates.items():
            setattr(connection, name, value)
        audit_record(
            action="connection.submit_failed",
            target=connection,
            tenant=tenant.external_id,
            before=before,
            after={"status": connection.status, "last_ping_error": message},
        )
    return ConnectionSubmitResult(
        ok=False,
        connection=connection,
        message=message,
        all_slots_ok=tenant_connections_ready(tenant=tenant),
        slot_label=slot["label"],
        refused_status=refused_status,
    )
