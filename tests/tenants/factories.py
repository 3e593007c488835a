"""factory_boy factories for templates and tenants."""

import copy

import factory

from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import IntegrationTemplate, Tenant, TenantConnection
from tenants.services import template_document_read

DEMO_TEMPLATE = template_document_read(path=DEMO_TEMPLATE_FILE)


class IntegrationTemplateFactory(factory.django.DjangoModelFactory):
    """A copy of the demo template (two http slots, a real settings schema)."""

    class Meta:
        model = IntegrationTemplate
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"template-{n}")
    name = factory.Sequence(lambda n: f"Template {n}")
    description = "A template for tests."
    source_integration_id = DEMO_TEMPLATE["source_integration_id"]
    version = "1.0.0"
    is_active = True
    slots = factory.LazyFunction(lambda: copy.deepcopy(DEMO_TEMPLATE["slots"]))
    settings_schema = factory.LazyFunction(lambda: copy.deepcopy(DEMO_TEMPLATE["settings_schema"]))


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        skip_postgeneration_save = True

    external_id = factory.Sequence(lambda n: f"customer-{n}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    template = factory.SubFactory(IntegrationTemplateFactory)
    settings = factory.LazyFunction(dict)
    allowed_origins = factory.LazyFunction(lambda: ["https://app.example.com"])

    @factory.post_generation
    def connections(tenant, create, extracted, **kwargs):
        if create:
            for slot in tenant.template.slots:
                TenantConnection.objects.get_or_create(tenant=tenant, slot_key=slot["key"])
