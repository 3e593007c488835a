"""Request bodies are JSON: `application/json`, or a `+json` type such as
`application/merge-patch+json`. A body of any other type is refused with 415 naming the type
that was sent, whether or not the operation reads a body, rather than read as empty (which
would answer "field required" about fields that were sent)."""

import codecs
import re

from django.http import Http404
from rest_framework.exceptions import (
    NotAcceptable,
    NotFound,
    ParseError,
    UnsupportedMediaType,
    ValidationError,
)
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

_JSON_MEDIA_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
_SHOWN_MAX = 100


def is_json_media_type(content_type: str) -> bool:
    return bool(_JSON_MEDIA_TYPE.match(content_type.split(";", 1)[0].strip().lower()))


def json_content_type_check(content_type: str) -> None:
    """UnsupportedMediaType (415) unless `content_type` is a JSON type."""
    if is_json_media_type(content_type):
        return
    expected = "send it with `Content-Type: application/json`"
    if not content_type.strip():
        raise UnsupportedMediaType(
            "", detail=f"The request has a body but no Content-Type. It must be JSON; {expected}."
        )
    shown = _shown(content_type)
    raise UnsupportedMediaType(
        content_type,
        detail=f'The body\'s Content-Type is "{shown}". The body must be JSON; {expected}.',
    )


def _shown(sent: str) -> str:
    """What the client sent, as an error message may repeat it: printable, and short."""
    return "".join(c for c in sent if c.isprintable())[:_SHOWN_MAX]


def _object_without_repeated_names(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, refusing a name given twice: JSON leaves it undefined and Python keeps
    the last, so `{"external_id": "a", "external_id": "b"}` would quietly mean "b"."""
    document = dict(pairs)
    if len(document) < len(pairs):
        seen: set[str] = set()
        repeated = sorted({name for name, _ in pairs if name in seen or seen.add(name)})
        raise ValidationError({name: ["Given more than once; give it once."] for name in repeated})
    return document


class JsonParser(JSONParser):
    """DRF's JSON parser, plus: a name given twice in an object is a 400 naming it, and
    nesting too deep for Python's parser is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            return json.load(
                codecs.getreader(encoding)(stream),
                parse_constant=json.strict_constant if self.strict else None,
                object_pairs_hook=_object_without_repeated_names,
            )
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


class JsonContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that every JSON type (`+json` too) is read by the JSON
    parser: DRF matches media types exactly."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            # DRF's "Could not satisfy the request Accept header." says neither what was
            # asked for nor what would do.
            shown = _shown(request.META.get("HTTP_ACCEPT", ""))
            raise NotAcceptable(
                f'The request\'s Accept header is "{shown}"; the API answers in JSON only: '
                "accept `application/json` (or send no Accept header)."
            ) from None

    def select_parser(self, request, parsers):
        if is_json_media_type(request.content_type):
            for parser in parsers:
                if isinstance(parser, JSONParser):
                    return parser
        return super().select_parser(request, parsers)


class FormatParameterContentNegotiation(JsonContentNegotiation):
    """For the OpenAPI document's view only: drf-spectacular's `?format=json` (or `yaml`)
    chooses the document's format, as its documentation shows. The API itself takes no
    `format` (REST_FRAMEWORK["URL_FORMAT_OVERRIDE"] is off)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        chosen = format_suffix or request.query_params.get("format")
        try:
            return super().select_renderer(request, renderers, chosen)
        except Http404:
            shown = _shown(chosen)
            raise NotFound(
                f'The document has no format "{shown}": it is served as json or yaml '
                "(`?format=json` or `?format=yaml`)."
            ) from None
        except NotAcceptable:
            raise NotAcceptable(
                "The document is served as json or yaml, and the request's Accept header "
                "takes neither: accept `application/vnd.oai.openapi+json`, `application/json` "
                "or `application/vnd.oai.openapi` (YAML), or ask with `?format=json` or "
                "`?format=yaml`."
            ) from None
