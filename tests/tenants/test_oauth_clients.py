"""The host's OAuth clients kept by an admin: the secret encrypted at rest and bound to its row,
write-only in the admin, never logged; OAUTH_CLIENTS as the fallback; and key rotation
(`manage.py rotate_encryption_key`) re-encrypting it and the stored API responses."""

import logging
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from api.idempotency import idempotency_complete, idempotency_replay_body
from api.models import IdempotencyRecord
from core.encryption import DecryptionFailed, key_id_of, key_new
from tenants.models import OAuthClientRecord
from tenants.oauth_clients import oauth_client_record_save, oauth_client_record_secret
from tenants.services.oauth_slots import oauth_client

pytestmark = pytest.mark.django_db

SECRET = "host-crm-secret-0f9a8b7c"
TOKEN_URL = "https://crm.example.com/oauth/token"
SLOT = {"key": "crm", "oauth": {"client": "crm", "token_url": TOKEN_URL}}


@pytest.fixture
def old_key(settings):
    settings.ENCRYPTION_KEYS = f"old:{key_new()}"
    settings.OAUTH_CLIENTS = {
        "crm": {"client_id": "from-env", "client_secret": "env-secret", "token_url": TOKEN_URL}
    }
    return settings.ENCRYPTION_KEYS


def test_the_record_wins_over_the_setting_and_keeps_its_secret_encrypted(old_key, caplog):
    caplog.set_level(logging.DEBUG)
    assert oauth_client(SLOT).client_id == "from-env"  # no record: the setting (bootstrap)

    record = oauth_client_record_save(
        provider_key="crm", client_id="from-admin", client_secret=SECRET, token_url=TOKEN_URL
    )
    stored = OAuthClientRecord.objects.values_list("client_secret_encrypted", flat=True).get()
    assert SECRET not in stored and key_id_of(stored) == "old"
    client = oauth_client(SLOT)
    assert (client.client_id, client.client_secret) == ("from-admin", SECRET)
    assert SECRET not in repr(client) and SECRET not in caplog.text

    # Saving without a secret keeps it.
    oauth_client_record_save(provider_key="crm", client_id="renamed")
    record.refresh_from_db()
    assert oauth_client_record_secret(record) == SECRET


def test_a_ciphertext_copied_to_another_row_does_not_decrypt(old_key):
    crm = oauth_client_record_save(provider_key="crm", client_id="a", client_secret=SECRET)
    erp = oauth_client_record_save(provider_key="erp", client_id="b", client_secret="other")
    OAuthClientRecord.objects.filter(pk=erp.pk).update(
        client_secret_encrypted=crm.client_secret_encrypted
    )
    erp.refresh_from_db()
    with pytest.raises(DecryptionFailed):
        oauth_client_record_secret(erp)


def test_the_admin_never_shows_the_secret(old_key, admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    answer = admin_client.post(
        "/admin/tenants/oauthclientrecord/add/",
        {
            "provider_key": "crm",
            "client_id": "cid",
            "client_secret": SECRET,
            "token_url": TOKEN_URL,
        },
    )
    assert answer.status_code == 302, answer.content
    record = OAuthClientRecord.objects.get()
    assert oauth_client_record_secret(record) == SECRET
    listing = admin_client.get("/admin/tenants/oauthclientrecord/").content.decode()
    change = admin_client.get(f"/admin/tenants/oauthclientrecord/{record.pk}/change/")
    page = change.content.decode()
    assert ">set<" in listing and 'type="password"' in page
    for text in (listing, page, caplog.text):
        assert SECRET not in text and record.client_secret_encrypted not in text
    # An empty secret field keeps the stored secret.
    admin_client.post(
        f"/admin/tenants/oauthclientrecord/{record.pk}/change/",
        {"client_id": "cid2", "client_secret": "", "token_url": TOKEN_URL},
    )
    record.refresh_from_db()
    assert record.client_id == "cid2" and oauth_client_record_secret(record) == SECRET


def test_rotation_re_encrypts_every_value_under_the_newest_key(old_key, settings):
    record = oauth_client_record_save(provider_key="crm", client_id="cid", client_secret=SECRET)
    api_key, _ = APIKey.objects.create_key(name="host")
    stored = IdempotencyRecord.objects.create(
        api_key=api_key,
        key="k-1",
        method="POST",
        path="/x",
        request_fingerprint="f",
        created_at=timezone.now(),
        locked_at=timezone.now(),
    )
    idempotency_complete(record=stored, status=201, body=b'{"token":"t"}', content_type="json")

    new = key_new()
    settings.ENCRYPTION_KEYS = f"new:{new}," + old_key
    call_command("rotate_encryption_key")
    settings.ENCRYPTION_KEYS = f"new:{new}"  # the old key is gone: everything still opens

    record.refresh_from_db()
    stored.refresh_from_db()
    assert key_id_of(record.client_secret_encrypted) == "new"
    assert key_id_of(stored.response_body) == "new"
    assert oauth_client_record_secret(record) == SECRET
    assert idempotency_replay_body(record=stored) == b'{"token":"t"}'


def test_the_admin_will_not_add_a_client_without_its_secret(old_key, admin_client):
    # A record without a secret is not used (the setting's client is, oauth_client): added
    # with a new client id and no secret, the page said it was saved while the deployment
    # went on with OAUTH_CLIENTS' client id, or with none at all.
    answer = admin_client.post(
        "/admin/tenants/oauthclientrecord/add/",
        {
            "provider_key": "crm",
            "client_id": "from-admin",
            "client_secret": "",
            "token_url": TOKEN_URL,
        },
    )
    assert answer.status_code == 200
    assert "Enter the client secret the app issued with this client id" in answer.content.decode()
    assert not OAuthClientRecord.objects.exists()
    assert oauth_client(SLOT).client_id == "from-env"


def test_the_admins_change_page_names_the_secrets_two_rows_apart(old_key, admin_client):
    # The write-only field and the line that says whether a secret is stored were both
    # labelled "Client secret": two rows of one name, one empty and one saying "set".
    record = oauth_client_record_save(provider_key="crm", client_id="cid", client_secret=SECRET)
    page = admin_client.get(f"/admin/tenants/oauthclientrecord/{record.pk}/change/")
    labels = re.findall(r"<label[^>]*>([^<]+):</label>", page.content.decode())
    assert len(labels) == len(set(labels)), labels
    assert "Current client secret" in labels
