"""Request helpers and bodies shared by the sandbox tests."""


class Api:
    """Calls to the sandbox's /v1 with the API token; paths are relative to /v1."""

    def __init__(self, server) -> None:
        self.server = server
        self.session = server.api()

    def url(self, path: str) -> str:
        return self.server.api_url + path

    def get(self, path: str, **kwargs):
        return self.session.get(self.url(path), timeout=10, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.session.post(self.url(path), json=json, timeout=10, **kwargs)

    def put(self, path: str, json=None, **kwargs):
        return self.session.put(self.url(path), json=json, timeout=10, **kwargs)

    def patch(self, path: str, json=None, **kwargs):
        return self.session.patch(self.url(path), json=json, timeout=10, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.session.delete(self.url(path), timeout=10, **kwargs)

    def create(self, collection: str, body: dict) -> dict:
        response = self.post(f"/{collection}", json=body)
        assert response.status_code == 201, response.text
        return response.json()


def http_connection(base_url: str, key: str, **overrides) -> dict:
    """An http connection body that authenticates to a demo app with a bearer token."""
    body = {
        "type": "http",
        "name": "Shop",
        "http": {
            "baseURI": base_url,
            "mediaType": "json",
            "ping": {"relativeURI": "/ping", "method": "GET"},
            "auth": {"type": "token", "token": {"token": key, "location": "header"}},
        },
    }
    body.update(overrides)
    return body
