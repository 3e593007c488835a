"""Endpoint secrets, signatures, and the retry schedule."""

import time
from datetime import timedelta
from email.utils import format_datetime

from django.utils import timezone

from retry_policy import retry_after_seconds
from webhooks import signing
from webhooks.delivery import delivery_retry_delay as retry_delay

BODY = b'{"id":"e1","type":"run.failed"}'


def test_a_signature_holds_only_for_its_secret_body_and_time():
    now = int(time.time())
    header = signing.signature_header(secret="whsec_a", timestamp=now, body=BODY)

    assert signing.signature_verify(secret="whsec_a", header=header, body=BODY)
    assert not signing.signature_verify(secret="whsec_b", header=header, body=BODY)
    assert not signing.signature_verify(secret="whsec_a", header=header, body=BODY + b" ")
    assert not signing.signature_verify(secret="whsec_a", header=header, body=BODY, now=now + 301)
    assert not signing.signature_verify(secret="whsec_a", header="v1=abc", body=BODY)


def test_secrets_are_derived_per_endpoint_from_the_signing_key(settings):
    settings.WEBHOOK_SIGNING_KEY = "key-one"
    first = signing.endpoint_secret(salt="salt-1")

    assert signing.endpoint_secret(salt="salt-1") == first
    assert signing.endpoint_secret(salt="salt-2") != first
    settings.WEBHOOK_SIGNING_KEY = "key-two"
    assert signing.endpoint_secret(salt="salt-1") != first


def test_retries_back_off_honour_retry_after_and_stop_at_the_cap(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_RETRY_MAX_SECONDS = 600

    assert 5 <= retry_delay(attempts=1, retry_after=None) <= 10
    assert 20 <= retry_delay(attempts=3, retry_after=None) <= 40
    assert retry_delay(attempts=1, retry_after=120) == 120
    assert retry_delay(attempts=20, retry_after=None) == 600
    assert retry_delay(attempts=1, retry_after=3600) == 600


def test_it_reads_retry_after_in_seconds_or_as_a_date():
    now = timezone.now()

    assert retry_after_seconds("7") == 7
    assert 89 <= retry_after_seconds(format_datetime(now + timedelta(seconds=90)), now=now) <= 90
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
