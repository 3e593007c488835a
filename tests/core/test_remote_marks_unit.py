"""The marks written to integrator.io and read back (core.remote_marks), without a worker.

The deployment's identity is a database row, so these tests need the database, nothing more."""

import pytest

from core import remote_marks
from core.deployment import deployment_identity

pytestmark = pytest.mark.django_db

UID = "a8f0c2d4e6b1"


def test_an_integration_tag_reads_back_as_this_deployments_tenant():
    tag = remote_marks.integration_tag(tenant_uid=UID, template_key="shop-to-erp")
    assert tag == f"embedded:{deployment_identity()}:{UID}:shop-to-erp"
    mark = remote_marks.integration_mark({"tag": tag, "name": "anything"})
    assert (mark.deployment, mark.tenant_uid, mark.template_key) == (
        deployment_identity(),
        UID,
        "shop-to-erp",
    )
    assert mark.is_ours and not mark.is_legacy
    assert not remote_marks.belongs_to_other_deployment(mark)


def test_a_connection_external_id_reads_back_with_its_slot():
    external_id = remote_marks.connection_external_id(tenant_uid=UID, slot_key="shop")
    mark = remote_marks.connection_mark({"externalId": external_id})
    assert (mark.tenant_uid, mark.slot_key) == (UID, "shop")
    assert mark.is_ours


def test_another_deployments_mark_is_recognised_as_theirs():
    mark = remote_marks.integration_mark({"tag": f"embedded:zz00other0:{UID}:shop-to-erp"})
    assert mark.deployment == "zz00other0"
    assert not mark.is_ours
    assert remote_marks.belongs_to_other_deployment(mark)


def test_legacy_marks_name_a_row_and_no_deployment():
    tag = remote_marks.legacy_integration_tag(tenant_pk=42, template_key="shop-to-erp")
    mark = remote_marks.integration_mark({"tag": tag})
    assert (mark.deployment, mark.legacy_tenant_pk, mark.template_key) == (None, 42, "shop-to-erp")
    assert mark.is_legacy
    assert not remote_marks.belongs_to_other_deployment(mark)
    external_id = remote_marks.legacy_connection_external_id(tenant_pk=42, slot_key="erp")
    connection = remote_marks.connection_mark({"externalId": external_id})
    assert (connection.legacy_tenant_pk, connection.slot_key) == (42, "erp")


def test_the_name_carries_the_mark_when_the_tag_was_lost():
    name = remote_marks.integration_name(
        template_name="Shop to ERP", tenant_name="Acme", tenant_uid=UID
    )
    assert name == f"Shop to ERP - Acme [{deployment_identity()}/{UID}]"
    mark = remote_marks.integration_mark({"tag": None, "name": name})
    assert (mark.deployment, mark.tenant_uid) == (deployment_identity(), UID)


def test_a_long_name_is_cut_before_the_mark_never_through_it():
    name = remote_marks.name_with_mark("x" * 300, tenant_uid=UID)
    assert len(name) == remote_marks.MAX_NAME_LENGTH
    assert name.endswith(f" [{deployment_identity()}/{UID}]")


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"tag": "someone-elses-tag", "name": "Shop to ERP - Acme"},
        {"tag": 7, "name": None},
        {"tag": f"embedded:{'x' * 10}:{UID}:Bad Key"},
        {"name": f"Acme [not-an-id/{UID}]"},
    ],
)
def test_resources_without_a_mark_are_nobodys(doc):
    assert remote_marks.integration_mark(doc) is None
    assert remote_marks.connection_mark(doc) is None
    assert not remote_marks.belongs_to_other_deployment(None)
