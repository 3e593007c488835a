"""The language of the end customer's pages (`/connect/`), chosen without cookies or sessions.

In order: the link's own `locale` (the host app knows its customer's language and says so when
it creates the link), else the browser's `Accept-Language`, else English. The pages may live
in a cross-site iframe where cookies are not kept, and they never set one, so Django's
`LocaleMiddleware` (which reads a language cookie) is not used. Only languages in
`settings.LANGUAGES` are chosen; `de-AT` or `de-CH` get German.

The middleware activates the browser's language for every `/connect/` request, the link's
language replaces it once a view has resolved the link (`link_language_activate`), and the
language is reset after the response, so that nothing else served by the same thread (the
admin, the API) inherits it.
"""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

# Where config/urls.py mounts connect.urls.
CONNECT_PATH_PREFIX = "/connect/"


def supported_language(code: str) -> str:
    """The supported language for `code` (`de-AT` -> `de`), or "" when there is none."""
    if not code:
        return ""
    try:
        return translation.get_supported_language_variant(code.strip())
    except LookupError:
        return ""


def browser_language(request) -> str:
    """The first supported language of the request's `Accept-Language`, else the default.

    Parsed as Django's own `get_language_from_request` parses it (quality order, a cap on the
    header's length); that function is not used because it reads the language cookie first.
    A language with `q=0` is one the browser refuses, so it is skipped.
    """
    header = request.headers.get("Accept-Language", "")
    for code, quality in parse_accept_lang_header(header):
        if code == "*":
            break
        if quality <= 0:
            continue  # q=0: the browser does not accept it (RFC 9110, 12.4.2)
        language = supported_language(code)
        if language:
            return language
    return supported_language(settings.LANGUAGE_CODE) or settings.LANGUAGE_CODE


def link_language_activate(request, link) -> None:
    """Switch the request to the language its link was made for, if it names a supported one.

    Read defensively: links made before links had a `locale` (or a model without the field)
    simply keep the browser's language.
    """
    language_activate(request, str(getattr(link, "locale", "") or ""))


def language_activate(request, locale: str) -> None:
    """Switch the request to `locale` (a link's), if it names a supported language; otherwise
    keep the browser's. Also for a link that no longer works but is still on record."""
    language = supported_language(locale)
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


class ConnectLanguageMiddleware:
    """Activate the browser's language for `/connect/` requests, and only for those."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(CONNECT_PATH_PREFIX):
            return self.get_response(request)
        language = browser_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
            # The same URL answers in another language for another Accept-Language.
            patch_vary_headers(response, ("Accept-Language",))
            response.setdefault("Content-Language", translation.get_language())
            return response
        finally:
            translation.deactivate()
