"""Bad input never makes a 5xx: every odd body gets a 4xx in the envelope."""

import pytest

ODD_BODIES = [
    [],
    "text",
    7,
    None,
    {"name": 1},
    {"name": ["x"]},
    {"name": "x", "type": "http", "http": {"baseURI": "h", "mediaType": "json", "auth": "x"}},
    {"name": "x", "type": "http", "http": {"baseURI": "h", "mediaType": "json", "ping": []}},
    {"name": "x", "type": "http", "http": {"baseURI": "h", "mediaType": "json", "headers": {}}},
    {
        "name": "x",
        "type": "rest",
        "rest": {"baseURI": 5, "mediaType": "json", "authType": "basic", "basicAuth": 1},
    },
    {"name": "x", "pageGenerators": "x"},
    {"name": "x", "pageGenerators": [1]},
    {"name": "x", "pageGenerators": [{"_exportId": 5}]},
    {"name": "x", "pageProcessors": [{"type": "import", "_importId": None}]},
    {"name": "x", "routers": [{"branches": "x"}]},
    {"name": "x", "routers": [{"branches": [1]}]},
    {"name": "x", "schedule": 5},
    {"name": "x", "timezone": 5},
    {"name": "x", "disabled": "no"},
    {"name": "x", "settings": "x"},
    {"name": "x", "description": 5},
    {"name": "x", "_connectionId": 5},
    {"name": "x", "pageSize": "big"},
    {"name": "x", "connectionMap": "x", "_integrationId": 5},
]
COLLECTIONS = ["connections", "integrations", "flows", "exports", "imports", "iclients"]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_it_answers_4xx_to_odd_bodies(api, control, collection):
    ids = control.seed()
    target = {
        "connections": ids["connectionIds"]["shop"],
        "integrations": ids["integrationId"],
        "flows": ids["flowIds"][0],
        "exports": ids["exportIds"][0],
        "imports": ids["importIds"][0],
    }.get(collection)
    for body in ODD_BODIES:
        calls = [api.post(f"/{collection}", json=body)]
        if target:
            calls.append(api.put(f"/{collection}/{target}", json=body))
            calls.append(api.patch(f"/{collection}/{target}", json=body))
            calls.append(api.post(f"/{collection}/{target}/clone", json=body))
        for response in calls:
            assert response.status_code < 500, (collection, body, response.text)
            if response.status_code >= 400:
                assert response.json()["errors"][0]["message"]


def test_it_answers_4xx_to_odd_action_bodies(api, control):
    ids = control.seed()
    connection = ids["connectionIds"]["shop"]
    flow = ids["flowIds"][0]
    for body in ODD_BODIES:
        for response in (
            api.post("/connections/ping", json=body),
            api.post(f"/connections/{connection}/export/pages", json=body),
            api.post(f"/connections/{connection}/import", json=body),
            api.post(f"/flows/{flow}/run", json=body),
            api.put(f"/state/{'k'}", json=body),
            api.get("/jobs", params={"createdAt_lte": str(body)[:20], "numError_gte": "x"}),
        ):
            assert response.status_code < 500, (body, response.request.url, response.text)
    for params in ({"limit": "-1"}, {"skip": "x"}, {"include": ""}, {"exclude": "a..b"}):
        assert api.get("/integrations", params=params).status_code in (200, 400)
