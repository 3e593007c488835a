"""gunicorn's settings for every deployment: `gunicorn --config python:config.gunicorn_conf
config.wsgi:application` (the Dockerfile, docker-compose.yml and the README use it).

The address and the number of workers stay on the command line; what is here must hold
wherever the service runs:

- an access log on stdout, one line per request;
- no secret in gunicorn's own log lines. A credential form's URL carries its link token
  (`/connect/<token>/`, a bearer secret valid for up to 7 days), and so does the Referer of
  every request its page makes; an access log line would write it out on each page view, and
  gunicorn's error lines name the request's URI too. `RedactingLogger` runs both logs through
  the filter that redacts the app's own logs (config.structured_logging), so the same rules
  hold: `/connect/[REDACTED]/`, `token=[REDACTED]`, `Bearer [REDACTED]`. The access line's
  user field (`%(u)s`, the user name of HTTP Basic authentication) is always `-`.
- JSON lines with LOG_FORMAT=json (production's default), as the service's own lines are;
- the request id, tenant and trace on the access line, as on every line the service writes
  for the request (`req=... tenant=... trace=...`, or their JSON fields). gunicorn writes the
  line after sending the body and before closing the response, while the request's log context
  (config/request_id.py) still holds.
"""

import os

from gunicorn.glogging import Logger

from config.structured_logging import ContextFilter, JsonFormatter, RedactionFilter
from core import log_context


def _log_format() -> str:
    """The service's LOG_FORMAT (config.settings: `json` unless DEBUG=1). Read before Django is
    set up: settings that do not load (a missing SECRET_KEY) are on_starting's to report, so
    the environment decides then."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        from django.conf import settings

        return settings.LOG_FORMAT
    except Exception:
        debug = os.environ.get("DEBUG", "0").strip().lower() in ("1", "true", "yes", "on")
        return os.environ.get("LOG_FORMAT") or ("text" if debug else "json")


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        json_lines = _log_format() == "json"
        # On the loggers, not their handlers: gunicorn replaces handlers when it reopens its
        # log files, and a --log-config may bring handlers of its own.
        for log in (self.error_log, self.access_log):
            if json_lines and not any(isinstance(f, ContextFilter) for f in log.filters):
                log.addFilter(ContextFilter())
            if not any(isinstance(f, RedactionFilter) for f in log.filters):
                log.addFilter(RedactionFilter())
            if json_lines:
                # JSON lines like the service's own (LOG_FORMAT=json): a log shipper that reads
                # JSON lines gets no text line from gunicorn in between.
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # gunicorn decodes the user name of HTTP Basic authentication for `%(u)s`. Nothing here
        # authenticates that way, and what callers put there is a credential: `curl -u KEY:`
        # sends an API key as the user name, which would be written out in clear.
        atoms["u"] = "-"
        atoms["request_id"] = log_context.request_id.get() or "-"
        atoms["tenant_id"] = log_context.tenant_id.get() or "-"
        # The request's span has ended by now: its trace, kept in the request's log context.
        atoms["trace_id"] = log_context.request_trace_id.get() or "-"
        return atoms


logger_class = RedactingLogger
accesslog = "-"
# gunicorn's default line, then the same context as the service's own lines (in JSON lines,
# their fields: request_id, tenant_id, trace_id).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
if _log_format() != "json":
    access_log_format += " req=%(request_id)s tenant=%(tenant_id)s trace=%(trace_id)s"
# gunicorn's control socket (for `gunicornc`) goes under $HOME by default; the image's user has
# no home directory, so it would only log an error at every start. Nothing here uses it.
control_socket_disable = True
# The longest request line gunicorn takes (its default is 4094 bytes, then an HTML 414). The
# API's longest valid query string (a list's filters and cursor, percent-encoded) needs more.
limit_request_line = 8190


def child_exit(server, worker) -> None:
    """A gunicorn worker is gone: its live gauges go with it (prometheus_client's multiprocess
    mode, PROMETHEUS_MULTIPROC_DIR; its counters and histograms stay in the sums)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_starting(server) -> None:
    """Before any worker starts: a configuration error (a missing setting, unbuilt static
    files, an account token ENCRYPTION_KEYS does not open, INTEGRATOR_REQUEST_BUDGET_SECONDS
    not under `--timeout`) stops gunicorn with its one sentence (config/startup.py), instead
    of every worker failing to boot with a traceback and gunicorn retrying them."""
    import django
    from django.db import connections

    from config.startup import exit_on_misconfiguration, request_limits_verify, web_verify

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    with exit_on_misconfiguration():
        django.setup()
        request_limits_verify(server.cfg.timeout)
        web_verify()
    # The workers are forked from this process: none may inherit its database connection.
    connections.close_all()
