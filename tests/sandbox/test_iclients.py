"""iClients: CRUD with every documented secret masked."""

MASK = "******"


def test_it_masks_every_iclient_secret(api):
    # Conformance case 30.
    body = {
        "name": "Apps",
        "provider": "custom",
        "amazonmws": {"accessKeyId": "id", "secretKey": "s1"},
        "netsuite": {"consumerKey": "s2", "consumerSecret": "s3"},
        "ebay": {"appId": "a", "certId": "s4"},
        "oauth2": {"clientId": "c", "clientSecret": "s5"},
    }
    created = api.create("iclients", body)
    listed = api.get("/iclients")
    assert listed.status_code == 200
    for doc in (created, listed.json()[0], api.get(f"/iclients/{created['_id']}").json()):
        assert doc["amazonmws"] == {"accessKeyId": "id", "secretKey": MASK}
        assert doc["netsuite"] == {"consumerKey": MASK, "consumerSecret": MASK}
        assert doc["ebay"]["certId"] == MASK
        assert doc["oauth2"] == {"clientId": "c", "clientSecret": MASK}
    assert api.post("/iclients", json={"name": "No provider"}).status_code == 422
    assert api.delete(f"/iclients/{created['_id']}").status_code == 204
    assert api.get("/iclients").json() == []
