"""A request Django refuses (4xx) logs one line, not a traceback; an error (5xx) keeps its
traceback. Seen before: every admin page a viewer may not open logged thirty lines of
`PermissionDenied` traceback under `django.request`."""

import io
import logging
import sys

import pytest

from config.structured_logging import ContextFilter, RefusalTracebackFilter


@pytest.fixture
def console():
    """The service's console handler (settings.LOGGING), writing to a buffer meanwhile."""
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, ContextFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_viewer_refused_an_admin_page_logs_one_line_without_a_traceback(viewer_admin, console):
    response = viewer_admin.get("/admin/core/integratoraccount/add/")

    assert response.status_code == 403
    output = console.getvalue()
    assert "Forbidden (Permission denied): /admin/core/integratoraccount/add/" in output
    assert "Traceback" not in output


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    for status, kept in ((500, True), (403, False), (400, False)):
        record = logging.LogRecord("django.request", logging.ERROR, "", 0, "x", None, exc_info)
        record.status_code = status
        assert RefusalTracebackFilter().filter(record) is True
        assert (record.exc_info is not None) is kept
