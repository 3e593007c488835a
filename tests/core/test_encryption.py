"""Encryption at rest: keys from the environment, bound to where each value is stored."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.encryption import (
    DecryptionFailed,
    decrypt,
    encrypt,
    key_id_of,
    key_new,
    keyring_parse,
)


@pytest.fixture
def keys(settings):
    old, new = key_new(), key_new()
    settings.ENCRYPTION_KEYS = f"new:{new},old:{old}"
    return {"old": old, "new": new}


def test_it_round_trips_and_hides_the_plaintext(keys):
    sealed = encrypt("whsec_abc", context="row:1")
    assert "whsec_abc" not in sealed
    assert key_id_of(sealed) == "new"
    assert decrypt(sealed, context="row:1") == "whsec_abc"


def test_a_value_copied_to_another_row_does_not_decrypt(keys):
    sealed = encrypt("secret", context="row:1")
    with pytest.raises(DecryptionFailed):
        decrypt(sealed, context="row:2")


def test_it_refuses_an_altered_value(keys):
    sealed = encrypt("secret", context="row:1")
    altered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(DecryptionFailed):
        decrypt(altered, context="row:1")


def test_an_older_key_still_decrypts_after_a_new_one_is_put_first(settings, keys):
    settings.ENCRYPTION_KEYS = f"old:{keys['old']}"
    sealed = encrypt("secret", context="row:1")
    settings.ENCRYPTION_KEYS = f"new:{keys['new']},old:{keys['old']}"
    assert decrypt(sealed, context="row:1") == "secret"
    settings.ENCRYPTION_KEYS = f"new:{keys['new']}"
    with pytest.raises(DecryptionFailed, match="no configured key 'old'"):
        decrypt(sealed, context="row:1")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "empty"),
        ("k1:short", "32 bytes"),
        ("bad id!:" + "A" * 43, "is not `id:key`"),
        ("k1:{key},k1:{key}", "twice"),
    ],
)
def test_it_explains_a_malformed_key_setting(value, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        keyring_parse(value.format(key=key_new()))
