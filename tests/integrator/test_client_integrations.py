"""Integrations: projections, CRUD, read-change-write, JSON Patch, clone and sub-lists."""

import pytest

from integrator import NotFoundError, ValidationError, replace_operations


def test_it_lists_integrations_with_include_and_exclude(client, seeded_or_live):
    full = client.list_integrations()
    assert full
    assert all("createdAt" in integration.raw for integration in full)

    included = client.list_integrations(include=["version"])
    assert {frozenset(i.raw) - {"version"} for i in included} == {frozenset({"_id", "name"})}

    excluded = client.list_integrations(exclude=["settings", "description"])
    assert all("settings" not in i.raw and "description" not in i.raw for i in excluded)
    assert [i.id for i in excluded] == [i.id for i in full]


def test_it_rejects_include_with_exclude_as_the_remote_does(client, seeded_or_live):
    with pytest.raises(ValidationError) as caught:
        client.list_integrations(include=["name"], exclude=["version"])
    assert caught.value.status == 400
    assert caught.value.code == "invalid_query_params"


def test_it_follows_link_pages_of_integrations(client, control, setup_api):
    control.configure(page_size=3)
    made = [setup_api("/integrations", {"name": f"Tenant {i}"})["_id"] for i in range(7)]
    assert [integration.id for integration in client.list_integrations()] == made


def test_it_creates_gets_replaces_patches_and_deletes_an_integration(client, fresh_sandbox, writes):
    created = client.create_integration(
        {"name": "Tenant 42 (client test)", "description": "d", "settings": {"region": "eu"}}
    )
    try:
        assert client.get_integration(created.id).settings == {"region": "eu"}

        client.patch_integration(created.id, replace_operations({"description": "patched"}))
        assert client.get_integration(created.id).description == "patched"

        replaced = client.update_integration(created.id, {"name": "Tenant 42 bis"})
        assert replaced.name == "Tenant 42 bis"
        assert replaced.settings == {}  # PUT is a full replace: omitted fields are gone
        assert replaced.description == ""
    finally:
        client.delete_integration(created.id)
    with pytest.raises(NotFoundError):
        client.get_integration(created.id)


def test_it_changes_settings_by_read_change_write_keeping_other_fields(client, seeded, writes):
    integration_id = seeded["integrationId"]
    before = client.get_integration(integration_id)

    after = client.modify_integration(
        integration_id, lambda doc: doc["settings"].update(erpSubsidiary="tenant-7")
    )

    assert after.settings == {**before.settings, "erpSubsidiary": "tenant-7"}
    assert (after.name, after.description, after.version) == (
        before.name,
        before.description,
        before.version,
    )
    assert client.get_integration(integration_id).settings["erpSubsidiary"] == "tenant-7"


def test_it_clones_an_integration_and_reads_the_manifest(client, control, seeded, writes):
    template_id = seeded["integrationId"]
    tenant_shop = client.create_connection(
        {
            "type": "http",
            "name": "Tenant shop",
            "http": {"baseURI": "https://shop.example.com", "mediaType": "json"},
        }
    )
    before = control.counts()

    manifest = client.clone_integration(
        template_id,
        name="Tenant 42",
        connection_map={seeded["connectionIds"]["shop"]: tenant_shop.id},
    )

    assert manifest.integration_id not in (template_id, "")
    assert client.get_integration(manifest.integration_id).name == "Tenant 42"
    flows = client.list_integration_flows(manifest.integration_id)
    assert sorted(f.id for f in flows) == sorted(manifest.ids("Flow"))
    assert {f.source_id for f in flows} == set(seeded["flowIds"])
    exports = client.list_integration_exports(manifest.integration_id)
    imports = client.list_integration_imports(manifest.integration_id)
    assert sorted(e.id for e in exports) == sorted(manifest.ids("Export"))
    assert sorted(i.id for i in imports) == sorted(manifest.ids("Import"))
    assert tenant_shop.id in {e.connection_id for e in exports}
    connections = client.list_integration_connections(manifest.integration_id)
    assert tenant_shop.id in {c.id for c in connections}
    after = control.counts()
    assert after["integrations"] == before["integrations"] + 1
    assert after["flows"] == before["flows"] + len(manifest.ids("Flow"))


def test_it_raises_not_found_for_an_unknown_integration(client, seeded_or_live):
    with pytest.raises(NotFoundError) as caught:
        client.get_integration("0" * 24)
    assert caught.value.status == 404
    assert not caught.value.retryable
