"""An API request that integrator.io's outage answers 503 (or its limit 429): one warning line
that says what was answered and why, as for the database being down (core/unavailable.py).

Django's own line was all an operator had: "ERROR Service Unavailable: /api/v1/tenants/acme/
check-connections", the path and nothing else, at the level of a bug.
"""

import logging

import pytest

pytestmark = pytest.mark.django_db

PATH = "/api/v1/tenants/{}/check-connections"


def test_an_integrator_outage_is_one_warning_with_the_code_and_the_reason(
    api, account, make_tenant, settings, caplog
):
    # The request's budget runs out while integrator.io hangs (a cut-short call opens no
    # breaker, so the next tests find it closed).
    settings.INTEGRATOR_REQUEST_BUDGET_SECONDS = 1.0
    settings.INTEGRATOR_TIMEOUT_SECONDS = 5.0
    make_tenant("acme")
    account.control.inject_fault("hang", path="/v1/connections/*/ping", hang_seconds=4)

    with caplog.at_level(logging.INFO):
        response = api.post(PATH.format("acme"))

    assert response.status_code == 503, response.content
    message = response.json()["error"]["message"]
    about = [r for r in caplog.records if r.name in ("django.request", "api.exception_handler")]
    assert [(r.levelname, r.name) for r in about] == [("WARNING", "api.exception_handler")]
    assert about[0].getMessage() == f"answered 503 integrator_unavailable: {message}"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
