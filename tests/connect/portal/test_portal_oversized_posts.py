"""The integration page's posts, too large or with too many fields for Django to read: the
connect pages' own page, in the link's language, framable by the tenant (see
tests/connect/test_oversized_posts.py for the credential form)."""

import pytest

from tests.connect.test_oversized_posts import (
    TOO_LARGE,
    TOO_MANY_FIELDS,
    assert_our_page,
    oversized_post,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", ["settings", "flows", "runs/flow-orders-job-0/errors"])
def test_each_post_answers_in_the_links_language(acme, portal_link, client, caplog, suffix):
    path = portal_link(acme, locale="de").path

    response = oversized_post(client, path + suffix, TOO_MANY_FIELDS)

    html = assert_our_page(response, 400, caplog)
    assert '<html lang="de">' in html
    assert "Es enthielt mehr Felder, als diese Seite sendet." in html
    assert "Es wurde nichts gespeichert." in html
    assert f'href="{path}"' in html  # back to the integration page


def test_a_read_only_link_refuses_an_oversized_post_the_same_way(acme, portal_link, client, caplog):
    path = portal_link(acme, sections=["runs"], read_only=True).path

    response = oversized_post(client, path + "settings", TOO_LARGE)

    assert "It was larger than this page sends." in assert_our_page(response, 413, caplog)
