"""The service's root page says what it is and where to go, instead of a 404."""


def test_the_root_page_links_to_the_api_docs_the_admin_and_health(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Embedded integrations service" in page
    for href in ('href="/api/docs/"', 'href="/admin/"', 'href="/healthz"', 'href="/readyz"'):
        assert href in page
