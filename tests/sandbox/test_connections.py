"""Connections: CRUD, per-type validation, secrets masked on every response."""

from tests.sandbox.payloads import http_connection

MASK = "******"


def test_it_creates_an_http_connection_and_masks_its_token(api, sandbox_clean):
    # Conformance case 6.
    body = http_connection("https://example.com", "secret")
    response = api.post("/connections", json=body)
    assert response.status_code == 201
    created = response.json()
    assert len(created["_id"]) == 24
    assert created["http"]["auth"]["token"]["token"] == MASK
    stored = sandbox_clean.control.objects("connections", reveal=True)["objects"]["connections"]
    assert stored[0]["http"]["auth"]["token"]["token"] == "secret"


def test_it_shows_a_rest_connection_like_the_docs(api):
    # Conformance case 2.
    body = {
        "type": "rest",
        "name": "Slack API",
        "rest": {
            "baseURI": "https://slack.com/api",
            "bearerToken": "xoxb-1",
            "tokenLocation": "url",
            "tokenParam": "token",
            "mediaType": "urlencoded",
            "authType": "token",
            "pingRelativeURI": "api.test",
        },
    }
    created = api.create("connections", body)
    fetched = api.get(f"/connections/{created['_id']}").json()
    assert fetched["type"] == "rest"
    assert fetched["rest"]["baseURI"] == "https://slack.com/api"
    assert fetched["rest"]["bearerToken"] == MASK
    assert fetched["rest"]["authType"] == "token"
    assert fetched["rest"]["tokenLocation"] == "url"
    assert fetched["rest"]["pingRelativeURI"] == "api.test"
    assert fetched["queues"] == [{"name": created["_id"], "size": 0}]


def test_it_masks_secrets_on_put_patch_list_and_get(api):
    created = api.create("connections", http_connection("https://example.com", "secret"))
    path = f"/connections/{created['_id']}"
    put_body = http_connection("https://example.org", "other")
    put = api.put(path, json=put_body)
    assert put.status_code == 200
    assert put.json()["http"]["auth"]["token"]["token"] == MASK
    assert put.json()["http"]["baseURI"] == "https://example.org"
    patch = api.patch(path, json=[{"op": "replace", "path": "/name", "value": "Renamed"}])
    assert patch.status_code == 204
    listed = api.get("/connections").json()
    assert listed[0]["name"] == "Renamed"
    assert listed[0]["http"]["auth"]["token"]["token"] == MASK
    assert api.get(path).json()["http"]["auth"]["token"]["token"] == MASK


def test_it_stores_a_masked_secret_sent_back_literally(api, control):
    # Echoing a fetched connection in a PUT overwrites the secret (the real API does this).
    created = api.create("connections", http_connection("https://example.com", "secret"))
    fetched = api.get(f"/connections/{created['_id']}").json()
    assert api.put(f"/connections/{created['_id']}", json=fetched).status_code == 200
    stored = control.objects("connections", reveal=True)["objects"]["connections"][0]
    assert stored["http"]["auth"]["token"]["token"] == MASK


def test_it_validates_the_required_fields_of_each_type(api):
    cases = [
        ({"type": "http", "name": "X", "http": {"mediaType": "json"}}, "http.baseURI"),
        ({"type": "http", "name": "X", "http": {"baseURI": "https://x"}}, "http.mediaType"),
        ({"type": "http", "name": "X"}, "http"),
        ({"name": "X", "http": {}}, "type"),
        ({"type": "http", "http": {"baseURI": "https://x", "mediaType": "json"}}, "name"),
        (
            {"type": "rest", "name": "X", "rest": {"baseURI": "h", "mediaType": "json"}},
            "rest.authType",
        ),
        ({"type": "netsuite", "name": "X", "netsuite": {"account": "1"}}, "netsuite.authType"),
        ({"type": "ftp", "name": "X", "ftp": {"type": "sftp", "hostURI": "h"}}, "ftp.username"),
    ]
    for body, field in cases:
        response = api.post("/connections", json=body)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["errors"][0]
        assert error["code"] == "missing_required_field"
        assert error["field"] == field


def test_it_refuses_invalid_values(api):
    cases = [
        ({"type": "nope", "name": "X", "nope": {}}, "type"),
        (
            {"type": "http", "name": "X", "http": {"baseURI": "h", "mediaType": "yaml"}},
            "http.mediaType",
        ),
        (
            {"type": "ftp", "name": "X", "ftp": {"type": "scp", "hostURI": "h", "username": "u"}},
            "ftp.type",
        ),
        ({"type": "netsuite", "name": "X", "netsuite": {"authType": "magic"}}, "netsuite.authType"),
        (
            {"type": "http", "name": "x" * 101, "http": {"baseURI": "h", "mediaType": "json"}},
            "name",
        ),
    ]
    for body, field in cases:
        response = api.post("/connections", json=body)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["errors"][0]
        assert error["code"] == "invalid_field"
        assert error["field"] == field


def test_it_requires_an_agent_for_a_filesystem_connection(api):
    # Conformance case 7.
    response = api.post("/connections", json={"type": "filesystem", "name": "F", "filesystem": {}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "The file system connection requires Agent"


def test_it_masks_netsuite_and_ftp_secrets(api):
    netsuite = api.create(
        "connections",
        {
            "type": "netsuite",
            "name": "NS",
            "netsuite": {"authType": "token", "account": "1", "tokenId": "a", "tokenSecret": "b"},
        },
    )
    assert netsuite["netsuite"]["tokenId"] == MASK
    assert netsuite["netsuite"]["tokenSecret"] == MASK
    ftp = api.create(
        "connections",
        {
            "type": "ftp",
            "name": "FTP",
            "ftp": {"type": "sftp", "hostURI": "h", "username": "u", "password": "p"},
        },
    )
    assert ftp["ftp"]["password"] == MASK
    assert ftp["ftp"]["username"] == "u"


def test_it_answers_204_for_an_empty_list_and_for_delete(api):
    # Conformance cases 8 and 9.
    empty = api.get("/connections")
    assert empty.status_code == 204
    assert empty.content == b""
    created = api.create("connections", http_connection("https://example.com", "k"))
    deleted = api.delete(f"/connections/{created['_id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(f"/connections/{created['_id']}").status_code == 404


def test_it_applies_a_json_patch_and_validates_the_result(api):
    created = api.create("connections", http_connection("https://example.com", "k"))
    path = f"/connections/{created['_id']}"
    bad = api.patch(path, json=[{"op": "remove", "path": "/http/baseURI"}])
    assert bad.status_code == 422
    assert api.get(path).json()["http"]["baseURI"] == "https://example.com"
    refused = api.patch(path, json=[{"op": "replace", "path": "/_id", "value": "x"}])
    assert refused.status_code == 422
    ok = api.patch(path, json=[{"op": "replace", "path": "/http/baseURI", "value": "https://b"}])
    assert ok.status_code == 204
    fetched = api.get(path).json()
    assert fetched["http"]["baseURI"] == "https://b"
    assert fetched["lastModified"] >= created["lastModified"]
