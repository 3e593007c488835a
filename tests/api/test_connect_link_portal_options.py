"""`POST /tenants/{id}/connect-links` with the portal's options: `sections` makes a link to the
customer's integration page, `read_only` and `locale` go with it; bad options are a 400 that
names the field and says what would do."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/tenants/acme/connect-links"


def test_it_issues_a_portal_link(api, acme):
    response = api.post(
        URL,
        {"sections": ["runs", "settings"], "read_only": True, "locale": "de"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"].endswith("/portal/")
    assert body["sections"] == ["settings", "runs"]
    assert body["read_only"] is True and body["locale"] == "de"
    listed = api.get(URL).json()["results"][0]
    assert listed["sections"] == ["settings", "runs"] and listed["locale"] == "de"


def test_without_sections_it_is_the_credential_form_as_before(api, acme):
    body = api.post(URL, {}, format="json").json()

    assert not body["url"].endswith("/portal/")
    assert body["sections"] is None and body["read_only"] is False and body["locale"] is None


@pytest.mark.parametrize(
    "options, field, words",
    [
        ({"sections": ["billing"]}, "sections", "not a valid choice"),
        ({"sections": []}, "sections", "at least one section"),
        ({"sections": ["runs", "runs"]}, "sections", "once"),
        ({"sections": ["runs"], "slot": "shop"}, "sections", "leave out either slot or sections"),
        ({"read_only": True}, "read_only", "Only a portal link"),
        ({"sections": ["runs"], "locale": "xx"}, "locale", "not a language this service speaks"),
        ({"sections": ["runs"], "locale": "de_DE; drop"}, "locale", "not a language"),
        ({"sections": "runs"}, "sections", "Expected an array"),
        # A slot named in the body is a bad field, not a 404 (README, "API conventions").
        ({"slot": "crm"}, "slot", "Not a slot of shop-to-erp"),
    ],
)
def test_bad_options_are_a_clear_400(api, acme, options, field, words):
    response = api.post(URL, options, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_fields"
    # A list's item in error is named by its place (`sections.0`).
    messages = [
        m for name, ms in error["fields"].items() if name.split(".")[0] == field for m in ms
    ]
    assert words in " ".join(messages)
