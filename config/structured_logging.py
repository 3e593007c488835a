"""Log filters and formatters shared by every process.

Every handler carries three filters: ``RefusalTracebackFilter`` drops the traceback Django
attaches to a request it refused (4xx), ``ContextFilter`` stamps the request, tenant and job ids
(and, with tracing on, the trace id: core.tracing) onto the record, and ``RedactionFilter``
removes credentials from the message, its arguments, its extra fields and its traceback before
any formatter sees them. Redaction happens on the record itself, so no handler or formatter can
print the secret by accident. An extra field that is an object, not text (Django puts the
request on every `django.request` record), stays an object for the handlers that use it, and
the JSON formatter redacts the text it writes for it (`RedactingJsonEncoder`): a request's
repr holds its path, and a credential form's path holds its link token.
"""

import logging

from pythonjsonlogger.json import JsonEncoder as _BaseJsonEncoder
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from core import log_context
from core.redaction import redact_text, redact_value
from core.tracing import current_trace_id

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "tenant_id", "job_id", "trace_id"}
)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = log_context.request_id.get() or "-"
        record.tenant_id = log_context.tenant_id.get() or "-"
        record.job_id = log_context.job_id.get() or "-"
        # After the request's span has ended (the server's line about it), its trace still.
        record.trace_id = current_trace_id() or log_context.request_trace_id.get() or "-"
        return True


class RefusalTracebackFilter(logging.Filter):
    """Django logs a refused request (403 PermissionDenied, 400 SuspiciousOperation or an
    unparsable body) with the exception's traceback: a viewer opening an admin page they may
    not change printed thirty lines that say nothing an operator can act on. The one line,
    with its status and path, stays; a 5xx keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
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


class RedactingJsonEncoder(_BaseJsonEncoder):
    """What the JSON formatter writes for a value that is not JSON already (a request, a
    dataclass, an exception), with the redaction filter's rules applied to it."""

    def default(self, o):
        return redact_value(super().default(o))


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line, with the context ids as top-level fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("json_encoder", RedactingJsonEncoder)
        kwargs.setdefault(
            "fmt",
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant_id)s "
            "%(job_id)s %(trace_id)s",
        )
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data, record, message_dict) -> None:
        super().add_fields(log_data, record, message_dict)
        if record.name == "django.server":
            # runserver's line about a request puts the connection's socket on the record as
            # `request` (its repr: a file descriptor and both addresses) and the time again as
            # `server_time`: noise on every line. Its status code stays.
            log_data.pop("request", None)
            log_data.pop("server_time", None)

    def formatException(self, ei) -> str:
        # This formatter renders tracebacks itself rather than reusing the filtered exc_text.
        return redact_text(super().formatException(ei))
