"""What a failed job and its tenant say about the error (provisioning.runner.describe_error)."""

from core.errors import ApplicationError
from integrator.errors import RateLimitedError, ServerError
from provisioning.errors import StepFailed
from provisioning.runner import describe_error


def test_a_step_failure_keeps_its_code_and_words():
    error = StepFailed("settings_invalid", "store_id is required.")
    assert describe_error(error) == ("settings_invalid", "store_id is required.")


def test_an_application_error_lists_its_fields_in_order():
    error = ApplicationError(
        "Invalid settings.", code="invalid_settings", fields={"b": ["Too big."], "a": ["Bad."]}
    )
    assert describe_error(error) == ("invalid_settings", "Invalid settings. (a: Bad.; b: Too big.)")
    assert describe_error(ApplicationError("Plain.")) == ("invalid_request", "Plain.")


def test_a_client_error_says_where_and_what_in_snake_case():
    error = ServerError("Internal error", method="PUT", path="/v1/flows/f1", status=500)
    assert describe_error(error) == (
        "server",
        "integrator.io: PUT /v1/flows/f1 -> 500: Internal error",
    )
    assert describe_error(RateLimitedError("Slow down", status=429))[0] == "rate_limited"


def test_anything_else_is_named_by_its_class():
    assert describe_error(KeyError()) == ("key_error", "KeyError")
    assert describe_error(ValueError("bad value")) == ("value_error", "bad value")
