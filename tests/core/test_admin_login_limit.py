"""The admin's sign-in page, open to anyone who can reach the service (the customer pages are
on the same host): a password cannot be guessed at without end."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def _staff(username: str):
    user = get_user_model().objects.create_user(username, password="the-right-password-1")
    user.is_staff = True
    user.save()
    return user


def _sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def test_after_too_many_wrong_passwords_even_the_right_one_waits(settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    _staff("ana-limit")
    guesser = Client()

    for attempt in range(3):
        page = _sign_in(guesser, "ana-limit", f"guess-{attempt}")
        assert page.status_code == 200
        assert "Please enter the correct username and password" in page.content.decode()
    refused = _sign_in(guesser, "ana-limit", "the-right-password-1")

    assert refused.status_code == 200
    html = refused.content.decode()
    assert "Too many failed sign-ins" in html
    assert "_auth_user_id" not in guesser.session
    # Another address signs in as usual, and so does another user from the guesser's.
    assert (
        _sign_in(Client(), "ana-limit", "the-right-password-1", ip="198.51.100.9").status_code
        == 302
    )
    _staff("ben-limit")
    assert _sign_in(guesser, "ben-limit", "the-right-password-1").status_code == 302


def test_a_right_password_before_the_limit_signs_in(settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    _staff("cleo-limit")
    client = Client()

    _sign_in(client, "cleo-limit", "wrong-1")
    _sign_in(client, "cleo-limit", "wrong-2")

    assert _sign_in(client, "cleo-limit", "the-right-password-1").status_code == 302


def _sign_in_through_proxy(username: str, password: str, forwarded_for: str):
    return Client().post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR="10.0.0.2",  # the TLS proxy: every request comes from it
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_a_declared_proxy_a_guesser_holds_up_only_their_own_address(settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 2
    settings.TRUSTED_PROXY_HOPS = 1
    _staff("dora-limit")
    for attempt in range(2):
        _sign_in_through_proxy("dora-limit", f"guess-{attempt}", "203.0.113.7")

    held = _sign_in_through_proxy("dora-limit", "the-right-password-1", "203.0.113.7")
    # A forged entry left of the proxy's does not get the guesser a fresh address.
    forged = _sign_in_through_proxy(
        "dora-limit", "the-right-password-1", "198.51.100.1, 203.0.113.7"
    )
    owner = _sign_in_through_proxy("dora-limit", "the-right-password-1", "198.51.100.9")

    assert "Too many failed sign-ins" in held.content.decode()
    assert "Too many failed sign-ins" in forged.content.decode()
    assert owner.status_code == 302


def test_with_no_proxy_declared_the_forwarded_header_is_ignored(settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 2
    _staff("eli-limit")
    for attempt in range(2):
        _sign_in_through_proxy("eli-limit", f"guess-{attempt}", f"203.0.113.{attempt}")

    # A client that writes a new X-Forwarded-For each time is still one address.
    refused = _sign_in_through_proxy("eli-limit", "the-right-password-1", "198.51.100.9")

    assert "Too many failed sign-ins" in refused.content.decode()
