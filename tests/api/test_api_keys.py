"""Making and changing API keys: `manage.py create_api_key`, the admin's API key page, and the
migration that gave the keys of before scopes every scope."""

import importlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from api.api_keys import api_key_create, api_key_revoke
from api.models import ApiKeyGrant
from api.scopes import ALL_SCOPES
from tests.fixtures.personas import client_with_key

pytestmark = pytest.mark.django_db

grants_migration = importlib.import_module("api.migrations.0003_api_key_grants")


# --- manage.py create_api_key ----------------------------------------------------------------


def test_create_api_key_prints_a_working_key_once_with_its_scopes(capsys, acme):
    call_command(
        "create_api_key", "host app production", "--scope", "tenants:read", "--scope", "ops:read"
    )
    out, err = capsys.readouterr()
    key = out.strip()
    assert "not shown again" in err and key not in err
    assert "with scopes tenants:read ops:read" in err
    api_key = APIKey.objects.get(name="host app production")
    assert api_key.hashed_key != key and key not in api_key.hashed_key
    assert api_key.grant.scopes == ["tenants:read", "ops:read"]
    assert api_key.expiry_date is None
    client = client_with_key(key)
    assert client.get("/api/v1/tenants/").status_code == 200
    assert client.get("/api/v1/integrator/status").status_code == 200
    assert client.patch("/api/v1/tenants/acme", {"name": "x"}, format="json").status_code == 403


def test_create_api_key_with_all_scopes(capsys):
    call_command("create_api_key", "everything", "--all-scopes")
    assert APIKey.objects.get(name="everything").grant.scopes == list(ALL_SCOPES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2031-06-30", datetime(2031, 6, 30, tzinfo=UTC)),
        ("2031-06-30T12:30:00Z", datetime(2031, 6, 30, 12, 30, tzinfo=UTC)),
        ("2031-06-30T14:30:00+02:00", datetime(2031, 6, 30, 12, 30, tzinfo=UTC)),
    ],
)
def test_create_api_key_takes_an_expiry_date(capsys, value, expected):
    call_command("create_api_key", "temp", "--scope", "tenants:read", "--expires", value)
    assert APIKey.objects.get(name="temp").expiry_date == expected


def test_create_api_key_takes_an_expiry_from_now(capsys):
    call_command("create_api_key", "temp", "--scope", "tenants:read", "--expires", "90d")
    left = APIKey.objects.get(name="temp").expiry_date - timezone.now()
    assert timedelta(days=89, hours=23) < left <= timedelta(days=90)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["host app"], "Name what the key may do: --scope SCOPE"),
        (["host app", "--scope", "tenants:admin"], "Unknown scope: tenants:admin."),
        (["host app", "--scope", "tenants:read", "--all-scopes"], "not both"),
        (["x" * 51, "--all-scopes"], "1 to 50 characters"),
        (["host app", "--all-scopes", "--expires", "next week"], "neither a duration"),
        (["host app", "--all-scopes", "--expires", "2020-01-01"], "must be in the future"),
    ],
)
def test_create_api_key_refuses_bad_input_saying_why(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", *arguments)
    assert not APIKey.objects.exists()


def test_an_unknown_scope_message_lists_the_scopes():
    with pytest.raises(CommandError) as raised:
        call_command("create_api_key", "host app", "--scope", "everything")
    for scope in ALL_SCOPES:
        assert scope in str(raised.value)


# --- the admin's API key page ----------------------------------------------------------------


def test_the_admin_makes_a_key_with_scopes_and_expiry_and_shows_it_once(administrator_admin):
    response = administrator_admin.post(
        "/admin/rest_framework_api_key/apikey/add/",
        {
            "name": "reporting",
            "scopes": ["tenants:read", "templates:read"],
            "expiry_date_0": "2031-01-01",
            "expiry_date_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    api_key = APIKey.objects.get(name="reporting")
    assert api_key.grant.scopes == ["tenants:read", "templates:read"]
    assert api_key.expiry_date is not None and api_key.expiry_date.year == 2031
    # The key once, on the page that answers the save: not in a message, which Django's
    # default storage carries in a cookie (readable, only signed) to the next page.
    page = response.content.decode()
    key = re.search(r"The API key for reporting is: <code[^>]*>([^<]+)</code>", page)[1]
    assert key.startswith(api_key.prefix + ".")
    assert key not in response.cookies.get("messages", "") and key not in str(response.cookies)
    assert "no-store" in response["Cache-Control"]
    assert client_with_key(key).get("/api/v1/templates").status_code == 200
    assert key not in administrator_admin.get("/admin/").content.decode()
    page = administrator_admin.get(f"/admin/rest_framework_api_key/apikey/{api_key.pk}/change/")
    assert key not in page.content.decode()


def test_the_admin_page_shows_scopes_as_checkboxes_and_when_the_key_was_last_used(
    administrator_admin, acme
):
    api_key, key = api_key_create(name="dashboard", scopes=["tenants:read"])
    page = administrator_admin.get(f"/admin/rest_framework_api_key/apikey/{api_key.pk}/change/")
    html = page.content.decode()
    assert 'type="checkbox" name="scopes" value="tenants:read"' in html
    assert "never" in html
    client_with_key(key).get("/api/v1/tenants/acme")

    listing = administrator_admin.get("/admin/rest_framework_api_key/apikey/").content.decode()

    assert "(to the minute)" in listing and "tenants:read" in listing


def test_the_admin_changes_a_keys_scopes_and_it_holds_from_the_next_request(
    administrator_admin, acme
):
    api_key, key = api_key_create(name="dashboard", scopes=["tenants:read"])
    client = client_with_key(key)
    assert client.get("/api/v1/tenants/acme").status_code == 200

    response = administrator_admin.post(
        f"/admin/rest_framework_api_key/apikey/{api_key.pk}/change/",
        {
            "name": "dashboard",
            "scopes": ["webhooks:manage"],
            "expiry_date_0": "",
            "expiry_date_1": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert ApiKeyGrant.objects.get(pk=api_key.pk).scopes == ["webhooks:manage"]
    assert client.get("/api/v1/tenants/acme").status_code == 403
    assert client.get("/api/v1/webhooks/endpoints").status_code == 200


def test_the_admin_refuses_a_key_without_scopes_or_expired_at_birth(administrator_admin):
    response = administrator_admin.post(
        "/admin/rest_framework_api_key/apikey/add/",
        {"name": "nothing", "expiry_date_0": "2020-01-01", "expiry_date_1": "00:00:00"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "scopes" in errors and "expiry_date" in errors
    assert not APIKey.objects.exists()


# --- the migration ---------------------------------------------------------------------------


def test_keys_made_before_scopes_keep_every_scope(acme):
    before, key = APIKey.objects.create_key(name="from before scopes")
    assert client_with_key(key).get("/api/v1/tenants/acme").status_code == 403  # no grant yet
    already, _ = api_key_create(name="made with scopes", scopes=["ops:read"])

    grants_migration.existing_keys_keep_full_access(apps, None)

    assert ApiKeyGrant.objects.get(pk=before.pk).scopes == list(ALL_SCOPES)
    assert ApiKeyGrant.objects.get(pk=already.pk).scopes == ["ops:read"]
    client = client_with_key(key)
    assert client.get("/api/v1/tenants/acme").status_code == 200
    assert client.patch("/api/v1/tenants/acme", {"name": "Acme"}, format="json").status_code == 200


def test_the_migrations_scopes_still_exist():
    # Written out in the migration (a scope added later is not given to old keys silently);
    # renaming one of them needs a migration of the grants too.
    assert set(grants_migration.SCOPES_AT_INTRODUCTION) <= set(ALL_SCOPES)


# --- the audit log -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "scopes"),
    [
        (["--scope", "tenants:read"], ["tenants:read"]),
        (["--all-scopes"], list(ALL_SCOPES)),
    ],
)
def test_a_new_keys_one_create_event_says_its_scopes(capsys, arguments, scopes):
    from audit.models import AuditEvent

    call_command("create_api_key", "reader", *arguments)

    key = APIKey.objects.get(name="reader")
    [event] = AuditEvent.objects.filter(target_type="api_key", target_id=key.prefix)
    assert event.action == "api_key.create"
    assert event.changes["scopes"] == {"before": None, "after": scopes}
    assert event.changes["name"] == {"before": None, "after": "reader"}


def test_granting_scopes_to_a_key_made_without_any_is_recorded():
    from api.api_keys import api_key_scopes_set
    from audit.models import AuditEvent

    api_key, _ = APIKey.objects.create_key(name="made by the library")
    api_key_scopes_set(api_key=api_key, scopes=["tenants:read"])

    events = AuditEvent.objects.filter(target_id=api_key.prefix).order_by("id")
    assert [(e.action, e.changes["scopes"]) for e in events] == [
        ("api_key.create", {"before": None, "after": []}),
        ("api_key.scopes_change", {"before": [], "after": ["tenants:read"]}),
    ]


def test_a_viewer_reads_a_keys_scopes(viewer_admin):
    """The scopes are a form field (checkboxes) for whoever may change them; read only, that
    field showed "Scopes: None" for a key that has some."""
    api_key, _ = api_key_create(name="dashboard", scopes=["tenants:read", "audit:read"])

    html = viewer_admin.get(f"/admin/rest_framework_api_key/apikey/{api_key.pk}/change/")
    page = html.content.decode()

    assert html.status_code == 200
    row = page.split("field-scope_list")[1].split("form-row")[0]
    assert '<div class="readonly">tenants:read, audit:read</div>' in row
    assert "field-scopes" not in page


def test_an_administrator_revokes_several_keys_at_once_after_confirming(administrator_admin):
    """A leak is answered by revoking keys, several at a time: asked first (it cannot be
    undone), then each revoked and recorded once, a key already revoked left as it is."""
    from audit.models import AuditEvent

    leaked, leaked_key = api_key_create(name="leaked", scopes=["templates:read"])
    other, _ = api_key_create(name="other", scopes=["tenants:read"])
    _, kept_key = api_key_create(name="kept", scopes=["templates:read"])
    selected = {"action": "revoke_keys", "_selected_action": [leaked.pk, other.pk]}

    asked = administrator_admin.post("/admin/rest_framework_api_key/apikey/", selected)
    assert "cannot be undone" in asked.content.decode() and "leaked" in asked.content.decode()
    assert not APIKey.objects.filter(revoked=True).exists()

    done = administrator_admin.post(
        "/admin/rest_framework_api_key/apikey/", {**selected, "post": "yes"}, follow=True
    )

    assert "Revoked 2 API keys. Requests with them now answer 401." in done.content.decode()
    assert set(APIKey.objects.filter(revoked=True).values_list("name", flat=True)) == {
        "leaked",
        "other",
    }
    assert client_with_key(leaked_key).get("/api/v1/templates").status_code == 401
    assert client_with_key(kept_key).get("/api/v1/templates").status_code == 200
    events = AuditEvent.objects.filter(action="api_key.revoke")
    assert sorted((e.target_id, e.actor_name) for e in events) == sorted(
        [(leaked.prefix, "ada-administrator"), (other.prefix, "ada-administrator")]
    )
    again = administrator_admin.post(
        "/admin/rest_framework_api_key/apikey/", {**selected, "post": "yes"}, follow=True
    )
    # Posted again (a second click): nothing revoked twice, and said so.
    notes = [str(m) for m in again.context["messages"]]
    assert len(notes) == 1 and notes[0].startswith("Not revoked again: 2 API keys ("), notes
    assert notes[0].endswith(") are revoked already.")
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 2


def test_an_operator_cannot_revoke_keys(operator_admin):
    api_key, _ = api_key_create(name="kept", scopes=["tenants:read"])

    operator_admin.post(
        "/admin/rest_framework_api_key/apikey/",
        {"action": "revoke_keys", "_selected_action": [api_key.pk], "post": "yes"},
    )

    api_key.refresh_from_db()
    assert not api_key.revoked


def test_revoking_a_key_revoked_already_does_not_ask_about_it(administrator_admin):
    """Chosen with a key revoked already, the action asked "Revoke 2 API keys?" and then said
    "Revoked 1 API key (1 already was). Requests with them now answer 401.": it asks only
    about the others, says that it leaves that key as it is, and speaks of one key as one."""
    old, _ = api_key_create(name="old", scopes=["templates:read"])
    api_key_revoke(api_key=old)
    leaked, _ = api_key_create(name="leaked", scopes=["templates:read"])
    url = "/admin/rest_framework_api_key/apikey/"
    selected = {"action": "revoke_keys", "_selected_action": [old.pk, leaked.pk]}

    asked = administrator_admin.post(url, selected)
    done = administrator_admin.post(
        url, {**selected, "_selected_action": [leaked.pk], "post": "yes"}, follow=True
    )
    only_old = administrator_admin.post(
        url, {**selected, "_selected_action": [old.pk]}, follow=True
    )

    page = asked.content.decode()
    assert "Revoke 1 API key?" in page and "leaked" in page
    assert f"{url}{old.pk}/change/" not in page.split('id="content"')[1]
    said = f"Not revoked again: API key {old.prefix} (old) is revoked already."
    assert [str(m) for m in asked.context["messages"]] == [said]
    assert [str(m) for m in done.context["messages"]] == [
        "Revoked 1 API key. Requests with it now answer 401."
    ]
    assert [str(m) for m in only_old.context["messages"]] == [said]
    assert "Revoke 1 API key?" not in only_old.content.decode()


def test_a_revoked_keys_page_is_read_only_and_its_scopes_are_not_changed(administrator_admin):
    """Revoked for good, its name, expiry and revocation were read only, but its scopes were
    still checkboxes with Save: saving granted scopes to a key no request can use, recorded
    as api_key.scopes_change."""
    from audit.models import AuditEvent

    api_key, _ = api_key_create(name="old dashboard", scopes=["tenants:read"])
    api_key_revoke(api_key=api_key)
    url = f"/admin/rest_framework_api_key/apikey/{api_key.pk}/change/"

    html = administrator_admin.get(url).content.decode()
    assert 'name="scopes"' not in html and 'name="_save"' not in html
    assert "tenants:read" in html  # the scopes it had, as the list shows them

    response = administrator_admin.post(
        url, {"scopes": ["tenants:read", "webhooks:manage"], "expiry_date_0": ""}
    )
    assert response.status_code == 403
    assert ApiKeyGrant.objects.get(pk=api_key.pk).scopes == ["tenants:read"]
    assert not AuditEvent.objects.filter(action="api_key.scopes_change").exists()
