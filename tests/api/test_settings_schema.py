"""The settings schema the API publishes is the one it validates against: a host app that
builds its form from `settings_schema` (or checks values with it) offers nothing the API then
refuses."""

import jsonschema
import pytest

from tenants.settings_mapping import SCHEDULE_INTERVALS

pytestmark = pytest.mark.django_db

INTERVALS = [5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440]


def _interval_schema(body: dict) -> dict:
    return body["settings_schema"]["properties"]["sync_interval_minutes"]


def test_a_schedule_setting_lists_the_intervals_a_schedule_can_say(api, template, acme):
    """The demo's sync interval is an integer of 5 to 1440 minutes in the template, but flows
    can only be scheduled every 5, 6, 10, ... minutes: 25 matched the published schema and was
    refused (400) when sent. The schema says which values there are."""
    published = api.get("/api/v1/templates/shop-to-erp").json()
    interval = _interval_schema(published)
    assert interval["enum"] == INTERVALS == list(SCHEDULE_INTERVALS)
    assert (interval["type"], interval["minimum"], interval["maximum"]) == ("integer", 5, 1440)

    validator = jsonschema.Draft202012Validator(published["settings_schema"])
    assert not validator.is_valid({"sync_interval_minutes": 25})
    refused = api.patch(
        "/api/v1/tenants/acme", {"settings": {"sync_interval_minutes": 25}}, format="json"
    )
    assert refused.status_code == 400
    assert "settings.sync_interval_minutes" in refused.json()["error"]["fields"]

    # Every value the published schema lets through is taken.
    for minutes in (6, 720, 1440):
        assert validator.is_valid({"sync_interval_minutes": minutes})
        answer = api.patch(
            "/api/v1/tenants/acme", {"settings": {"sync_interval_minutes": minutes}}, format="json"
        )
        assert answer.status_code == 200, answer.json()


def test_a_published_versions_schema_says_the_same(api, template):
    version = api.get("/api/v1/templates/shop-to-erp/versions/1.0.0").json()
    assert _interval_schema(version)["enum"] == INTERVALS


def test_the_bounds_of_the_setting_narrow_the_intervals(api, template):
    """A template whose interval setting allows 10 to 240 minutes lists only those."""
    template.settings_schema["properties"]["sync_interval_minutes"].update(minimum=10, maximum=240)
    template.save()
    version = template.versions.get()
    version.settings_schema = template.settings_schema
    version.save()
    interval = _interval_schema(api.get("/api/v1/templates/shop-to-erp").json())
    assert interval["enum"] == [10, 12, 15, 20, 30, 60, 120, 180, 240]


def test_a_setting_that_sets_no_schedule_is_left_as_written(api, template):
    published = api.get("/api/v1/templates/shop-to-erp").json()["settings_schema"]
    assert published["properties"]["erp_subsidiary"] == {
        "type": "string",
        "title": "ERP subsidiary",
        "maxLength": 64,
        "default": "default",
    }
    # The template's own record is not changed by what the API shows.
    template.refresh_from_db()
    assert "enum" not in template.settings_schema["properties"]["sync_interval_minutes"]
