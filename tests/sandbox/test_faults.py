"""Injected faults and latency, observed from a plain requests client."""

import concurrent.futures
import time

import pytest
import requests


@pytest.fixture
def client(sandbox_clean):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox_clean.token}"
    return session


def test_it_answers_an_injected_5xx_a_limited_number_of_times(sandbox_clean, client):
    control = sandbox_clean.control
    control.inject_fault("error", status=502, path="/v1/integrations", method="GET", times=2)
    url = sandbox_clean.api_url + "/integrations"
    statuses = [client.get(url, timeout=5).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    control.inject_fault("error", status=500, path="/v1/integrations", method="POST")
    failed = client.post(url, json={"name": "x"}, timeout=5)
    assert failed.status_code == 500
    assert failed.json()["errors"][0]["code"] == "internal_error"
    assert client.get(url, timeout=5).status_code == 200
    assert control.counts()["integrations"] == 0


def test_it_fires_by_probability(sandbox_clean, client):
    sandbox_clean.control.inject_fault("error", status=503, probability=0.5)
    url = sandbox_clean.api_url + "/tokenInfo"
    statuses = [client.get(url, timeout=5).status_code for _ in range(60)]
    assert 10 <= statuses.count(503) <= 50
    assert set(statuses) == {200, 503}


def test_it_answers_a_429_storm(sandbox_clean, client):
    sandbox_clean.control.inject_fault("rate_limit", path="/v1/flows*", retry_after=3)
    response = client.get(sandbox_clean.api_url + "/flows", timeout=5)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json()["errors"][0]["code"] == "rate_limited"
    assert client.get(sandbox_clean.api_url + "/tokenInfo", timeout=5).status_code == 200


def test_it_hangs_past_the_client_timeout_without_blocking_others(sandbox_clean, client):
    sandbox_clean.control.inject_fault("hang", path="/v1/integrations", hang_seconds=3)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        hanging = pool.submit(client.get, sandbox_clean.api_url + "/integrations", timeout=0.5)
        started = time.monotonic()
        other = requests.get(
            sandbox_clean.api_url + "/tokenInfo",
            headers={"Authorization": f"Bearer {sandbox_clean.token}"},
            timeout=5,
        )
        assert other.status_code == 200
        assert time.monotonic() - started < 0.4
        with pytest.raises(requests.ReadTimeout):
            hanging.result()


def test_it_drops_the_connection_before_doing_anything(sandbox_clean, client):
    sandbox_clean.control.inject_fault("drop", path="/v1/integrations", method="POST", times=1)
    with pytest.raises(requests.ConnectionError):
        client.post(sandbox_clean.api_url + "/integrations", json={"name": "x"}, timeout=5)
    assert sandbox_clean.control.counts()["integrations"] == 0


def test_it_commits_then_drops_the_connection(sandbox_clean, client):
    control = sandbox_clean.control
    ids = control.seed()
    before = control.counts()["integrations"]
    control.inject_fault("commit_then_drop", path="/v1/integrations/*/clone", times=1)
    url = f"{sandbox_clean.api_url}/integrations/{ids['integrationId']}/clone"
    with pytest.raises(requests.ConnectionError):
        client.post(url, json={"name": "Tenant 7"}, timeout=5)
    # The clone happened although the client saw no answer; a blind retry duplicates it.
    after = control.objects("integrations")["objects"]["integrations"]
    assert [i["name"] for i in after].count("Tenant 7") == 1
    assert len(after) == before + 1
    assert client.post(url, json={"name": "Tenant 7"}, timeout=5).status_code == 201
    names = [i["name"] for i in control.objects("integrations")["objects"]["integrations"]]
    assert names.count("Tenant 7") == 2
    logged = [r for r in control.requests_log() if r["path"].endswith("/clone")]
    assert [r["dropped"] for r in logged] == [True, False]


def test_it_adds_latency_without_serialising_requests(sandbox_clean):
    sandbox_clean.control.set_latency(200, path="/v1/*")
    url = sandbox_clean.api_url + "/tokenInfo"
    headers = {"Authorization": f"Bearer {sandbox_clean.token}"}

    def call() -> float:
        started = time.monotonic()
        assert requests.get(url, headers=headers, timeout=10).status_code == 200
        return time.monotonic() - started

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        durations = list(pool.map(lambda _: call(), range(64)))
    wall = time.monotonic() - started
    assert min(durations) >= 0.2
    # 64 requests of 200 ms each would take 12.8 s one after another.
    assert wall < 2.0, wall


def test_it_applies_rules_by_method_and_reports_them(sandbox_clean, client):
    control = sandbox_clean.control
    rule = control.inject_fault("error", status=503, path="/v1/connections", method="POST")
    assert client.get(sandbox_clean.api_url + "/connections", timeout=5).status_code == 204
    assert (
        client.post(sandbox_clean.api_url + "/connections", json={}, timeout=5).status_code == 503
    )
    assert control.faults()[0]["fired"] == 1
    sandbox_clean.control.session.delete(
        f"{sandbox_clean.base_url}/_sandbox/faults/{rule['id']}", timeout=5
    ).raise_for_status()
    assert control.faults() == []


def test_a_caller_that_hangs_up_mid_request_is_logged_as_gone_not_as_a_sandbox_error(
    sandbox_clean,
):
    """A worker killed while sending a request (the faults a person injects into the service)
    left its request half read: the sandbox logged 'unexpected error' with a traceback and its
    request log said it answered 500, as if the sandbox had failed. The caller went away:
    the request is logged as dropped, with no answer, and nothing is an error."""
    import socket
    from urllib.parse import urlsplit

    path = f"/v1/integrations/{sandbox_clean.control.seed()['integrationId']}"
    address = urlsplit(sandbox_clean.base_url)
    with socket.create_connection((address.hostname, address.port)) as raw:
        raw.sendall(
            (
                f"PATCH {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                f"Authorization: Bearer {sandbox_clean.token}\r\n"
                'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n[{"op":'
            ).encode()
        )
        time.sleep(0.3)
    deadline = time.monotonic() + 5
    entries = []
    while time.monotonic() < deadline and not entries:
        entries = [e for e in sandbox_clean.control.requests_log() if e["path"] == path]
        time.sleep(0.1)

    assert len(entries) == 1, entries
    assert entries[0]["status"] is None
    assert entries[0]["dropped"] is True
