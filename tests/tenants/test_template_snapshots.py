"""The snapshot of the template integration taken when a version is published: its format,
its secrets, what it checks, and `load_template` taking it."""

import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from core.accounts import integrator_account_save
from integrator.client import IntegratorClient
from sandbox import seed
from tenants.errors import TemplateInvalid
from tenants.models import TemplateVersion
from tenants.services import template_load, template_snapshot_take
from tenants.services.template_snapshots import secrets_masked
from tests.fixtures.factories import DEMO_TEMPLATE
from tests.fixtures.template_snapshots import StoreClient, demo_snapshot, demo_store
from tests.fixtures.world import integrator_calm

DEMO_FILE_1_1_0 = "tenants/template_files/shop-to-erp-1.1.0.yaml"


def _document(**changes) -> dict:
    return {**json.loads(json.dumps(DEMO_TEMPLATE)), **changes}


def test_it_reads_the_template_integration_in_the_agreed_format():
    snapshot = demo_snapshot("1.1.0")
    assert set(snapshot) == {"integration", "flows", "exports", "imports", "taken_at"}
    assert snapshot["integration"] == {
        "_id": seed.DEMO_INTEGRATION_ID,
        "name": seed.DEMO_INTEGRATION_NAME,
        "settings": seed.DEMO_SETTINGS,
    }
    ids = seed.seed_ids()["versions"]["1.1.0"]
    for part, key in (("flows", "flowIds"), ("exports", "exportIds"), ("imports", "importIds")):
        assert [doc["_id"] for doc in snapshot[part]] == sorted(ids[key])
    # Documents as integrator.io returns them, whole.
    orders = next(e for e in snapshot["exports"] if e["_id"] == seed.DEMO_ORDERS_EXPORT_ID)
    assert orders["http"]["relativeURI"] == "/orders?status=paid,processing"
    assert orders["_connectionId"] == seed.DEMO_SHOP_CONNECTION_ID
    assert snapshot["taken_at"].endswith("+00:00")


@pytest.mark.django_db
def test_no_clear_secret_is_stored():
    store = demo_store()
    secrets = ["hunter2", "s3cr3t-client", "tok-123", "refresh-me", "k-456", "enc-789"]
    export = store.require("exports", seed.DEMO_ORDERS_EXPORT_ID)
    export["http"]["auth"] = {"token": {"token": "tok-123", "location": "header"}}
    export["http"]["encrypted"] = {"anything": "enc-789"}
    export["password"] = "hunter2"
    imported = store.require("imports", seed.DEMO_ORDERS_IMPORT_ID)
    imported["oauth"] = {"clientSecret": "s3cr3t-client", "refresh_token": "refresh-me"}
    store.require("integrations", seed.DEMO_INTEGRATION_ID)["settings"]["apiKey"] = "k-456"
    snapshot = template_snapshot_take(
        client=StoreClient(store), source_integration_id=seed.DEMO_INTEGRATION_ID
    )
    template, _ = template_load(document=_document(), snapshot=snapshot)

    stored = json.dumps(TemplateVersion.objects.get(template=template).snapshot)
    assert not [secret for secret in secrets if secret in stored]
    masked = next(e for e in snapshot["exports"] if e["_id"] == seed.DEMO_ORDERS_EXPORT_ID)
    # Masked where they were; what is not secret under a secret name is kept.
    assert masked["http"]["auth"] == {"token": {"token": "******", "location": "header"}}
    assert masked["http"]["encrypted"] == "******"
    assert snapshot["integration"]["settings"]["apiKey"] == "******"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"password": "x"}, {"password": "******"}),
        (
            {"api_key": 7, "apiKey": "y", "API-KEY": "z"},
            {"api_key": "******", "apiKey": "******", "API-KEY": "******"},
        ),
        (
            {"accessToken": "a", "tokenLocation": "header"},
            {"accessToken": "******", "tokenLocation": "header"},
        ),
        (
            {"useToken": True, "password": None, "secret": ""},
            {"useToken": True, "password": None, "secret": ""},
        ),
        ({"list": [{"privateKey": "p"}]}, {"list": [{"privateKey": "******"}]}),
    ],
)
def test_secret_names_are_masked_and_nothing_else(value, expected):
    assert secrets_masked(value) == expected


@pytest.mark.django_db
def test_a_new_version_keeps_its_snapshot_out_of_its_digest_and_forever():
    snapshot = demo_snapshot()
    template, _ = template_load(document=_document(), snapshot=snapshot)
    version = template.versions.get()
    assert version.snapshot == snapshot
    # The same document without a snapshot is the same version: published already, unchanged.
    template_load(document=_document())
    template_load(document=_document(), snapshot=demo_snapshot("1.1.0"))
    version.refresh_from_db()
    assert version.snapshot == snapshot


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda d: d["settings_schema"]["properties"]["flows"]["properties"]["stock"].update(
                {"x-source-flow-id": "5eed0000000000000000ffff"}
            ),
            "settings_schema.properties.flows.properties.stock.x-source-flow-id",
        ),
        (
            lambda d: d["settings_mapping"].append(
                {"setting": "store_id", "to": "flow_settings", "path": "storeId", "flows": ["nope"]}
            ),
            "settings_mapping.10.flows",
        ),
        (
            lambda d: d["slots"][1].update(template_connection_id="5eed0000000000000000cccc"),
            "slots.1.template_connection_id",
        ),
        (
            lambda d: d["settings_mapping"].append(
                {"setting": "store_id", "to": "step", "step": "nope", "pointer": "/http/x"}
            ),
            "settings_mapping.10.step",
        ),
        (
            lambda d: d["settings_mapping"].append(
                {
                    "setting": "store_id",
                    "to": "step",
                    "step": "5eed00000000000000000e01",
                    "pointer": "/http/noSuchField",
                }
            ),
            "settings_mapping.10.pointer",
        ),
        (
            lambda d: d.update(source_integration_id="5eed00000000000000000a99"),
            "source_integration_id",
        ),
    ],
)
def test_it_refuses_a_version_its_snapshot_contradicts(change, field):
    document = _document()
    change(document)
    with pytest.raises(TemplateInvalid) as caught:
        template_load(document=document, snapshot=demo_snapshot())
    assert list(caught.value.fields) == [field]
    assert not TemplateVersion.objects.exists()


@pytest.mark.django_db
def test_version_1_1_0_needs_the_evolved_template():
    with open(DEMO_FILE_1_1_0) as file:
        document = yaml.safe_load(file)
    with pytest.raises(TemplateInvalid) as caught:
        template_load(document=document, snapshot=demo_snapshot("1.0.0"))
    assert list(caught.value.fields) == [
        "settings_schema.properties.flows.properties.refunds.x-source-flow-id"
    ]
    template_load(document=_document(), snapshot=demo_snapshot("1.0.0"))
    template, _ = template_load(document=document, snapshot=demo_snapshot("1.1.0"))
    assert template.version == "1.1.0"
    assert [v.version for v in template.versions.all()] == ["1.1.0", "1.0.0"]


@pytest.fixture
def integrator_sandbox(sandbox_clean, settings):
    settings.INTEGRATOR_API_URL = sandbox_clean.api_url
    settings.INTEGRATOR_API_TOKEN = sandbox_clean.token
    return sandbox_clean


@pytest.mark.django_db
def test_load_template_takes_the_snapshot_through_the_client(integrator_sandbox, capsys):
    integrator_sandbox.control.seed()
    call_command("load_template", "tenants/template_files/shop-to-erp.yaml")
    assert capsys.readouterr().out.strip() == (
        "Published version 1.0.0 of 'shop-to-erp' (snapshot of 3 flows, 3 exports, 3 imports)."
    )
    integrator_sandbox.control.template_version("1.1.0")
    call_command("load_template", DEMO_FILE_1_1_0)
    assert "(snapshot of 4 flows, 4 exports, 4 imports)" in capsys.readouterr().out
    # Read through the real client, the same as the in-process stand-in reads it.
    with IntegratorClient(integrator_sandbox.api_url, integrator_sandbox.token) as client:
        live = template_snapshot_take(client=client, source_integration_id=seed.DEMO_INTEGRATION_ID)
    stored = TemplateVersion.objects.get(version="1.1.0").snapshot
    assert [f["_id"] for f in stored["flows"]] == [f["_id"] for f in live["flows"]]
    call_command("load_template", DEMO_FILE_1_1_0)
    assert "already published" in capsys.readouterr().out


@pytest.mark.django_db
def test_load_template_offline_warns_that_it_cannot_be_rolled_out(integrator_sandbox, capsys):
    call_command("load_template", "tenants/template_files/shop-to-erp.yaml", "--offline")
    out, err = capsys.readouterr()
    assert "(no snapshot)" in out
    assert "cannot be rolled out to existing tenants" in err
    assert TemplateVersion.objects.get().snapshot == {}


@pytest.mark.django_db
def test_load_template_says_when_the_integration_is_missing(integrator_sandbox):
    with pytest.raises(CommandError, match=r"is not in the integrator\.io account"):
        call_command("load_template", "tenants/template_files/shop-to-erp.yaml")
    assert not TemplateVersion.objects.exists()


@pytest.mark.django_db
def test_load_template_says_when_integrator_io_does_not_answer(settings):
    settings.INTEGRATOR_API_URL = "http://127.0.0.1:9/v1"
    with pytest.raises(CommandError, match="Cannot read the template integration") as caught:
        call_command("load_template", "tenants/template_files/shop-to-erp.yaml")
    assert "--offline" in str(caught.value)
    assert not TemplateVersion.objects.exists()


@pytest.mark.django_db
def test_load_template_names_the_account_that_does_not_answer(integrator_sandbox):
    """With several accounts, "Cannot read the template integration ... from integrator.io"
    did not say which account (the refused-token message does), and integrator.io's own
    sentence ended in a period before the message's, so it read "...503 on GET ...."."""
    integrator_sandbox.control.seed()
    integrator_sandbox.control.inject_fault("error", path="/v1/integrations/*", status=503)

    try:
        with pytest.raises(CommandError) as caught:
            call_command("load_template", "tenants/template_files/shop-to-erp.yaml")
    finally:
        integrator_calm()  # the failures may have opened the breaker for the next tests

    message = str(caught.value)
    assert "from the integrator.io account 'default'" in message
    assert ".." not in message
    assert not TemplateVersion.objects.exists()


@pytest.mark.django_db
def test_load_template_says_whose_token_was_refused_and_how_to_replace_it(
    integrator_sandbox, settings
):
    # A refused token is refused again on the next run: "run again when it answers" would
    # not help; the operator must replace the token, and is told where it comes from.
    integrator_sandbox.control.seed()
    settings.INTEGRATOR_API_TOKEN = "a-revoked-default-token"
    with pytest.raises(CommandError) as caught:
        call_command("load_template", "tenants/template_files/shop-to-erp.yaml")
    message = str(caught.value)
    assert "refused the API token of account 'default'" in message
    assert "set INTEGRATOR_API_TOKEN" in message
    assert "run again when it answers" not in message
    assert "a-revoked-default-token" not in message

    integrator_account_save(
        key="us-two",
        name="US two",
        region="us",
        api_url=integrator_sandbox.api_url,
        token="a-revoked-stored-token",
    )
    with pytest.raises(CommandError) as caught:
        call_command(
            "load_template", "tenants/template_files/shop-to-erp.yaml", "--account", "us-two"
        )
    message = str(caught.value)
    assert "refused the API token of account 'us-two'" in message
    assert "manage.py integrator_account us-two" in message
    assert "a-revoked-stored-token" not in message
    assert not TemplateVersion.objects.exists()


@pytest.mark.django_db
def test_load_template_on_another_account_says_the_template_lives_elsewhere(integrator_sandbox):
    """Publishing a template that lives on one account with --account naming another was read
    from that other account first, where the integration is not: "not in the integrator.io
    account 'us-two'" hid the reason, that a template never changes account."""
    integrator_sandbox.control.seed()
    call_command("load_template", "tenants/template_files/shop-to-erp.yaml")
    other = f"{integrator_sandbox.token}-other"
    integrator_sandbox.control.add_account(other, region="us")  # empty: no template there
    integrator_account_save(
        key="us-two", name="US two", region="us", api_url=integrator_sandbox.api_url, token=other
    )

    with pytest.raises(CommandError) as caught:
        call_command("load_template", DEMO_FILE_1_1_0, "--account", "us-two")

    message = str(caught.value)
    assert "lives on the integrator.io account 'default', not 'us-two'" in message
    assert "is not in the integrator.io account" not in message
    assert [v.version for v in TemplateVersion.objects.all()] == ["1.0.0"]
