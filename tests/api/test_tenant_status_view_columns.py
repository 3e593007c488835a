"""api/tenant_status_view.py reads tenants in SQL it spells out: these tests fail when its
column lists and the models drift apart (a renamed column, a new tenant field nobody decided
about)."""

import re

from api import tenant_status_view as view
from core.models import IntegratorAccount
from provisioning.models import Job
from tenants.models import IntegrationTemplate, TemplateVersion, Tenant, TenantConnection

# Tenant fields the view does not show, on purpose: history and internals, not status.
NOT_SHOWN = {"superseded_at", "uid", "latest_job_id", "previous_job_id"}


def _columns(model) -> set[str]:
    return {field.column for field in model._meta.concrete_fields}


def test_every_column_read_is_a_column_of_its_table():
    tables = {
        "t": Tenant,
        "tpl": IntegrationTemplate,
        "tv": TemplateVersion,
        "acc": IntegratorAccount,
    }
    for expression, _ in view.TENANT_COLUMNS:
        alias, column = expression.split(".")
        assert column in _columns(tables[alias]), expression
    assert set(view.JOB_COLUMNS) <= _columns(Job)
    assert set(view.CONNECTION_COLUMNS) <= _columns(TenantConnection)


def test_the_tables_joined_are_the_models_tables():
    named = set(re.findall(r"(?:FROM|JOIN) (\w+)", view._SQL))
    named |= set(re.findall(r"FROM (\w+)", view.CONDITIONS["template_key"]))
    assert named == {
        Tenant._meta.db_table,
        IntegrationTemplate._meta.db_table,
        TemplateVersion._meta.db_table,
        Job._meta.db_table,
        TenantConnection._meta.db_table,
        IntegratorAccount._meta.db_table,
    } | {"page"}


def test_every_tenant_field_is_shown_or_left_out_on_purpose():
    shown = {expression.split(".")[1] for expression, _ in view.TENANT_COLUMNS}
    assert _columns(Tenant) - shown == NOT_SHOWN, (
        "a Tenant field is neither in TENANT_COLUMNS nor in NOT_SHOWN: decide whether the "
        "API shows it"
    )
