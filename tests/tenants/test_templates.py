"""Templates: slot and settings-schema validation, loading from JSON/YAML, the API."""

import copy
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from tenants.errors import TemplateInvalid, VersionConflict
from tenants.models import IntegrationTemplate, TemplateVersion
from tenants.services import (
    template_load,
    template_validate,
    tenant_create,
    tenant_effective_settings,
)
from tests.fixtures.factories import DEMO_TEMPLATE


def document(**changes):
    return {**copy.deepcopy(DEMO_TEMPLATE), **changes}


def test_the_demo_template_file_is_valid():
    template_validate(
        slots=DEMO_TEMPLATE["slots"], settings_schema=DEMO_TEMPLATE["settings_schema"]
    )


def broken_slots(change):
    slots = copy.deepcopy(DEMO_TEMPLATE["slots"])
    change(slots)
    return slots


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda s: s[0].pop("template_connection_id"), "slots.0"),
        (lambda s: s[1].update(key="shop"), "slots.1.key"),
        (lambda s: s[0]["fields"][0].update(kind="file"), "slots.0.fields.0.kind"),
        (lambda s: s[0]["fields"][0].update(kind="select"), "slots.0.fields.0"),
        (lambda s: s[0]["fields"][1].update(name="base_url"), "slots.0.fields.1.name"),
        (lambda s: s[0]["fields"][1].update(maps_to="http.baseURI"), "slots.0.fields.1.maps_to"),
        (
            lambda s: s[0]["fields"][1].update(maps_to="rest.bearerToken"),
            "slots.0.fields.1.maps_to",
        ),
        (lambda s: s[0]["fields"][1].update(pattern="(unclosed"), "slots.0.fields.1.pattern"),
        (lambda s: s[0]["connection"].update(type="rest"), "slots.0.connection"),
        (lambda s: s[0].update(connection_type="carrier-pigeon"), "slots.0.connection_type"),
    ],
)
def test_it_refuses_broken_slots(change, path):
    with pytest.raises(TemplateInvalid) as caught:
        template_validate(slots=broken_slots(change), settings_schema={"type": "object"})
    assert path in caught.value.fields, caught.value.fields


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array"}, "type"),
        ({"type": "object", "properties": {"a": {"type": "nonsense"}}}, "Not a valid JSON Schema"),
        ({"type": "object", "properties": {"a": {"$ref": "https://x.example/s.json"}}}, "$ref"),
    ],
)
def test_it_refuses_a_broken_settings_schema(schema, message):
    with pytest.raises(TemplateInvalid) as caught:
        template_validate(slots=[], settings_schema=schema)
    assert message in caught.value.fields["settings_schema"][0]


def test_it_refuses_defaults_that_break_their_own_schema():
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 5, "default": 1}},
    }
    with pytest.raises(TemplateInvalid) as caught:
        template_validate(slots=[], settings_schema=schema)
    assert list(caught.value.fields) == ["settings_schema.defaults.n"]


@pytest.mark.django_db
def test_it_creates_then_updates_a_template():
    template, created = template_load(document=document())
    assert created and template.version == "1.0.0"
    again, created = template_load(document=document(version="1.1.0", name="Renamed"))
    assert not created and again.pk == template.pk
    assert (again.version, again.name) == ("1.1.0", "Renamed")


@pytest.mark.django_db
def test_a_published_version_never_changes():
    template, _ = template_load(document=document())
    tenant, _ = tenant_create(external_id="acme", name="Acme", template=template)
    changed = document(name="Renamed")
    changed["settings_schema"]["properties"]["sync_interval_minutes"]["default"] = 30

    with pytest.raises(
        VersionConflict, match=r"already published with other content \(settings_schema differ\)"
    ):
        template_load(document=changed)

    template.refresh_from_db()
    assert template.settings_schema == DEMO_TEMPLATE["settings_schema"]
    assert template.name == DEMO_TEMPLATE["name"]
    assert TemplateVersion.objects.filter(template=template).count() == 1
    tenant.refresh_from_db()
    assert tenant.template_version.settings_schema == DEMO_TEMPLATE["settings_schema"]
    # The same content again is no change; only the template's own name may move.
    again, created = template_load(document=document(name="Renamed"))
    assert not created and again.name == "Renamed"
    assert TemplateVersion.objects.filter(template=template).count() == 1


@pytest.mark.django_db
def test_a_new_version_is_for_new_tenants_until_rolled_out():
    template, _ = template_load(document=document())
    old, _ = tenant_create(external_id="old", name="Old", template=template)
    newer = document(version="2.0.0")
    newer["settings_schema"]["properties"]["sync_interval_minutes"]["default"] = 30
    template_load(document=newer)

    new, _ = tenant_create(external_id="new", name="New", template=template)
    old.refresh_from_db()
    assert old.template_version.version == "1.0.0"
    assert tenant_effective_settings(tenant=old)["sync_interval_minutes"] == 15
    assert new.template_version.version == "2.0.0"
    assert tenant_effective_settings(tenant=new)["sync_interval_minutes"] == 30
    assert [v.version for v in template.versions.order_by("published_at")] == ["1.0.0", "2.0.0"]


@pytest.mark.django_db
def test_load_template_refuses_a_changed_version_in_words(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(document()))
    call_command("load_template", str(path), "--offline")
    changed = document()
    changed["slots"][0]["label"] = "Store"
    path.write_text(yaml.safe_dump(changed))
    with pytest.raises(CommandError, match="Publish the change as a new version"):
        call_command("load_template", str(path))


@pytest.mark.django_db
def test_it_refuses_a_mapping_into_nothing():
    bad = document()
    bad["settings_mapping"] = [{"setting": "no_such_setting", "to": "flow_schedule"}]
    with pytest.raises(TemplateInvalid) as caught:
        template_load(document=bad)
    assert list(caught.value.fields) == ["settings_mapping.0.setting"]
    assert not IntegrationTemplate.objects.exists()


@pytest.mark.django_db
def test_it_saves_nothing_from_an_invalid_document():
    with pytest.raises(TemplateInvalid):
        template_load(document=document(key="Not A Slug"))
    with pytest.raises(TemplateInvalid):
        template_load(document=document(slots=[{"key": "x"}]))
    assert not IntegrationTemplate.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_load_template_reads_json_and_yaml(tmp_path, suffix, capsys):
    path = tmp_path / f"template{suffix}"
    dump = json.dumps if suffix == ".json" else yaml.safe_dump
    path.write_text(dump(document(key="from-file")))
    call_command("load_template", str(path), "--offline")
    assert "Published version 1.0.0 of 'from-file' (no snapshot)." in capsys.readouterr().out
    assert IntegrationTemplate.objects.get(key="from-file").slots == DEMO_TEMPLATE["slots"]


@pytest.mark.django_db
def test_load_template_explains_what_is_wrong(tmp_path):
    path = tmp_path / "bad.yaml"
    bad = document()
    bad["settings_schema"]["properties"]["sync_interval_minutes"]["default"] = 1
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(CommandError) as caught:
        call_command("load_template", str(path))
    assert "settings_schema.defaults.sync_interval_minutes" in str(caught.value)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(CommandError, match="not valid JSON/YAML"):
        call_command("load_template", str(tmp_path / "broken.json"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_template", str(tmp_path / "missing.yaml"))


@pytest.mark.django_db
class TestApi:
    def test_it_lists_active_templates_without_internals(self, api, template):
        IntegrationTemplate.objects.create(
            key="retired", name="Retired", source_integration_id="x", is_active=False
        )
        response = api.get("/api/v1/templates/")
        assert response.status_code == 200
        [shown] = response.json()["results"]
        assert shown["key"] == "shop-to-erp"
        shop = shown["slots"][0]
        assert shop["key"] == "shop" and shop["connection_type"] == "http"
        assert "connection" not in shop and "template_connection_id" not in shop
        api_key = shop["fields"][1]
        assert api_key["kind"] == "password" and api_key["secret"] is True
        assert "maps_to" not in api_key
        assert shown["settings_defaults"]["sync_interval_minutes"] == 15
        # The schema settings are checked against: the template's, its schedule setting
        # listing the intervals a schedule can say (tests/api/test_settings_schema.py).
        interval = shown["settings_schema"]["properties"]["sync_interval_minutes"]
        assert 15 in interval["enum"] and 25 not in interval["enum"]
        del interval["enum"]
        assert shown["settings_schema"] == template.settings_schema

    def test_it_shows_one_template(self, api, template):
        assert api.get("/api/v1/templates/shop-to-erp/").json()["name"] == template.name
        response = api.get("/api/v1/templates/nope/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "template_not_found"
