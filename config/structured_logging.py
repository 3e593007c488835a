"""Log filters and formatters shared by every process.

Every handler carries two filters: ``ContextFilter`` stamps the request, tenant and job ids onto
the record, and ``RedactionFilter`` removes credentials from the message, its arguments, its
extra fields and its traceback before any formatter sees them. Redaction happens on the record
itself, so no handler or formatter can print the secret by accident.
"""

import logging
import re
from collections.abc import Mapping

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from config import log_context

REDACTED = "[REDACTED]"

# Names whose values are secrets wherever they appear: dict keys, JSON fields, query strings,
# keyword arguments. Matching is by substring and case-insensitive ("bearerToken",
# "INTEGRATOR_API_TOKEN", "client_secret", "X-Api-Key" all match).
_SENSITIVE_NAME = (
    r"(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|authorization|"
    r"credential|private[_-]?key|signature|cookie|session[_-]?id)"
)
_SENSITIVE_NAME_RE = re.compile(_SENSITIVE_NAME, re.IGNORECASE)

_PATTERNS = [
    # Credential-form links carry their bearer token in the path (/connect/<token>/), and
    # Django logs the path of every 4xx answer. Only where /connect/ is the path's first
    # segment: at the start of a line, after a space, quote or `=`, or right after a URL's
    # host. /static/connect/connect.css is a file name, not a token.
    (
        re.compile(r"""((?:^|[\s"'(<=,;]|//[^/\s"'?#]+)/connect/)[^/\s?#"']+""", re.MULTILINE),
        rf"\1{REDACTED}",
    ),
    # "Bearer abc", "Api-Key abc.def", "Basic dXNlcjpwdw==" anywhere in text.
    (
        re.compile(r"\b(Bearer|Api-Key|Basic|Token)\s+[A-Za-z0-9._~+/=-]{4,}", re.IGNORECASE),
        rf"\1 {REDACTED}",
    ),
    # Quoted values after a sensitive key: 'password': 'x', "token": "x", password="x".
    (
        re.compile(
            rf"""(["']?[\w.-]*{_SENSITIVE_NAME}[\w.-]*["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2""",
            re.IGNORECASE,
        ),
        rf"\1\2{REDACTED}\2",
    ),
    # Unquoted values after a sensitive key: password=x, ?token=x&, Authorization: x.
    (
        re.compile(
            rf"""(["']?[\w.-]*{_SENSITIVE_NAME}[\w.-]*["']?\s*[:=]\s*)(?!["'\[{{]|{re.escape(REDACTED)})[^\s,&;}}\])'"]+""",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
]

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "tenant_id", "job_id"}
)


def redact_text(text: str) -> str:
    """Return ``text`` with every credential-looking value replaced by ``[REDACTED]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value, *, key: str | None = None):
    """Redact a structured value: secrets by key name, then any secret inside strings."""
    if key is not None and _SENSITIVE_NAME_RE.search(key) and value not in (None, "", False):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = log_context.request_id.get() or "-"
        record.tenant_id = log_context.tenant_id.get() or "-"
        record.job_id = log_context.job_id.get() or "-"
        return True


class RedactionFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRS:
                setattr(record, name, redact_value(value, key=name))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line, with the context ids as top-level fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "fmt",
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant_id)s "
            "%(job_id)s",
        )
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        super().__init__(*args, **kwargs)

    def formatException(self, ei) -> str:
        # This formatter renders tracebacks itself rather than reusing the filtered exc_text.
        return redact_text(super().formatException(ei))
