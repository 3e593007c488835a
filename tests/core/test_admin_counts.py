"""Every admin list with its counts shown (the list's "Show counts" link, `?_facets=True`):
Django then asks each filter for each of its choices as a value of the choice's own type, an
int where the choice is an id, not the string a link's query string carries."""

import pytest
from django.contrib import admin

from tests.fixtures.factories import TenantFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = sorted(
    f"/admin/{model._meta.app_label}/{model._meta.model_name}/" for model in admin.site._registry
)


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_every_list_shows_its_counts(admin_client, template, changelist):
    TenantFactory(template=template, external_id="counted")

    response = admin_client.get(f"{changelist}?_facets=True")

    assert response.status_code == 200


def test_the_tenant_list_counts_each_template_version_and_filters_by_one(admin_client, template):
    tenant = TenantFactory(template=template, external_id="counted")
    version = tenant.template_version_id

    response = admin_client.get(f"/admin/tenants/tenant/?_facets=True&version={version}")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [tenant]
    assert "v1.0.0 (1)" in response.content.decode()
