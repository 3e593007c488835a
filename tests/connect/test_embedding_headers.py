"""Headers that let the form live in the tenant's iframe, and nowhere else."""

from tests.connect.conftest import ACME_ORIGIN


def csp_directives(response) -> dict[str, str]:
    parts = [p.strip() for p in response["Content-Security-Policy"].split(";")]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] for p in parts if p}


def test_it_may_be_framed_by_the_tenants_allowed_origins_only(acme, issue_link, client):
    path = issue_link(acme).path
    acme.allowed_origins = [ACME_ORIGIN, "https://beta.acme.test:8443"]
    acme.save()

    for url in (path, path + "status/", path + "status.json"):
        response = client.get(url)
        assert response.status_code == 200, url
        directives = csp_directives(response)
        assert directives["frame-ancestors"] == f"{ACME_ORIGIN} https://beta.acme.test:8443"
        assert "X-Frame-Options" not in response.headers
        assert response["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response["Cache-Control"]


def test_without_allowed_origins_nothing_may_frame_it(acme, issue_link, client):
    acme.allowed_origins = []
    acme.save()

    response = client.get(issue_link(acme).path)

    assert csp_directives(response)["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


def test_the_policy_allows_only_our_own_scripts_and_styles(acme, issue_link, client):
    response = client.get(issue_link(acme).path)
    directives = csp_directives(response)
    html = response.content.decode()

    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["form-action"] == "'self'"
    nonce = directives["style-src"].split("'nonce-")[1].rstrip("'")
    assert f'<style nonce="{nonce}">' in html
    assert "<script>" not in html and " style=" not in html and "onclick" not in html


def test_origins_that_could_break_the_header_are_left_out(acme, issue_link, client):
    path = issue_link(acme).path
    type(acme).objects.filter(pk=acme.pk).update(
        allowed_origins=[ACME_ORIGIN, "https://x.test; script-src *", "javascript:alert(1)"]
    )

    response = client.get(path)

    assert csp_directives(response)["frame-ancestors"] == ACME_ORIGIN
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_framable_page_tells_its_height_to_the_pages_that_may_frame_it_only(
    acme, issue_link, client
):
    # frame_height.js posts the page's height to these origins, and to no other.
    path = issue_link(acme).path
    acme.allowed_origins = [ACME_ORIGIN, "https://beta.acme.test:8443"]
    acme.save()

    for url in (path, path + "status/"):
        html = client.get(url).content.decode()
        assert f'data-origins="{ACME_ORIGIN} https://beta.acme.test:8443"' in html, url

    acme.allowed_origins = []
    acme.save()
    assert "frame_height.js" not in client.get(path).content.decode()
