"""Each error class, produced by the matching behaviour of the remote (or of the network)."""

import pytest

from integrator import (
    AuthenticationError,
    ConnectionFailedError,
    IntegratorClient,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    UnavailableError,
    ValidationError,
)
from tests.integrator.conftest import closed_port


def test_it_raises_authentication_error_for_a_refused_token(target):
    client = IntegratorClient(target.api_url, "not-a-valid-token")
    with client, pytest.raises(AuthenticationError) as caught:
        client.get_token_info()
    assert caught.value.status == 401
    assert not caught.value.retryable


def test_it_raises_not_found_error(client, seeded_or_live):
    with pytest.raises(NotFoundError) as caught:
        client.get_flow("0" * 24)
    assert caught.value.status == 404
    assert caught.value.errors  # the envelope was read


def test_it_raises_validation_error_with_the_remote_list(client, control):
    with pytest.raises(ValidationError) as caught:
        client.create_integration({"description": "no name"})
    assert caught.value.status == 422
    assert caught.value.errors[0].field == "name"
    assert caught.value.errors[0].code == "missing_required_field"


def test_it_raises_rate_limited_error_with_retry_after(new_client, control):
    control.configure(rate_limit_burst=1, rate_limit_per_second=0.5)
    client = new_client(max_attempts=1)
    client.get_token_info()
    with pytest.raises(RateLimitedError) as caught:
        client.get_token_info()
    assert caught.value.status == 429
    assert caught.value.retryable
    assert caught.value.retry_after >= 1
    assert caught.value.code == "rate_limited"


@pytest.mark.parametrize("status", [502, 503, 504])
def test_it_raises_unavailable_error_for_gateway_statuses(new_client, control, status):
    control.inject_fault("error", status=status, path="/v1/tokenInfo")
    client = new_client(max_attempts=1)
    with pytest.raises(UnavailableError) as caught:
        client.get_token_info()
    assert (caught.value.status, caught.value.retryable) == (status, True)


def test_it_retries_a_500_on_an_idempotent_call_then_raises_server_error(new_client, control):
    """A 500 may pass (the flag says so, and the job level relies on the same flag): a GET is
    sent again, up to the attempts allowed, with backoff."""
    control.inject_fault("error", status=500, path="/v1/tokenInfo")
    calls = []
    client = new_client(on_call=calls.append, max_attempts=3)
    with pytest.raises(ServerError) as caught:
        client.get_token_info()
    assert caught.value.retryable
    assert [c.status for c in calls] == [500, 500, 500]


def test_it_never_sends_a_post_again_after_a_500(new_client, control):
    control.inject_fault("error", status=500, path="/v1/integrations", method="POST")
    calls = []
    client = new_client(on_call=calls.append, max_attempts=3)
    with pytest.raises(OutcomeUnknownError):
        client.create_integration({"name": "Tenant 1"})
    assert len(calls) == 1


def test_it_raises_connection_failed_error_when_nothing_listens(target):
    client = IntegratorClient(f"http://127.0.0.1:{closed_port()}/v1", target.token, max_attempts=2)
    with client, pytest.raises(ConnectionFailedError) as caught:
        client.get_token_info()
    assert caught.value.sent is False
    assert caught.value.retryable


def test_it_raises_connection_failed_error_when_the_connection_drops(new_client, control):
    control.inject_fault("drop", path="/v1/tokenInfo")
    client = new_client(max_attempts=2)
    with pytest.raises(ConnectionFailedError) as caught:
        client.get_token_info()
    assert caught.value.sent is True


def test_it_raises_outcome_unknown_error_for_a_post_answered_with_503(new_client, control):
    control.inject_fault("error", status=503, path="/v1/integrations", method="POST")
    client = new_client()
    with pytest.raises(OutcomeUnknownError) as caught:
        client.create_integration({"name": "Tenant 1"})
    assert caught.value.status == 503
    assert not caught.value.retryable
    posts = [e for e in control.requests_log() if e["method"] == "POST"]
    assert len(posts) == 1  # not sent again
