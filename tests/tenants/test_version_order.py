"""A template's versions go up: publishing one lower than a version already published is
refused (the command says so in words, before reading integrator.io), the newest stays the one
new tenants get, and a tenant is never offered a lower version as an upgrade."""

import pytest
import yaml
from django.core.management import CommandError, call_command

from tenants.errors import VersionNotNewer
from tenants.models import IntegrationTemplate, TemplateVersion
from tenants.services import template_load, template_version_current, tenant_create
from tenants.version_order import upgrade_available, version_higher
from tests.tenants.test_templates import document


@pytest.mark.parametrize(
    ("version", "than", "higher"),
    [
        ("1.1.0", "1.0.5", True),
        ("1.0.5", "1.1.0", False),
        ("1.10.0", "1.9.0", True),
        ("1.1", "1.1.0", False),
        ("1.1.0", "1.1", False),
        ("2.0.0", "2.0.0-rc.1", True),
        ("2.0.0-rc.2", "2.0.0-rc.1", True),
        ("v3", "2.9.9", True),
        ("2", "1.9", True),
        ("beta", "1.0.0", None),
    ],
)
def test_versions_are_ordered_as_releases_are(version, than, higher):
    assert version_higher(version, than) is higher


@pytest.mark.django_db
def test_it_refuses_to_publish_a_version_lower_than_one_published():
    template, _ = template_load(document=document(version="1.0.0"))
    template_load(document=document(version="1.1.0"))

    for lower in ("1.0.5", "1.1", "0.9"):
        with pytest.raises(VersionNotNewer, match=r"not higher than version 1\.1\.0") as caught:
            template_load(document=document(version=lower))
        assert list(caught.value.fields) == ["version"]

    template.refresh_from_db()
    assert template.version == "1.1.0"
    assert template_version_current(template=template).version == "1.1.0"
    assert sorted(TemplateVersion.objects.values_list("version", flat=True)) == ["1.0.0", "1.1.0"]
    # Higher ones go on; the same version again is no new version and changes nothing.
    template_load(document=document(version="1.1.0"))
    template_load(document=document(version="1.10.0"))
    template.refresh_from_db()
    assert template.version == "1.10.0"


@pytest.mark.django_db
def test_the_command_refuses_a_lower_version_in_words_before_reading_integrator_io(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(document(version="1.1.0")))
    call_command("load_template", str(path), "--offline")
    path.write_text(yaml.safe_dump(document(version="1.0.5")))

    # Not offline: had it read the template integration first, it would fail reaching it.
    with pytest.raises(CommandError) as caught:
        call_command("load_template", str(path))

    message = str(caught.value)
    assert "Version 1.0.5 of the template 'shop-to-erp' is not higher than version 1.1.0" in message
    assert "Publish the change as a version above 1.1.0" in message
    assert IntegrationTemplate.objects.get().version == "1.1.0"


def test_a_lower_newest_version_is_never_offered_as_an_upgrade():
    assert upgrade_available(latest="1.1.0", current="1.0.0") == "1.1.0"
    assert upgrade_available(latest="1.0.5", current="1.1.0") is None
    assert upgrade_available(latest="1.1.0", current="1.1.0") is None
    assert upgrade_available(latest="beta", current="1.0.0") == "beta"


@pytest.mark.django_db
def test_the_api_offers_no_lower_version_published_before_publishing_refused_it(api):
    template, _ = template_load(document=document(version="1.1.0"))
    tenant_create(external_id="acme", name="Acme", template=template)
    # What publishing 1.0.5 after 1.1.0 used to leave behind.
    older = TemplateVersion.objects.get(version="1.1.0")
    TemplateVersion.objects.create(
        template=template,
        version="1.0.5",
        source_integration_id=older.source_integration_id,
        slots=older.slots,
        settings_schema=older.settings_schema,
        digest="published-out-of-order",
    )
    IntegrationTemplate.objects.filter(pk=template.pk).update(version="1.0.5")

    body = api.get("/api/v1/tenants/acme").json()

    assert body["template"]["version"] == "1.1.0"
    assert body["template"]["upgrade_available"] is None


@pytest.mark.django_db
def test_loading_an_older_version_again_leaves_the_newest_versions_texts(tmp_path, capsys):
    """Loading 1.0.0's file again after 1.1.0 (a deploy script that loads every file, in any
    order) put 1.0.0's name, description and translations back on the template: customers'
    forms showed the old texts, and the German ones the newest file had dropped."""
    old = document(
        version="1.0.0",
        name="Shop to ERP (old)",
        description="Old words.",
        translations={"de": {"name": "Alter Shop nach ERP"}},
    )
    new = document(
        version="1.1.0",
        name="Shop to ERP",
        description="New words.",
        translations={"de": {"name": "Shop nach ERP"}},
        drift="repair",
    )
    template_load(document=old)
    template_load(document=new)
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({**old, "is_active": False}))

    call_command("load_template", str(path))

    template = IntegrationTemplate.objects.get()
    assert template.version == "1.1.0"
    assert (template.name, template.description) == ("Shop to ERP", "New words.")
    assert template.translations == {"de": {"name": "Shop nach ERP"}}
    assert (template.is_active, template.drift_action) == (True, "repair")
    out = capsys.readouterr().out
    assert "Version 1.0.0 of 'shop-to-erp' is already published with this content" in out
    assert "not its newest (1.1.0)" in out

    # The newest version's file still speaks for the template.
    template_load(document={**new, "description": "Newer words."})
    template.refresh_from_db()
    assert template.description == "Newer words."
