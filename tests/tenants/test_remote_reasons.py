"""What the form says when an app refuses the credentials."""

import pytest
from django.utils import translation

from tenants.remote_reasons import remote_reason


@pytest.mark.parametrize(
    ("message", "summary_start"),
    [
        ('401 Unauthorized: {"message": "Bad key."}', "Shop did not accept these credentials"),
        ("403 Forbidden: no", "Shop did not accept these credentials"),
        ("404 Not Found: <html>", "Shop was reached, but not at this address"),
        ("connect ECONNREFUSED 127.0.0.1:9", "We could not reach Shop at this address"),
        ("getaddrinfo ENOTFOUND shop.invalid", "We could not reach Shop at this address"),
        ("Timed out after 10s calling shop.test:443", "Shop did not answer in time"),
        ("502 Bad Gateway: upstream", "Shop had a problem answering"),
        ("something else entirely", "Shop did not accept these details"),
        (
            "Refreshing the OAuth 2 access token failed: 400 invalid_grant",
            "Shop no longer gives us access",
        ),
    ],
)
def test_it_says_in_plain_words_why(message, summary_start):
    assert remote_reason(message=message, app="Shop", secrets=[]).summary.startswith(summary_start)


def test_it_keeps_the_apps_own_message_as_detail():
    reason = remote_reason(
        message='401 Unauthorized: {"error": "unauthorized", "message": "Invalid API key."}',
        app="Shop",
        secrets=[],
    )

    assert reason.detail == "401 Unauthorized: Invalid API key."


def test_it_masks_the_secrets_that_were_sent_and_bounds_the_length():
    reason = remote_reason(
        message="401 Unauthorized: key sk-123 rejected; key sk-123456 rejected" + "x" * 400,
        app="Shop",
        secrets=["sk-123", "sk-123456", ""],
    )

    assert "sk-123" not in reason.detail
    assert reason.detail.startswith("401 Unauthorized: key •••••• rejected; key •••••• rejected")
    assert len(reason.detail) == 300


def test_it_drops_wording_that_names_the_platform():
    reason = remote_reason(
        message="integrator.io could not connect with these values.", app="Shop", secrets=[]
    )

    assert reason.detail == ""


def test_an_oauth_consent_withdrawn_at_the_app_asks_for_a_new_one_in_german():
    # The README's demo: the user removes the app in their CRM, the next check fails. German
    # readers get the same advice, not the fallback about "details" they never typed.
    with translation.override("de"):
        reason = remote_reason(
            message="Refreshing the OAuth 2 access token failed: 400 invalid_grant",
            app="CRM",
            secrets=[],
        )

    assert reason.summary.startswith("CRM gewährt uns keinen Zugriff mehr")
    assert "erneut" in reason.summary


@pytest.mark.parametrize(
    "message",
    [
        "Service Unavailable",
        "Internal Server Error",
        "Bad Gateway: upstream closed the connection",
        "Gateway Time-out",
        "  service unavailable",
    ],
)
def test_a_5xx_reason_phrase_without_its_number_asks_to_try_again(message):
    # Not the credentials fallback: the app failed, the user's key may be fine.
    summary = remote_reason(message=message, app="Shop", secrets=[]).summary

    assert summary.startswith(("Shop had a problem answering", "Shop did not answer in time"))
    assert "try again in a moment" in summary


@pytest.mark.parametrize(
    ("message", "reached"),
    [
        ("connect ECONNREFUSED 127.0.0.1:1", False),
        ("getaddrinfo ENOTFOUND shop.invalid", False),
        ("Timed out after 10s calling shop.test:443", False),
        ("Could not connect to 127.0.0.1:9620: ssl:default [SSL: WRONG_VERSION_NUMBER]", False),
        ('401 Unauthorized: {"message": "Bad key."}', True),
        ("Service Unavailable", True),
    ],
)
def test_it_tells_whether_the_app_itself_answered(message, reached):
    # The page credits the detail to the app only when the app said it.
    assert remote_reason(message=message, app="Shop", secrets=[]).app_reached is reached


def test_a_tls_mismatch_is_explained_in_plain_words_in_german():
    # OpenSSL's "wrong version number": https spoken to a server that answers http.
    message = (
        "Could not connect to 127.0.0.1:9620: Cannot connect to host 127.0.0.1:9620 "
        "ssl:default [[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)]"
    )
    with translation.override("de"):
        reason = remote_reason(message=message, app="Shop", secrets=[])

    assert reason.summary == (
        "Shop antwortet unter dieser Adresse nicht über https. Wenn die Adresse mit "
        "http:// beginnt, geben Sie sie mit http:// ein."
    )
    assert "WRONG_VERSION_NUMBER" in reason.detail
