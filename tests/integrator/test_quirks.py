"""The documented quirks, one rule each (pure functions: no HTTP involved)."""

from datetime import UTC, datetime

import pytest

from integrator import Job, JobStatus, MaskedSecretError, UnexpectedResponseError, quirks
from integrator.quirks import (
    clone_manifest_items,
    error_details,
    job_id_from_run_response,
    list_from_body,
    masked_secret_paths,
    next_jobs_created_at_lte,
    ping_outcome,
    refuse_masked_secrets,
    replacement_document,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("canceled", JobStatus.CANCELED),
        ("cancelled", JobStatus.CANCELED),
        ("cancelling", JobStatus.CANCELING),
        ("canceling", JobStatus.CANCELING),
        ("completed", JobStatus.COMPLETED),
    ],
)
def test_it_reads_both_job_status_spellings(raw, expected):
    job = Job.from_api({"_id": "j1", "type": "flow", "status": raw})
    assert job.status == expected
    assert job.is_finished == (expected in (JobStatus.CANCELED, JobStatus.COMPLETED))


def test_it_reads_a_ping_failure_from_a_2xx_body_with_numeric_codes():
    assert ping_outcome({"code": 200}) == (True, ())
    ok, errors = ping_outcome({"errors": [{"code": 401, "message": "Unauthorized"}]})
    assert not ok
    assert (errors[0].code, errors[0].message) == ("401", "Unauthorized")


def test_it_reads_the_error_envelope():
    body = {"errors": [{"code": "invalid_field", "message": "bad", "field": "adaptorType"}, "x"]}
    details = error_details(body)
    assert [(d.code, d.field) for d in details] == [("invalid_field", "adaptorType"), (None, None)]
    assert error_details("not json") == ()


def test_it_finds_every_masked_secret_and_refuses_the_write():
    body = {"http": {"auth": {"token": {"token": "******"}}}, "list": ["a", "******"]}
    assert masked_secret_paths(body) == ["/http/auth/token/token", "/list/1"]
    with pytest.raises(MaskedSecretError):
        refuse_masked_secrets(body, method="PUT", path="/v1/connections/c1")
    refuse_masked_secrets({"http": {"auth": {"token": {"token": "real"}}}}, method="PUT", path="/")


def test_it_builds_a_full_replacement_without_touching_the_fetched_document():
    fetched = {"_id": "i1", "name": "n", "settings": {"a": 1}}
    body = replacement_document(fetched, lambda doc: doc["settings"].update(b=2))
    assert body == {"_id": "i1", "name": "n", "settings": {"a": 1, "b": 2}}
    assert fetched["settings"] == {"a": 1}
    assert replacement_document(fetched, lambda doc: {"name": "x"}) == {"name": "x"}


@pytest.mark.parametrize(
    ("body", "job_id"),
    [
        ({"_jobId": "j1"}, "j1"),
        ({"_flowJobId": "j2"}, "j2"),
        ({"_id": "j3", "type": "flow"}, "j3"),
        ([{"_jobId": "j4"}], "j4"),
        ({}, None),
        (None, None),
    ],
)
def test_it_reads_every_plausible_flow_run_answer(body, job_id):
    assert job_id_from_run_response(body) == job_id


def test_it_reads_every_documented_clone_answer():
    manifest = [
        {"model": "Integration", "_id": "i9"},
        {"model": "Flow", "_id": "f1", "name": "Orders"},
    ]
    assert clone_manifest_items(manifest) == (
        "i9",
        [("Integration", "i9", None), ("Flow", "f1", "Orders")],
    )
    assert clone_manifest_items({"_id": "i8", "name": "Doc"})[0] == "i8"
    assert clone_manifest_items({"_integrationId": "i7"})[0] == "i7"
    with pytest.raises(UnexpectedResponseError):
        clone_manifest_items([{"model": "Flow", "_id": "f1"}])


def test_it_reads_204_as_an_empty_list():
    assert list_from_body(None) == []
    with pytest.raises(UnexpectedResponseError):
        list_from_body({"not": "a list"})


def test_it_asks_for_the_next_jobs_page_one_millisecond_earlier():
    oldest = datetime(2024, 3, 1, 0, 0, 0, 0, tzinfo=UTC)
    assert next_jobs_created_at_lte(oldest) == "2024-02-29T23:59:59.999Z"


def test_a_short_jobs_page_is_the_last_and_a_full_one_never_is():
    assert quirks.jobs_page_is_last(0)
    assert quirks.jobs_page_is_last(999)
    assert not quirks.jobs_page_is_last(1000)  # the real page may be 1000 long
    assert not quirks.jobs_page_is_last(1001)


def test_the_account_sync_reads_the_oldest_millisecond_again():
    oldest = datetime(2026, 11, 29, 12, 0, 0, 123000, tzinfo=UTC)

    assert quirks.jobs_created_at_lte_again(oldest) == "2026-11-29T12:00:00.123Z"
    assert quirks.next_jobs_created_at_lte(oldest) == "2026-11-29T12:00:00.122Z"
