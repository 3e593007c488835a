import re
import uuid

from config import log_context

# A caller-supplied id is echoed only when it is short and plain, so that it cannot be used to
# inject text into our logs.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Give every request an id, put it in the log context and echo it as X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        token = log_context.request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            log_context.request_id.reset(token)
        response["X-Request-ID"] = rid
        return response
