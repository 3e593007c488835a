"""The pages carry the host app's name, logo and accent colour."""

from types import SimpleNamespace

from connect.branding import brand_for, contrast_ratio


def test_it_uses_the_product_name_logo_and_accent_from_settings(acme, issue_link, client, settings):
    settings.CONNECT_LOGO_URL = "https://cdn.acme.test/logo.svg"
    settings.CONNECT_ACCENT_COLOR = "#0e7490"

    response = client.get(issue_link(acme).path)
    html = response.content.decode()

    assert "<title>Connect your apps · Northwind</title>" in html
    assert '<img class="brand-logo" src="https://cdn.acme.test/logo.svg" alt="Northwind"' in html
    assert "--accent:#0e7490" in html
    assert "img-src 'self' data: https://cdn.acme.test" in response["Content-Security-Policy"]


def test_without_a_logo_it_shows_the_product_name(acme, issue_link, client, settings):
    settings.CONNECT_LOGO_URL = ""

    html = client.get(issue_link(acme).path).content.decode()

    assert '<span class="brand-name">' in html
    assert "<img" not in html


def test_a_template_may_override_the_brand_with_valid_values_only(settings):
    settings.CONNECT_ACCENT_COLOR = "#4f46e5"
    template = SimpleNamespace(
        branding={
            "product_name": "Globex Connect",
            "logo_url": "javascript:alert(1)",
            "accent_color": "red;}body{display:none",
        }
    )

    brand = brand_for(template=template)

    assert brand.product_name == "Globex Connect"
    assert brand.logo_url == settings.CONNECT_LOGO_URL
    assert brand.accent == "#4f46e5"


def test_text_on_the_accent_stays_readable():
    settings_light = brand_for(template=SimpleNamespace(branding={"accent_color": "#facc15"}))
    settings_dark = brand_for(template=SimpleNamespace(branding={"accent_color": "#1e3a8a"}))

    assert settings_light.on_accent == "#111827"
    assert settings_dark.on_accent == "#ffffff"


def test_links_borders_and_focus_rings_read_on_white_whatever_the_accent():
    for accent in ("#facc15", "#a3e635", "#e0e7ff", "#4f46e5", "#1e3a8a"):
        brand = brand_for(template=SimpleNamespace(branding={"accent_color": accent}))
        ink = tuple(int(brand.accent_ink[i : i + 2], 16) for i in (1, 3, 5))

        assert contrast_ratio(ink, (255, 255, 255)) >= 4.5, accent
    # A dark accent is already readable: the ink is its darker shade, as links always were.
    assert brand_for().accent_ink == brand_for().accent_strong
