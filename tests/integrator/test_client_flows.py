"""Flows, exports and imports: lists (204), get, full replace, read-change-write, patch, run."""

import pytest
import urllib3

from integrator import IntegratorClient, JobStatus, MaskedSecretError, replace_operations
from integrator.errors import NotFoundError


def test_it_reads_an_empty_flow_list_answered_with_204(client, control):
    assert client.list_flows() == []
    assert control.requests_log()[-1]["status"] == 204


def test_it_lists_and_gets_flows(client, seeded_or_live):
    flows = client.list_flows()
    assert flows
    flow = client.get_flow(flows[0].id)
    assert (flow.id, flow.name, flow.integration_id) == (
        flows[0].id,
        flows[0].name,
        flows[0].integration_id,
    )
    if seeded_or_live:
        assert {f.id for f in flows} == set(seeded_or_live["flowIds"])
        assert flow.export_ids


def test_it_enables_a_flow_with_json_patch(client, seeded, writes):
    flow_id = seeded["flowIds"][0]
    assert client.get_flow(flow_id).disabled

    client.patch_flow(flow_id, replace_operations({"disabled": False}))

    assert not client.get_flow(flow_id).disabled


def test_it_replaces_and_modifies_a_flow(client, seeded, writes):
    flow_id = seeded["flowIds"][1]
    current = client.get_flow(flow_id).raw

    replaced = client.update_flow(flow_id, {**current, "name": "Renamed"})
    modified = client.modify_flow(flow_id, lambda doc: doc.update(timezone="UTC"))

    assert replaced.name == "Renamed"
    assert (modified.name, modified.timezone) == ("Renamed", "UTC")
    assert modified.export_ids == replaced.export_ids


def test_it_runs_a_flow_and_finds_its_job(client, control, seeded, writes):
    flow_id = seeded["flowIds"][0]

    run = client.run_flow(flow_id)

    job = client.get_job(run.job_id)
    assert (job.type, job.flow_id, job.status) == ("flow", flow_id, JobStatus.QUEUED)
    control.advance_job(run.job_id, to="end")
    finished = client.get_job(run.job_id)
    assert finished.status == JobStatus.COMPLETED
    assert finished.is_finished


def test_it_lists_gets_and_updates_exports_and_imports(client, seeded, writes):
    exports = client.list_exports()
    imports = client.list_imports()
    assert {e.id for e in exports} == set(seeded["exportIds"])
    assert {i.id for i in imports} == set(seeded["importIds"])

    export = client.get_export(seeded["exportIds"][0])
    assert export.adaptor_type == "HTTPExport"
    assert client.update_export(export.id, {**export.raw, "name": "E1"}).name == "E1"
    assert client.modify_export(export.id, lambda doc: doc.update(name="E2")).name == "E2"

    imported = client.get_import(seeded["importIds"][0])
    assert imported.connection_id == seeded["connectionIds"]["erp"]
    assert client.update_import(imported.id, {**imported.raw, "name": "I1"}).name == "I1"
    renamed = client.modify_import(imported.id, lambda doc: doc.update(name="I2"))
    assert (renamed.name, renamed.connection_id) == ("I2", imported.connection_id)


def test_it_deletes_flows_exports_and_imports(client, seeded, writes):
    flow_id, export_id, import_id = (
        seeded["flowIds"][0],
        seeded["exportIds"][0],
        seeded["importIds"][0],
    )
    client.delete_flow(flow_id)
    client.delete_export(export_id)
    client.delete_import(import_id)
    for get, object_id in (
        (client.get_flow, flow_id),
        (client.get_export, export_id),
        (client.get_import, import_id),
    ):
        with pytest.raises(NotFoundError):
            get(object_id)


def test_it_refuses_a_read_change_write_that_would_echo_a_masked_secret(client, seeded):
    export = client.get_export(seeded["exportIds"][0])
    with pytest.raises(MaskedSecretError):
        client.update_export(export.id, {**export.raw, "webhook": {"key": "******"}})


def test_it_falls_back_to_the_newest_flow_job_when_the_run_answer_names_none(
    target, control, seeded
):
    # The run answer is undocumented; emulate a remote that answers {} (real HTTP, the
    # answer's body replaced by the caller's own pool).
    class AnswerWithoutJobId(urllib3.PoolManager):
        def urlopen(self, method, url, *args, **kwargs):
            response = super().urlopen(method, url, *args, **kwargs)
            if method == "POST" and url.endswith("/run"):
                return urllib3.HTTPResponse(body=b"{}", status=response.status)
            return response

    pool = AnswerWithoutJobId(retries=False)
    flow_id = seeded["flowIds"][2]

    with IntegratorClient(target.api_url, target.token, pool=pool) as client:
        run = client.run_flow(flow_id)

    assert run.raw == {}
    flow_jobs = [j for j in control.objects("jobs")["objects"]["jobs"] if j["type"] == "flow"]
    assert [job["_id"] for job in flow_jobs] == [run.job_id]
    pool.clear()
