"""No credential reaches a log line, whatever way it is passed to the logger."""

import io
import json
import logging

import pytest

from config.structured_logging import ContextFilter, JsonFormatter, RedactionFilter
from core.redaction import REDACTED, redact_text, redact_url, redact_value

TOKEN = "tok_9f8e7d6c5b4a3f2e1d0c"
PASSWORD = "hunter2-correct-horse"
API_KEY = "Abc123De.fGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.fixture
def captured():
    """A logger wired exactly like the service's console handler, writing JSON to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_it_redacts_secrets_in_messages_args_and_extras(captured):
    logger, stream = captured
    logger.info(
        "calling %s with headers %s",
        "https://api.example.com/v1/connections?token=" + TOKEN,
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        extra={
            "body": {"http": {"auth": {"basic": {"username": "u", "password": PASSWORD}}}},
            "api_key": API_KEY,
            "note": f"Api-Key {API_KEY}",
        },
    )
    line = stream.getvalue()
    for secret in (TOKEN, PASSWORD, API_KEY):
        assert secret not in line
    record = json.loads(line)
    assert record["body"]["http"]["auth"]["basic"] == {"username": "u", "password": REDACTED}
    assert record["api_key"] == REDACTED
    assert "application/json" in record["message"]  # what is not secret stays readable


def test_it_redacts_secrets_in_tracebacks(captured):
    logger, stream = captured
    try:
        raise ValueError(f"login failed for password={PASSWORD} with Authorization: {TOKEN}")
    except ValueError:
        logger.exception("request failed")
    output = stream.getvalue()
    assert "ValueError" in output
    assert PASSWORD not in output
    assert TOKEN not in output


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {TOKEN}",
        f"authorization={TOKEN}",
        f"{{'password': '{PASSWORD}'}}",
        f'{{"bearerToken": "{TOKEN}"}}',
        f"GET /v1/things?apikey={API_KEY}&page=2",
        f"Api-Key {API_KEY}",
    ],
)
def test_it_redacts_each_common_form(text):
    redacted = redact_text(text)
    assert TOKEN not in redacted and PASSWORD not in redacted and API_KEY not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    [
        "Basic dXNlcjpodW50ZXIy",
        "basic YWJjOmRl",  # abc:de, letters only
        "Basic dXNlcjpwdw==",
        "sent Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
        "token abcdefghijklmnopqrstu",  # letters only, but as long as a credential
        "Authorization: Token plainword",  # a header, whatever its value
    ],
)
def test_basic_and_token_values_that_look_like_credentials_are_redacted(text):
    assert REDACTED in redact_text(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # An app's answer that names the key it refused, as a run's error shows it on the
        # customer's integration page: the key was shown as it was.
        (
            "Authentication failed: API key sk_live_abcdef1234567890abcdef is invalid",
            "sk_live_abcdef1234567890abcdef",
        ),
        ("api-key 9944b09199c62bcf is unknown", "9944b09199c62bcf"),
        ("the password hunter2hunter2 was refused", "hunter2hunter2"),
        ("client secret Xk9_live.Qz7 rejected", "Xk9_live.Qz7"),
    ],
)
def test_a_key_password_or_secret_named_before_it_is_redacted(text, secret):
    assert secret not in redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "The API key is invalid",
        "Your password was changed; connect again",
        "The client secret expired",
        "API key required",
        "Invalid API key provided",
    ],
)
def test_prose_that_names_a_key_password_or_secret_stays_readable(text):
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Refreshing the OAuth 2 access token failed: 400 invalid_grant",
        "Basic authentication is not enabled for this connection",
        "The token expired; connect again",
        "The token expired.",
        "Token refresh failed: invalid_grant",
    ],
)
def test_prose_that_names_a_token_stays_readable(text):
    # What integrator.io or an app says about a token, shown to a customer or an operator:
    # "the access token [REDACTED]: 400" said nothing.
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "the bearer token is missing",  # integrator.io's own words, in the worker's log
        "Bearer token required",
        "Invalid bearer authentication header",
        "The Api-Key header is missing",
        "Authorization header must use the Bearer scheme",
        "401: the bearer token.",
        "no bearer token, (missing)",
    ],
)
def test_prose_that_names_the_bearer_scheme_stays_readable(text):
    # Was "the bearer [REDACTED] is missing": the word after "Bearer" was taken for a token.
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Bearer plainword", "plainword"),
        ("bearer abcdefgh", "abcdefgh"),
        ("sent with bearer token abc12345", "abc12345"),
        ("Api-Key tokenvalue.x", "tokenvalue.x"),
        ("Bearer tokenize", "tokenize"),
        ("Bearer token-abc123", "token-abc123"),
        ("Bearer value.xyz", "value.xyz"),
    ],
)
def test_a_bearer_value_stays_masked_whatever_prose_surrounds_it(text, secret):
    assert secret not in redact_text(text)


def test_it_carries_request_and_job_context(captured):
    from core import log_context

    logger, stream = captured
    token = log_context.request_id.set("req-1")
    try:
        with log_context.bound(tenant="acme", job=42):
            logger.info("step done")
    finally:
        log_context.request_id.reset(token)
    record = json.loads(stream.getvalue())
    assert (record["request_id"], record["tenant_id"], record["job_id"]) == ("req-1", "acme", "42")


@pytest.mark.parametrize(
    "text",
    [
        f"Not Found: /connect/{TOKEN}/",
        f'"GET /connect/{TOKEN}/status.json?poll=1 HTTP/1.1" 404 179',
        f'"http://localhost:8000/connect/{TOKEN}/"',
        f'{{"path": "/connect/{TOKEN}/status/"}}',
        f"redirect to https://provisioning.example.com/connect/{TOKEN}/",
    ],
)
def test_it_redacts_credential_form_paths(text):
    redacted = redact_text(text)
    assert TOKEN not in redacted
    assert f"/connect/{REDACTED}/" in redacted


@pytest.mark.parametrize(
    "path",
    [
        "/static/connect/connect.css",
        "/static/connect/connect.4f2a9c1b.js",
        "/admin/connect/overview/",
        "/connect/oauth/callback",  # the OAuth callback: a fixed path (code and state masked)
    ],
)
def test_it_leaves_other_paths_that_name_connect_alone(path):
    # Only a path whose first segment is /connect/ is a credential form; its token is the
    # second segment. A static file of the forms is no secret, and a log that hides it hides
    # which file failed to load.
    line = f'"GET {path} HTTP/1.1" 200 5120'
    assert redact_text(line) == line


def test_an_oauth_callbacks_code_and_state_are_redacted_but_not_every_code():
    line = 'GET /connect/oauth/callback?code=crmcode-abc123&state=Zz9_-x HTTP/1.1" 200'
    redacted = redact_text(line)
    assert "crmcode-abc123" not in redacted and "Zz9_-x" not in redacted
    assert f"?code={REDACTED}&state={REDACTED}" in redacted
    assert redact_text("errorCode=timeout statusCode=503") == "errorCode=timeout statusCode=503"


def test_a_moment_about_a_secret_is_no_secret():
    assert redact_value("2026-01-02T03:04:05Z", key="secret_rotated_at") == "2026-01-02T03:04:05Z"
    assert redact_value("2026-01-02", key="TOKEN_EXPIRES_AT") == "2026-01-02"
    assert redact_value(TOKEN, key="secret") == REDACTED
    assert redact_value(TOKEN, key="refresh_token") == REDACTED
    assert redact_value(TOKEN, key="secret_salt") == REDACTED


def test_a_request_on_the_record_is_written_without_its_link_token(captured):
    """Django logs every 4xx with the request object as an extra (`django.request`): its repr
    holds the path, and a credential form's path holds the link's bearer token."""
    from django.test import RequestFactory

    logger, stream = captured
    link_token = "eyJsIjoiNzdiZmY2MjU2MzY5NDg3N2ExODdjNjEx:1xY9Ai:S-ElP6BbEXsbHX0Sl1FizPag"
    request = RequestFactory().post(f"/connect/{link_token}/")
    record_seen = []
    logger.addFilter(lambda record: record_seen.append(record) or True)

    logger.warning("Forbidden: %s", request.path, extra={"status_code": 403, "request": request})

    line = stream.getvalue()
    assert link_token not in line
    written = json.loads(line)
    assert written["request"] == f"<WSGIRequest: POST '/connect/{REDACTED}/'>"
    assert written["message"] == f"Forbidden: /connect/{REDACTED}/"
    # The handlers that use the request itself (an error report, say) still get it.
    assert record_seen[0].request is request


# A URL shown to people (the audit log, the webhooks admin): scheme, host, port and path only,
# every query value masked, and path segments that look like credentials.
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # A Slack incoming webhook: everything after /services/ is ids and the secret.
        (
            "https://hooks.slack.com/services/T000/B000/SLACKPATHSECRET",
            f"https://hooks.slack.com/services/{REDACTED}/{REDACTED}/{REDACTED}",
        ),
        (
            "https://hooks.example.com/services/T000/B000/XXXXSECRETPATH?token=QTOKEN1",
            f"https://hooks.example.com/services/{REDACTED}/{REDACTED}/{REDACTED}?token={REDACTED}",
        ),
        (
            "https://discord.com/api/webhooks/123456789012345678/abc-DEF_ghi",
            f"https://discord.com/api/webhooks/{REDACTED}/{REDACTED}",
        ),
        # Every query value, whatever its name; names stay.
        (
            "https://h.example.com/x?secret=QSECRET1&access_token=QSECRET2&key=QSECRET3"
            "&signature=QSECRET4",
            f"https://h.example.com/x?secret={REDACTED}&access_token={REDACTED}"
            f"&key={REDACTED}&signature={REDACTED}",
        ),
        (
            "https://h.example.com/x?api_key=QSECRET5&sig=abc",
            f"https://h.example.com/x?api_key={REDACTED}&sig={REDACTED}",
        ),
        ("https://h.example.com/x?abc&empty=", f"https://h.example.com/x?{REDACTED}&empty="),
        # A random-looking segment anywhere in the path: 12+ characters with an uppercase
        # letter or a digit.
        (
            "https://app.example.com/in/a1b2c3d4e5f6a7b8/events",
            f"https://app.example.com/in/{REDACTED}/events",
        ),
        (
            "https://app.example.com/in/SLACKPATHSECRET",
            f"https://app.example.com/in/{REDACTED}",
        ),
        # The authority: a password, and a token used as the user name.
        ("https://u:pw@idp.example.com/token", f"https://u:{REDACTED}@idp.example.com/token"),
        (
            "https://ghp_ABCdef1234567890@git.example.com/x",
            f"https://{REDACTED}@git.example.com/x",
        ),
        ("https://[::1]:8443/hook#QFRAGMENT", f"https://[::1]:8443/hook#{REDACTED}"),
        # What identifies an endpoint stays readable.
        (
            "https://app.example.com:8443/webhooks/provisioning-events",
            "https://app.example.com:8443/webhooks/provisioning-events",
        ),
        ("http://h/hook", "http://h/hook"),
        ("https://app.example.com/hooks/", "https://app.example.com/hooks/"),
        ("https://app.example.com/api/v1/callbacks", "https://app.example.com/api/v1/callbacks"),
    ],
)
def test_a_url_is_shown_with_only_what_identifies_its_endpoint(url, shown):
    assert redact_url(url) == shown


def test_integrator_ios_message_about_the_missing_bearer_token_reaches_the_log_whole(captured):
    logger, stream = captured
    logger.warning("integrator.io answered 401: %s", "the bearer token is missing")

    record = json.loads(stream.getvalue())
    assert record["message"] == "integrator.io answered 401: the bearer token is missing"


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Token plainword",
        "Authorization: Basic plainword",
        "authorization=Digest plainword",
        "Proxy-Authorization: Negotiate plainword",
    ],
)
def test_an_authorization_headers_value_is_masked_after_its_scheme(text):
    # The scheme was masked and the credential after it left: "Authorization: [REDACTED]
    # plainword".
    assert "plainword" not in redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        # The outage probe's line while integrator.io fails: "[REDACTED] has been failing".
        "integrator.io account default still unavailable: GET /v1/tokenInfo: integrator.io "
        "has been failing; calls are held until the next probe in 0.6s",
        "GET /v1/tokenInfo: 401 Unauthorized",
    ],
)
def test_an_endpoint_named_after_a_token_is_no_key_and_what_follows_it_stays(text):
    assert redact_text(text) == text


def test_a_key_after_a_paths_separator_in_a_query_is_still_one():
    assert redact_text(f"GET /v1/tokenInfo?token={TOKEN}") == f"GET /v1/tokenInfo?token={REDACTED}"
