"""At most N credential checks per link per minute, counted in Redis."""

import pytest

from connect.submission_limit import SubmissionDecision
from tests.connect.pages import forms_by_slot


def test_it_refuses_submissions_past_the_limit_per_link(
    acme, issue_link, client, integrator, settings
):
    settings.CONNECT_SUBMISSIONS_PER_MINUTE = 3
    path, other_path = issue_link(acme).path, issue_link(acme).path
    form = forms_by_slot(client.get(path).content.decode())["shop"]
    data = form.data(store_url=integrator.demo_url("shop"), api_key="guess-1")
    integrator.control.clear_requests_log()

    statuses = [client.post(path, data).status_code for _ in range(4)]
    refused = client.post(path, data)

    assert statuses == [200, 200, 200, 429]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many attempts" in refused.content.decode()
    log = integrator.control.requests_log()
    pings = [r for r in log if r["path"].endswith("/connections/ping")]
    assert len(pings) == 3
    # Another link of the same tenant has its own budget.
    other_form = forms_by_slot(client.get(other_path).content.decode())["shop"]
    other_data = other_form.data(store_url=integrator.demo_url("shop"), api_key="guess-2")
    assert client.post(other_path, other_data).status_code == 200


def test_invalid_forms_do_not_use_up_the_limit(acme, issue_link, client, integrator, settings):
    settings.CONNECT_SUBMISSIONS_PER_MINUTE = 1
    path = issue_link(acme).path
    form = forms_by_slot(client.get(path).content.decode())["shop"]

    for _ in range(3):
        client.post(path, form.data(store_url="", api_key=""))
    response = client.post(
        path,
        form.data(store_url=integrator.demo_url("shop"), api_key=integrator.demo_keys["shop"]),
    )

    assert response.status_code == 303


@pytest.mark.parametrize(
    ("language", "seconds", "said"),
    [
        ("en", 1, "(about 1 second)."),
        ("en", 42, "(about 42 seconds)."),
        ("de", 1, "(etwa 1 Sekunde)."),
        ("de", 42, "(etwa 42 Sekunden)."),
    ],
)
def test_the_wait_is_said_with_the_right_plural(
    acme, issue_link, client, integrator, monkeypatch, language, seconds, said
):
    # The window can have a single second left: "about 1 seconds" is wrong in both languages.
    path = issue_link(acme).path
    form = forms_by_slot(client.get(path).content.decode())["shop"]
    data = form.data(store_url=integrator.demo_url("shop"), api_key="guess-1")
    refused = SubmissionDecision(allowed=False, retry_after_seconds=seconds)
    monkeypatch.setattr("connect.views.submission_acquire", lambda **_: refused)

    html = client.post(path, data, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert said in html
