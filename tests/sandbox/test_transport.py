"""Transport-level behaviour: auth, tokenInfo, error envelope, 404/415, ids and timestamps."""

import re

import requests

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_it_answers_token_info_with_the_user_id(api):
    response = api.get("/tokenInfo")
    assert response.status_code == 200
    body = response.json()
    assert OBJECT_ID.match(body["_userId"])
    assert body.get("scope") == "*"


def test_it_refuses_a_missing_or_unknown_token_with_the_envelope(sandbox_clean):
    url = sandbox_clean.api_url + "/integrations"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic xyz"}):
        response = requests.get(url, headers=headers, timeout=5)
        assert response.status_code == 401
        errors = response.json()["errors"]
        assert errors[0]["code"] == "unauthorized"
        assert errors[0]["message"]


def test_it_answers_404_with_the_envelope_for_unknown_ids_and_paths(api):
    for path in ("/integrations/5f0000000000000000000000", "/connections/nope", "/nothing"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["code"] == "not_found"


def test_it_refuses_a_body_that_is_not_json_with_415(api):
    response = api.session.post(
        api.url("/integrations"), data="name=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"


def test_it_refuses_broken_json_with_400(api):
    response = api.session.post(
        api.url("/integrations"), data="{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_json"


def test_it_gives_24_hex_ids_and_maintains_timestamps(api):
    created = api.create("integrations", {"name": "T"})
    assert OBJECT_ID.match(created["_id"])
    assert ISO_MS.match(created["createdAt"])
    assert ISO_MS.match(created["lastModified"])
    updated = api.put(f"/integrations/{created['_id']}", json={"name": "T2"}).json()
    assert updated["createdAt"] == created["createdAt"]
    assert updated["lastModified"] >= created["lastModified"]


def test_it_ignores_server_fields_sent_on_create(api):
    body = {"name": "T", "_id": "5f0000000000000000000000", "createdAt": "2001-01-01T00:00:00Z"}
    created = api.create("integrations", body)
    assert created["_id"] != "5f0000000000000000000000"
    assert not created["createdAt"].startswith("2001")


def test_it_answers_405_with_the_envelope_for_an_unknown_method(api):
    response = api.post("/tokenInfo", json={})
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "method_not_allowed"
