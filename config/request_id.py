import re
import uuid

from core import log_context
from core.tracing import current_trace_id

# A caller-supplied id is echoed only when it is short and plain, so that it cannot be used to
# inject text into our logs.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Give every request an id, put it in the log context and echo it as X-Request-ID.

    First in MIDDLEWARE, so that every answer has one: static files (WhiteNoise answers them
    before the middleware after it), HTTPS redirects, 503 pages.

    The log context outlives the view: it ends when the server closes the response. Django
    writes its "Not Found: ..." line after the middleware chain has returned, and runserver
    and gunicorn write their line about the request after sending the body, just before they
    close the response; each of those lines carries the id (and the tenant a view named, and
    the trace of the request's span).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        # The instrumentation's middleware goes before this one: the request's span (with
        # tracing on) is current here, and its trace stays on the lines written after it ends.
        tokens = log_context.request_begin(rid=rid, trace=current_trace_id())
        try:
            response = self.get_response(request)
        except BaseException:
            log_context.request_end(tokens)
            raise
        response["X-Request-ID"] = rid
        close = response.close

        def close_then_end_context():
            try:
                close()
            finally:
                log_context.request_end(tokens)

        # An instance attribute: Django hands `response.close` to the server's file wrapper
        # for file responses, so this runs whichever way the body is sent.
        response.close = close_then_end_context
        return response
