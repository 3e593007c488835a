"""Secrets (the API token, credential fields) never reach logs, exceptions, reprs or records."""

import logging
import pickle
import traceback

import pytest

from integrator import (
    AuthenticationError,
    Connection,
    ConnectionFailedError,
    IntegratorClient,
    OutcomeUnknownError,
    ValidationError,
)
from integrator.redaction import redact, redact_url
from tests.integrator.conftest import http_connection

CONNECTION_SECRET = "tenant-secret-9c2e7b"


def every_text_of(error: BaseException) -> str:
    return " ".join([str(error), repr(error), "".join(traceback.format_exception(error))])


def test_it_keeps_the_token_and_secrets_out_of_logs_errors_and_records(
    target, control, seeded, caplog
):
    caplog.set_level(logging.DEBUG)  # every logger: ours, requests', urllib3's
    calls = []
    client = IntegratorClient(
        target.api_url, target.token, on_call=calls.append, timeout=(1, 0.3), max_retry_seconds=2
    )
    seen_errors: list[BaseException] = []
    with client:
        client.get_token_info()
        client.create_connection(http_connection("shop", secret=CONNECTION_SECRET))
        control.inject_fault("error", status=503, path="/v1/tokenInfo", times=1)
        client.get_token_info()
        control.inject_fault("commit_then_drop", path="/v1/connections", method="POST", times=1)
        control.inject_fault("hang", path="/v1/integrations", hang_seconds=1)
        failing_calls = [
            lambda: client.create_connection(http_connection("x", secret=CONNECTION_SECRET)),
            lambda: client.list_integrations(),
            lambda: client.create_connection(
                {"type": "filesystem", "name": "F", "password": CONNECTION_SECRET}
            ),
        ]
        for call in failing_calls:
            with pytest.raises((OutcomeUnknownError, ConnectionFailedError, ValidationError)) as e:
                call()
            seen_errors.append(e.value)
        client_repr = repr(client)

    texts = [caplog.text, client_repr, *map(repr, calls)]
    texts += [every_text_of(error) for error in seen_errors]
    for text in texts:
        assert target.token not in text
        assert CONNECTION_SECRET not in text
    assert "Bearer" not in caplog.text
    assert len(calls) >= 6  # the records were produced
    assert all(error.__cause__ is None and error.__suppress_context__ for error in seen_errors[:2])


def test_it_keeps_a_refused_token_out_of_the_error_and_its_pickled_form(target):
    wrong_token = "wrong-token-5d1f3e"
    client = IntegratorClient(target.api_url, wrong_token)
    with client, pytest.raises(AuthenticationError) as caught:
        client.get_token_info()
    assert wrong_token not in every_text_of(caught.value)
    restored = pickle.loads(pickle.dumps(caught.value))  # Celery pickles task errors
    assert (type(restored), restored.status, restored.code) == (
        AuthenticationError,
        401,
        caught.value.code,
    )


def test_it_shows_no_document_contents_in_resource_reprs():
    connection = Connection.from_api(
        http_connection("shop", secret=CONNECTION_SECRET) | {"_id": "c1"}
    )
    assert CONNECTION_SECRET not in repr(connection)
    assert CONNECTION_SECRET in str(connection.raw)  # still there for the caller


def test_it_masks_secret_fields_and_query_values():
    document = {
        "http": {
            "auth": {"token": {"token": "t0k", "location": "header"}, "basic": {"password": "p"}}
        },
        "netsuite": {"tokenSecret": "s", "account": "ACME"},
        "list": [{"clientSecret": "c"}],
    }
    masked = redact(document)
    assert masked["http"]["auth"]["token"] == {"token": "******", "location": "header"}
    assert masked["http"]["auth"]["basic"]["password"] == "******"
    assert masked["netsuite"] == {"tokenSecret": "******", "account": "ACME"}
    assert masked["list"] == [{"clientSecret": "******"}]
    assert redact_url("/v1/jobs?_flowId=f1&api_key=k3y&sig=abc") == (
        "/v1/jobs?_flowId=f1&api_key=******&sig=******"
    )


def test_it_records_paths_with_ids_and_without_query_secrets(new_client, control, seeded):
    calls = []
    client = new_client(on_call=calls.append)
    client.list_jobs(flow_id=seeded["flowIds"][0], extra={"access_token": "q-secret"})
    assert calls[-1].path.startswith(f"/v1/jobs?_flowId={seeded['flowIds'][0]}")
    assert "q-secret" not in calls[-1].path
    assert (calls[-1].method, calls[-1].status, calls[-1].attempt) == ("GET", 200, 1)
    assert calls[-1].duration_ms > 0
