"""What the customer changes on the page: settings (editable ones only, through the host
API's service, which queues the reconcile job), flows switched on and off where the template
allows, and nothing at all through a read-only, revoked or expired link."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from connect.submission_limit import SubmissionDecision
from provisioning.models import Job, JobKind, JobOrigin, JobStatus, JobStep, StepStatus
from tenants.models import ConnectLink, Tenant

pytestmark = pytest.mark.django_db


def _token(client, path) -> str:
    html = client.get(path).content.decode()
    marker = 'name="form_token" value="'
    return html[html.index(marker) + len(marker) :].split('"', 1)[0]


def _settings_post(client, path, **values):
    body = {
        "form_token": _token(client, path),
        "setting-sync_interval_minutes": "30",
        "setting-order_statuses": ["paid", "shipped"],
        "setting-erp_order_type": "invoice",
        "setting-update_existing_customers": "on",
    }
    body.update(values)
    return client.post(path + "settings", body)


def test_it_saves_settings_through_the_settings_service(acme, portal_link, client):
    path = portal_link(acme).path

    response = _settings_post(client, path)

    assert response.status_code == 303
    assert response["Location"] == path + "?settings=applying#settings-outcome"
    acme.refresh_from_db()
    assert acme.settings == {
        "sync_interval_minutes": 30,
        "order_statuses": ["paid", "shipped"],
        "erp_order_type": "invoice",
    }
    # The same job the host's PATCH queues applies it to the integration.
    assert Job.objects.filter(tenant=acme, kind=JobKind.UPDATE_SETTINGS).count() == 1


def test_a_change_made_on_the_page_is_recorded_as_the_integration_pages(
    acme, portal_link, client, admin_client
):
    path = portal_link(acme).path
    _settings_post(client, path)
    [job] = Job.objects.filter(tenant=acme, kind=JobKind.UPDATE_SETTINGS)

    # Not "Credential form": ops can tell the customer's own changes from credentials.
    assert job.requested_by == JobOrigin.PORTAL
    page = admin_client.get(f"/admin/provisioning/job/{job.pk}/change/").content.decode()
    assert "Integration page" in page and "Credential form" not in page


def test_the_page_follows_the_settings_job(acme, portal_link, client):
    path = portal_link(acme).path
    _settings_post(client, path)

    html = client.get(path + "?settings=applying").content.decode()

    assert "Applying your settings" in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html


def test_unchanged_settings_queue_nothing(acme, portal_link, client):
    path = portal_link(acme).path

    response = _settings_post(
        client,
        path,
        **{
            "setting-sync_interval_minutes": "15",
            "setting-order_statuses": ["paid"],
            "setting-erp_order_type": "sales_order",
        },
    )

    assert response["Location"].endswith("?settings=unchanged#settings-outcome")
    assert not Job.objects.filter(tenant=acme).exists()


def test_an_unchanged_save_says_nothing_changed_after_a_change_was_applied(
    acme, portal_link, client
):
    # The last settings job (shown for minutes after it ends) succeeded: a save of the same
    # settings said "Your settings are saved and applied." instead of "Nothing changed".
    path = portal_link(acme).path
    _settings_post(client, path)
    Job.objects.filter(tenant=acme, kind=JobKind.UPDATE_SETTINGS).update(
        status="succeeded", finished_at=timezone.now()
    )

    response = _settings_post(client, path)
    assert response["Location"].endswith("?settings=unchanged#settings-outcome")
    html = client.get(response["Location"]).content.decode()

    assert "Nothing changed: these are already your settings." in html
    assert "Your settings are saved and applied." not in html


def test_an_interval_the_page_did_not_offer_is_told_in_plain_words(acme, portal_link, client):
    path = portal_link(acme).path

    response = _settings_post(client, path, **{"setting-sync_interval_minutes": "45"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose one of the options." in html
    assert "There is a problem" in html and html.count('aria-invalid="true"') == 1
    acme.refresh_from_db()
    assert acme.settings == {}


def test_an_empty_choice_is_told_in_plain_words(acme, portal_link, client):
    path = portal_link(acme).path
    body = {"form_token": _token(client, path), "setting-sync_interval_minutes": "15"}
    body["setting-erp_order_type"] = "sales_order"

    response = client.post(path + "settings", body)

    assert response.status_code == 400
    assert "Choose at least one." in response.content.decode()


def test_an_empty_choice_is_read_out_with_the_group(acme, portal_link, client):
    # A group of checkboxes has no single control to carry the error: the fieldset names it,
    # as a single field's control names its own, so a screen reader says it with the legend.
    path = portal_link(acme).path
    body = {"form_token": _token(client, path), "setting-sync_interval_minutes": "15"}
    body["setting-erp_order_type"] = "sales_order"

    html = client.post(path + "settings", body).content.decode()

    fieldset = re.search(r'<fieldset[^>]*id="id_setting-order_statuses"[^>]*>', html).group(0)
    described_by = re.search(r'aria-describedby="([^"]*)"', fieldset).group(1).split()
    assert "id_setting-order_statuses-error" in described_by
    assert 'id="id_setting-order_statuses-error"' in html


def test_the_summary_leads_into_a_refused_group_at_its_first_choice(acme, portal_link, client):
    # The fieldset cannot take focus: a link to it only scrolls. A link to its first checkbox
    # puts focus there, where the legend and the error are read out.
    path = portal_link(acme).path
    body = {"form_token": _token(client, path), "setting-sync_interval_minutes": "15"}
    body["setting-erp_order_type"] = "sales_order"

    html = client.post(path + "settings", body).content.decode()

    summary = html[html.index('class="error-summary-list"') :].split("</ul>", 1)[0]
    assert 'href="#id_setting-order_statuses_0"' in summary
    first = r'<input type="checkbox" name="setting-order_statuses"[^>]*id="([^"]+)"'
    assert re.search(first, html).group(1) == "id_setting-order_statuses_0"


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "Each value may be chosen once."),
        ("de", "Jeder Wert darf nur einmal gewählt werden."),
    ],
)
def test_a_choice_posted_twice_is_told_in_plain_words(acme, portal_link, client, locale, message):
    # The page's checkboxes cannot send a value twice; a hand-made post can, and the settings
    # service's schema check refuses it.
    path = portal_link(acme, locale=locale).path

    response = _settings_post(client, path, **{"setting-order_statuses": ["paid", "paid"]})

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "non-unique" not in html and "[&#x27;paid&#x27;" not in html
    acme.refresh_from_db()
    assert acme.settings == {}


def test_a_setting_the_template_keeps_is_refused(acme, portal_link, client):
    path = portal_link(acme).path

    response = _settings_post(client, path, **{"setting-store_id": "hacked"})

    assert response.status_code == 400
    assert "That cannot be changed here." in response.content.decode()
    acme.refresh_from_db()
    assert acme.settings == {}
    assert not Job.objects.filter(tenant=acme).exists()


def test_a_flow_switch_reaches_the_settings(acme, portal_link, client):
    path = portal_link(acme).path
    body = {"flow": "flows.stock", "enabled": "on"}

    response = client.post(path + "flows", {"form_token": _flows_token(client, path), **body})

    assert response.status_code == 303
    assert response["Location"] == path + "?flow=flows.stock&switched=on#flows-outcome"
    acme.refresh_from_db()
    assert acme.settings == {"flows": {"stock": True}}
    assert Job.objects.filter(tenant=acme, kind=JobKind.UPDATE_SETTINGS).count() == 1
    # Until the job has switched it in integrator.io, the page says it is on its way.
    assert "Switching on…" in client.get(path).content.decode()


def test_a_flow_the_template_keeps_cannot_be_switched(acme, portal_link, client):
    path = portal_link(acme).path
    body = {"form_token": _flows_token(client, path), "flow": "flows.orders", "enabled": "off"}

    response = client.post(path + "flows", body)

    assert response.status_code == 400
    assert "That cannot be changed here." in response.content.decode()
    acme.refresh_from_db()
    assert acme.settings == {}


def test_a_post_without_the_form_token_is_refused(acme, portal_link, client):
    path = portal_link(acme).path

    response = client.post(path + "flows", {"flow": "flows.stock", "enabled": "on"})

    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.settings == {}


def test_a_refused_change_leads_back_to_the_integration_page(acme, portal_link, client):
    # A page left open past its form's token: the refusal's one button went to the credential
    # form ("Reload the form"), a page the customer had not been on.
    path = portal_link(acme).path

    for suffix, body in (
        ("settings", {"form_token": "stale", "setting-sync_interval_minutes": "30"}),
        ("flows", {"form_token": "stale", "flow": "flows.stock", "enabled": "on"}),
        ("runs/flow-orders-job-0/errors", {"form_token": "stale", "action": "retry"}),
    ):
        html = client.post(path + suffix, body).content.decode()

        assert "Back to your integration" in html and "Reload the form" not in html, suffix
        assert f'href="{path}"' in html, suffix


def test_a_token_of_another_link_is_refused(acme, portal_link, client):
    path, other = portal_link(acme).path, portal_link(acme).path
    body = {"form_token": _flows_token(client, other), "flow": "flows.stock", "enabled": "on"}

    assert client.post(path + "flows", body).status_code == 403


@pytest.mark.parametrize(
    "suffix, body",
    [
        ("settings", {"setting-sync_interval_minutes": "30"}),
        ("flows", {"flow": "flows.stock", "enabled": "on"}),
        ("runs/flow-orders-job-0/errors", {"action": "retry"}),
    ],
)
def test_a_read_only_link_refuses_every_post(acme, portal_link, client, suffix, body):
    writable = portal_link(acme).path
    read_only = portal_link(acme, read_only=True).path
    token = _flows_token(client, writable)  # even a valid-looking token changes nothing

    response = client.post(read_only + suffix, {"form_token": token, **body})

    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.settings == {}
    assert not Job.objects.filter(tenant=acme).exists()


def test_a_read_only_link_refuses_the_credential_form_too(acme, portal_link, client):
    path = portal_link(acme, read_only=True).path

    response = client.post(path, {"slot": "shop", "shop-base_url": "https://x.test"})

    assert response.status_code == 403


@pytest.mark.parametrize("query", ["", "?edit=shop", "?edit=shop&back=portal"])
def test_a_read_only_links_credential_form_address_opens_its_integration_page(
    acme, portal_link, client, query
):
    """The form's address (/connect/<token>/, as a host app builds it from the link's token)
    offered a read-only link's customer the credential fields, Connect and Replace
    credentials, each refused once sent ("We could not accept this form"). Its page is the
    integration page, which shows the connections without a way to change them."""
    issued = portal_link(acme, read_only=True)
    form = f"/connect/{issued.token}/"

    response = client.get(form + query)

    assert response.status_code == 303
    assert response["Location"] == issued.path
    assert "Content-Security-Policy" in response
    # A writable portal link still opens the form, where its Reconnect leads.
    writable = portal_link(acme)
    assert client.get(f"/connect/{writable.token}/?edit=shop").status_code == 200


def test_a_revoked_link_opens_nothing(acme, portal_link, client):
    issued = portal_link(acme)
    ConnectLink.objects.filter(pk=issued.link.pk).update(revoked_at=timezone.now())

    assert client.get(issued.path).status_code == 410
    assert _settings_post_raw(client, issued.path).status_code == 410


def test_an_expired_link_opens_nothing(acme, portal_link, client):
    issued = portal_link(acme)
    ConnectLink.objects.filter(pk=issued.link.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert client.get(issued.path).status_code == 410
    assert _settings_post_raw(client, issued.path).status_code == 410
    assert Tenant.objects.get(pk=acme.pk).settings == {}


def test_a_section_the_link_does_not_show_cannot_be_changed(acme, portal_link, client):
    path = portal_link(acme, sections=["flows", "runs"]).path

    response = client.post(path + "settings", {"setting-sync_interval_minutes": "30"})

    assert response.status_code == 403


def _settings_post_raw(client, path):
    return client.post(path + "settings", {"setting-sync_interval_minutes": "30"})


def _flows_token(client, path) -> str:
    html = client.get(path).content.decode()
    marker = '<input type="hidden" name="form_token" value="'
    start = html.index('action="' + path + 'flows"')
    at = html.index(marker, start) + len(marker)
    return html[at:].split('"', 1)[0]


def test_changes_count_against_the_links_rate_limit(acme, portal_link, client, settings):
    settings.CONNECT_SUBMISSIONS_PER_MINUTE = 1
    path = portal_link(acme).path
    body = {"form_token": _flows_token(client, path), "flow": "flows.stock", "enabled": "on"}

    first = client.post(path + "flows", body)
    second = client.post(path + "flows", {**body, "enabled": "off"})

    assert first.status_code == 303
    assert second.status_code == 429
    assert int(second["Retry-After"]) >= 1
    assert "Too many changes in a short time." in second.content.decode()
    acme.refresh_from_db()
    assert acme.settings == {"flows": {"stock": True}}  # the refused one changed nothing


@pytest.mark.parametrize(
    ("locale", "seconds", "said"),
    [
        ("en", 1, "Please wait about 1 second and try again."),
        ("en", 42, "Please wait about 42 seconds and try again."),
        ("de", 1, "Bitte warten Sie etwa 1 Sekunde und versuchen"),
        ("de", 42, "Bitte warten Sie etwa 42 Sekunden und versuchen"),
    ],
)
def test_the_wait_for_the_next_change_is_said_with_the_right_plural(
    acme, portal_link, client, monkeypatch, locale, seconds, said
):
    path = portal_link(acme, locale=locale).path
    body = {"form_token": _flows_token(client, path), "flow": "flows.stock", "enabled": "on"}
    refused = SubmissionDecision(allowed=False, retry_after_seconds=seconds)
    monkeypatch.setattr("connect.portal_views.submission_acquire", lambda **_: refused)

    response = client.post(path + "flows", body)

    assert response.status_code == 429
    assert said in response.content.decode()


def test_an_interval_saved_before_intervals_were_checked_is_kept_while_others_change(
    acme, portal_link, client
):
    type(acme).objects.filter(pk=acme.pk).update(settings={"sync_interval_minutes": 45})
    path = portal_link(acme).path
    assert (
        '<option value="45" selected>Every 45 minutes</option>' in client.get(path).content.decode()
    )

    response = _settings_post(
        client,
        path,
        **{
            "setting-sync_interval_minutes": "45",
            "setting-order_statuses": ["paid", "shipped"],
            "setting-erp_order_type": "sales_order",
        },
    )

    assert response.status_code == 303, response.content.decode()[:2000]
    acme.refresh_from_db()
    assert acme.settings["sync_interval_minutes"] == 45
    assert acme.settings["order_statuses"] == ["paid", "shipped"]


def test_a_whole_number_setting_says_its_bounds_in_plain_words():
    from connect.portal_forms import PortalSettingsForm
    from tenants.services.portal_access import EditableSetting

    batch = EditableSetting(name="batch", schema={"type": "integer", "minimum": 1, "maximum": 10})
    form = PortalSettingsForm({"setting-batch": "11"}, link_id="l", settings=[batch])

    assert not form.is_valid()
    assert form.errors["setting-batch"] == ["Enter a number from 1 to 10."]
    assert 'type="number"' in str(form["setting-batch"]) and 'max="10"' in str(
        form["setting-batch"]
    )


def _pattern_error(schema: dict, value: str, *, locale: str = "en") -> str:
    from django.utils import translation

    from connect.portal_forms import PortalSettingsForm
    from tenants.services.portal_access import EditableSetting

    code = EditableSetting(name="code", schema={"type": "string", **schema})
    with translation.override(locale):
        form = PortalSettingsForm({"setting-code": value}, link_id="l", settings=[code])
        assert not form.is_valid()
        [message] = form.errors["setting-code"]
        return str(message)


def test_a_pattern_error_shows_the_expected_form_by_an_example():
    # "This is not in the form described above." gave no hint: the error summary, where it is
    # read first, is above the form, and a setting without a description describes nothing.
    # A pattern means nothing to a customer; an example of a value that fits does.
    schema = {"pattern": "^[A-Z]{3}-[0-9]{4}$", "examples": ["ABC-1234"], "default": "XYZ-0001"}

    assert (
        _pattern_error(schema, "abc") == "This is not in the expected form, for example “ABC-1234”."
    )
    assert (
        _pattern_error(schema, "abc", locale="de")
        == "Das entspricht nicht der erwarteten Form, zum Beispiel „ABC-1234“."
    )


def test_a_pattern_error_takes_the_default_as_its_example_when_it_fits():
    schema = {"pattern": "^[a-z0-9][a-z0-9-]{0,62}$", "default": "main-store"}

    assert _pattern_error(schema, "Bad Store!") == (
        "This is not in the expected form, for example “main-store”."
    )


def test_a_pattern_error_shows_no_example_that_does_not_fit():
    # An example or default that the pattern refuses would teach the wrong form.
    schema = {"pattern": "^[A-Z]{3}$", "examples": ["abc"], "default": ""}

    assert _pattern_error(schema, "x") == "This is not in the expected form."
    assert _pattern_error(schema, "x", locale="de") == "Das entspricht nicht der erwarteten Form."


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "Enter a number from 0.5 to 2.5."),
        ("de", "Geben Sie eine Zahl von 0,5 bis 2,5 ein."),
    ],
)
def test_a_decimal_settings_bounds_are_written_as_the_language_writes_numbers(locale, message):
    # A German page said "von 0.5 bis 2.5": a German reader reads "0.5" as five tenths of
    # nothing, or as a thousands group, not as one half.
    from django.utils import translation

    from connect.portal_forms import PortalSettingsForm
    from tenants.services.portal_access import EditableSetting

    factor = EditableSetting(
        name="factor", schema={"type": "number", "minimum": 0.5, "maximum": 2.5}
    )
    with translation.override(locale):
        form = PortalSettingsForm({"setting-factor": "3"}, link_id="l", settings=[factor])
        assert not form.is_valid()
        assert form.errors["setting-factor"] == [message]


def _selected(html: str, name: str) -> list[str]:
    """The values a select or a group of checkboxes named `name` shows as chosen."""
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    if select:
        return re.findall(r'<option value="([^"]*)" selected>', select.group(0))
    boxes = re.findall(rf'<input type="checkbox" name="{name}" value="([^"]*)"[^>]*>', html)
    return [
        value
        for value, tag in zip(
            boxes,
            re.findall(rf'<input type="checkbox" name="{name}" value="[^"]*"[^>]*>', html),
            strict=True,
        )
        if " checked" in tag
    ]


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "Sync interval (minutes): Choose one of the options."),
        ("de", "Abgleichsintervall (Minuten): Wählen Sie eine der Optionen."),
    ],
)
def test_a_refused_interval_shows_the_saved_one_again(acme, portal_link, client, locale, message):
    Tenant.objects.filter(pk=acme.pk).update(settings={"sync_interval_minutes": 30})
    path = portal_link(acme, locale=locale).path

    response = _settings_post(client, path, **{"setting-sync_interval_minutes": "7"})

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    # Not the first option (5), which the browser would show for a value it is not offered.
    assert _selected(html, "setting-sync_interval_minutes") == ["30"]
    assert 'aria-invalid="true"' in html
    # Saving again what the page shows keeps the saved interval.
    again = _settings_post(
        client,
        path,
        **{"setting-sync_interval_minutes": _selected(html, "setting-sync_interval_minutes")[0]},
    )
    assert again.status_code == 303
    acme.refresh_from_db()
    assert acme.settings["sync_interval_minutes"] == 30


@pytest.mark.parametrize(
    ("name", "posted", "shown"),
    [
        ("setting-sync_interval_minutes", "", ["30"]),
        ("setting-erp_order_type", "bogus", ["invoice"]),
        ("setting-erp_order_type", "", ["invoice"]),
        ("setting-order_statuses", ["shipped", "bogus"], ["paid", "cancelled"]),
    ],
)
def test_a_refused_choice_shows_the_saved_value_again(
    acme, portal_link, client, name, posted, shown
):
    saved = {
        "sync_interval_minutes": 30,
        "erp_order_type": "invoice",
        "order_statuses": ["paid", "cancelled"],
    }
    Tenant.objects.filter(pk=acme.pk).update(settings=saved)
    path = portal_link(acme).path

    response = _settings_post(client, path, **{name: posted})

    assert response.status_code == 400
    assert _selected(response.content.decode(), name) == shown
    acme.refresh_from_db()
    assert acme.settings == saved


def test_a_refused_value_elsewhere_keeps_the_choices_as_posted(acme, portal_link, client):
    Tenant.objects.filter(pk=acme.pk).update(settings={"sync_interval_minutes": 30})
    path = portal_link(acme).path

    response = _settings_post(
        client,
        path,
        **{"setting-sync_interval_minutes": "60", "setting-erp_order_type": "bogus"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    # The interval the person chose, a real option, stays chosen beside the other's message.
    assert _selected(html, "setting-sync_interval_minutes") == ["60"]
    assert _selected(html, "setting-order_statuses") == ["paid", "shipped"]


def _focused_after_load(location: str, html: str) -> tuple[str | None, str]:
    """The role and text of what has focus once `html` is loaded at `location` (its fragment
    included: a browser scrolls to it, and focuses it, or takes focus away, after the page's
    scripts have run), with the page's own static files."""
    from pathlib import Path

    from django.conf import settings
    from playwright.sync_api import sync_playwright

    from tests.fixtures.browser import launch

    static = Path(settings.BASE_DIR) / "static"

    def serve(route):
        path = route.request.url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
        if path.startswith("static/"):
            kind = "text/css" if path.endswith(".css") else "text/javascript"
            route.fulfill(
                body=(static / path.removeprefix("static/")).read_text(), content_type=kind
            )
        else:
            route.fulfill(body=html, content_type="text/html")

    # No ORM from here: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.route("http://portal.test/**", serve)
        page.goto("http://portal.test" + location)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        role, text = page.evaluate(
            "[document.activeElement.getAttribute('role'), document.activeElement.textContent]"
        )
        browser.close()
    return role, " ".join(text.split())


@pytest.mark.browser
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("settings", "Nothing changed: these are already your settings."),
        ("flow", "Switching on…"),
        ("connection", "Online shop is connected."),
    ],
)
def test_after_a_change_the_notice_that_says_so_takes_focus(
    acme, portal_link, client, change, said
):
    # The page is loaded anew after each change (post, redirect, get): a status message
    # present at load is not announced, and focus started on the page's body, so a screen
    # reader user heard nothing of what their change did. The notice takes focus, as it does
    # after a run's errors are retried.
    path = portal_link(acme).path
    if change == "settings":
        unchanged = {
            "setting-sync_interval_minutes": "15",
            "setting-order_statuses": ["paid"],
            "setting-erp_order_type": "sales_order",
        }
        location = _settings_post(client, path, **unchanged)["Location"]
    elif change == "flow":
        body = {"form_token": _flows_token(client, path), "flow": "flows.stock", "enabled": "on"}
        location = client.post(path + "flows", body)["Location"]
    else:
        # Where the credential form sends the person back to once the slot's edit is saved.
        from connect.views import back_to_portal_url

        location = back_to_portal_url(path.split("/")[2], outcome="saved", slot_key="shop")
    html = client.get(location).content.decode()

    role, text = _focused_after_load(location, html)

    assert role == "status" and said in text


@pytest.mark.browser
def test_a_notice_not_about_this_visit_does_not_take_focus(acme, portal_link, client):
    # A flow switched by an earlier visit is still on its way: the page says so, but the
    # person did nothing yet, so focus stays where a page's focus starts.
    path = portal_link(acme).path
    body = {"form_token": _flows_token(client, path), "flow": "flows.stock", "enabled": "on"}
    client.post(path + "flows", body)

    role, _text = _focused_after_load(path, client.get(path).content.decode())

    assert role is None


@pytest.mark.browser
@pytest.mark.parametrize("change", ["settings", "flow"])
def test_a_change_refused_for_its_rate_takes_focus_with_its_message(
    acme, portal_link, client, settings, change
):
    # "Too many changes in a short time" was an alert present at load, which screen readers
    # do not announce, with focus on the page's body: the person did not learn that their
    # change was refused, nor how long to wait.
    settings.CONNECT_SUBMISSIONS_PER_MINUTE = 1
    path = portal_link(acme).path
    body = {"form_token": _flows_token(client, path), "flow": "flows.stock", "enabled": "on"}
    client.post(path + "flows", body)
    if change == "settings":
        refused = _settings_post(client, path)
        # The form's action, fragment included, is the address the browser shows.
        location = path + "settings#settings-errors"
    else:
        refused = client.post(path + "flows", {**body, "enabled": "off"})
        location = path + "flows"
    assert refused.status_code == 429

    role, text = _focused_after_load(location, refused.content.decode())

    assert role == "alert" and "Too many changes in a short time." in text


@pytest.mark.browser
@pytest.mark.parametrize(
    ("values", "target", "said"),
    [
        (
            {"setting-erp_order_type": "x"},
            "id_setting-erp_order_type",
            "Choose one of the options.",
        ),
        ({"setting-order_statuses": []}, "id_setting-order_statuses_0", "Choose at least one."),
    ],
    ids=["select", "group"],
)
def test_a_summary_link_shows_its_field_with_label_and_message(
    acme, portal_link, client, values, target, said
):
    # Following a link of the error summary scrolled its field's input to the top of the
    # window: the label, the help and the message, above the input, were out of sight, so the
    # person saw a box without knowing what it was or what was wrong with it.
    from pathlib import Path

    from django.conf import settings
    from playwright.sync_api import sync_playwright

    from tests.fixtures.browser import PHONE, launch

    path = portal_link(acme).path
    refused = _settings_post(client, path, **values)
    assert refused.status_code == 400
    html = refused.content.decode()
    static = Path(settings.BASE_DIR) / "static"

    def serve(route):
        asked = route.request.url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
        if asked.startswith("static/"):
            kind = "text/css" if asked.endswith(".css") else "text/javascript"
            body = (static / asked.removeprefix("static/")).read_text()
            route.fulfill(body=body, content_type=kind)
        else:
            route.fulfill(body=html, content_type="text/html")

    # No ORM from here: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=PHONE)
        page.route("http://portal.test/**", serve)
        page.goto(f"http://portal.test{path}settings#settings-errors")
        page.wait_for_load_state("load")
        page.keyboard.press("Tab")  # from the focused summary to its first link
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
        focused = page.evaluate("document.activeElement.id")
        field_top, message_top, message = page.evaluate(
            """(id) => {
              const input = document.getElementById(id);
              const field = input.closest('.field');
              const error = field.querySelector('.field-error');
              return [field.getBoundingClientRect().top, error.getBoundingClientRect().top,
                      error.textContent];
            }""",
            target,
        )
        browser.close()

    assert focused == target
    assert said in message
    assert field_top > -1 and message_top > -1  # the field's label and message in sight


def test_the_page_follows_the_setup_that_connecting_the_last_app_started(
    portal_template, portal_link, client
):
    # The customer connects their last app from the page (Connect, the form, back here): the
    # integration is being set up, and the page said "Your flows show here once your
    # integration is set up." for good, until they thought of reloading it. It looks again
    # every few seconds while the setup runs, and stops once it is done.
    from tenants.models import Tenant, TenantStatus
    from tenants.services import tenant_create

    tenant, _ = tenant_create(external_id="initech", name="Initech", template=portal_template)
    path = portal_link(tenant).path
    refresh = '<noscript><meta http-equiv="refresh" content="3"></noscript>'
    assert refresh not in client.get(path).content.decode()  # awaiting credentials

    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.PROVISIONING)
    setting_up = client.get(path).content.decode()
    Tenant.objects.filter(pk=tenant.pk).update(
        status=TenantStatus.ACTIVE, integration_id="int-initech"
    )
    done = client.get(path).content.decode()

    assert refresh in setting_up and "data-portal-refresh" in setting_up
    assert "Your integration is being set up now." in setting_up
    assert refresh not in done and "data-portal-refresh" not in done


def _page_form(client, path) -> dict:
    """The settings form as the page shows it: what a person posts who changes nothing."""
    html_text = client.get(path).content.decode()
    form = html_text[html_text.index('class="settings-form"') :].split("</form>", 1)[0]

    def hidden(name):
        found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', form)
        return unescape(found.group(1)) if found else ""

    return {
        "form_token": hidden("form_token"),
        "shown": hidden("shown"),
        "setting-sync_interval_minutes": _selected(form, "setting-sync_interval_minutes")[0],
        "setting-order_statuses": _selected(form, "setting-order_statuses"),
        "setting-erp_order_type": _selected(form, "setting-erp_order_type")[0],
        **(
            {"setting-update_existing_customers": "on"}
            if re.search(r'name="setting-update_existing_customers"[^>]*checked', form)
            else {}
        ),
    }


def test_an_older_page_saves_only_what_was_changed_on_it(acme, portal_link, client):
    # Two tabs: A set the interval to every hour; B, still showing 15 minutes, changed only
    # the ERP record type and saved: the interval was silently back to 15. B saves only the
    # field changed on it.
    path = portal_link(acme).path
    tab_b = _page_form(client, path)
    assert tab_b["setting-sync_interval_minutes"] == "15"
    type(acme).objects.filter(pk=acme.pk).update(settings={"sync_interval_minutes": 60})

    response = client.post(path + "settings", {**tab_b, "setting-erp_order_type": "invoice"})

    assert response.status_code == 303, response.content.decode()[:2000]
    acme.refresh_from_db()
    assert acme.settings == {"sync_interval_minutes": 60, "erp_order_type": "invoice"}


def test_a_change_to_a_setting_changed_since_the_page_was_opened_is_not_saved(
    acme, portal_link, client
):
    # Both tabs changed the interval: B's is not saved over A's; B is told, and its field
    # shows the current value, while B's other change stays in the form, saved once sent again.
    path = portal_link(acme).path
    tab_b = _page_form(client, path)
    type(acme).objects.filter(pk=acme.pk).update(settings={"sync_interval_minutes": 60})

    response = client.post(
        path + "settings",
        {**tab_b, "setting-sync_interval_minutes": "30", "setting-erp_order_type": "invoice"},
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone changed these settings since this page was opened." in page
    assert "Changed since this page was opened: this is its current value." in page
    assert _selected(page, "setting-sync_interval_minutes") == ["60"]
    assert _selected(page, "setting-erp_order_type") == ["invoice"]
    acme.refresh_from_db()
    assert acme.settings == {"sync_interval_minutes": 60}
    assert not Job.objects.filter(tenant=acme).exists()

    form = page[page.index('class="settings-form"') :]
    shown = unescape(re.search(r'name="shown" value="([^"]*)"', form).group(1))
    assert "60" in shown  # the form now says it showed the current interval
    again = client.post(
        path + "settings",
        {
            **tab_b,
            "shown": shown,
            "setting-sync_interval_minutes": "60",
            "setting-erp_order_type": "invoice",
        },
    )
    assert again.status_code == 303
    acme.refresh_from_db()
    assert acme.settings == {"sync_interval_minutes": 60, "erp_order_type": "invoice"}


@pytest.mark.django_db(transaction=True)
def test_two_saves_of_the_same_setting_at_once_never_both_succeed(acme, portal_link, monkeypatch):
    # Two tabs showing 15 minutes save 30 and 60 at the same moment. The check that a setting
    # was not changed since the page showed it must hold under the tenant's lock, or both read
    # 15, both pass, and the second silently undoes the first.
    import threading

    from django.db import connection

    from connect import portal_services

    link = portal_link(acme)
    shown = {"sync_interval_minutes": 15}
    first_inside, second_done = threading.Event(), threading.Event()
    first_thread = []
    patch = portal_services.customer_settings_patch

    def held_patch(**kwargs):
        if threading.current_thread() in first_thread:
            first_inside.set()
            second_done.wait(1.5)  # the second save runs now, unless the lock holds it
        return patch(**kwargs)

    monkeypatch.setattr(portal_services, "customer_settings_patch", held_patch)
    outcomes = {}

    def save(name, minutes, done=None):
        try:
            portal_services.portal_settings_save(
                link=ConnectLink.objects.get(pk=link.link.pk),
                values={"sync_interval_minutes": minutes},
                shown=shown,
            )
            outcomes[name] = "saved"
        except portal_services.SettingsChangedSince:
            outcomes[name] = "changed_since"
        finally:
            connection.close()
            if done is not None:
                done.set()

    first = threading.Thread(target=save, args=("first", 30))
    first_thread.append(first)
    first.start()
    assert first_inside.wait(5)
    second = threading.Thread(target=save, args=("second", 60, second_done))
    second.start()
    first.join(10)
    second.join(10)

    assert outcomes == {"first": "saved", "second": "changed_since"}
    acme.refresh_from_db()
    assert acme.settings["sync_interval_minutes"] == 30


def test_a_refused_post_answered_while_a_run_is_in_progress_does_not_reload_itself(
    acme, portal_link, client
):
    # While a run shown had not ended, the page that answered a refused save (a setting
    # missing, a Retry without its action) looked again every 10 s like any other: that page
    # is a POST's answer, so each reload posted the form again (the browser asks to "confirm
    # form resubmission", or sends it once more), and the error summary took focus and was
    # read out anew each time.
    from connect.form_tokens import form_token_issue
    from connect.portal_forms import RUN_ERRORS_FORM
    from runs.models import RunStatus
    from tests.connect.portal.conftest import add_runs

    [run] = add_runs(acme, "flow-customers", 1, status=RunStatus.RUNNING)
    link = portal_link(acme)
    assert 'data-portal-refresh="10"' in client.get(link.path).content.decode()

    refused_save = client.post(
        link.path + "settings",
        {
            "form_token": _token(client, link.path),
            "setting-sync_interval_minutes": "15",
            "setting-erp_order_type": "sales_order",
        },
    )
    refused_retry = client.post(
        f"{link.path}runs/{run.job_id}/errors",
        {
            "form_token": form_token_issue(link_id=str(link.link.id), slot_key=RUN_ERRORS_FORM),
            "action": "neither",
        },
    )

    assert refused_save.status_code == 400 and refused_retry.status_code == 400
    for html in (refused_save.content.decode(), refused_retry.content.decode()):
        assert "There is a problem" in html or "Choose retry or resolve." in html
        assert "http-equiv" not in html and "data-portal-refresh" not in html


def test_a_settings_changes_steps_say_the_flows_are_switched_on_or_off(acme, portal_link, client):
    # A change that switched a flow off showed "Switch on the data flows" while it did so.
    job = Job.objects.create(
        tenant=acme,
        kind=JobKind.UPDATE_SETTINGS,
        requested_by=JobOrigin.PORTAL,
        status=JobStatus.RUNNING,
        due_at=timezone.now(),
    )
    for position, name in enumerate(["settings", "enable", "reconcile", "verify"]):
        JobStep.objects.create(job=job, name=name, position=position, status=StepStatus.PENDING)

    html = client.get(portal_link(acme).path).content.decode()

    assert "Switch the data flows on or off" in html
    assert "Switch on the data flows" not in html
