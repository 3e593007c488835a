"""A post the connect pages cannot read: more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS, a
body over DATA_UPLOAD_MAX_MEMORY_SIZE, a broken multipart body, or a form body that is not
UTF-8 (`charset=utf-16`).

Django raises when a view first reads `request.POST`, and its own answer is an unbranded
English 400 page (with DEBUG on, the debug page naming settings and sys.path), framed by
nobody (`X-Frame-Options: DENY`), with an ERROR traceback in the log. Such a post is never
sent by our pages: a hand-made or broken request, not a fault of ours. `connect_page` reads
the body once, here, before the view, and answers with the connect pages' own page.
"""

from __future__ import annotations

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http.multipartparser import MultiPartParserError

TOO_LARGE, TOO_MANY_FIELDS, MALFORMED = "too_large", "too_many_fields", "malformed"
STATUS = {TOO_LARGE: 413, TOO_MANY_FIELDS: 400, MALFORMED: 400}


def post_body_unreadable(request) -> str | None:
    """Why the post's body cannot be read as a form (TOO_LARGE, TOO_MANY_FIELDS, MALFORMED;
    STATUS says the answer's status), None when it can. After a failed read Django leaves
    `request.POST` empty, so nothing later reads it again."""
    if request.method != "POST":
        return None
    try:
        request.POST  # noqa: B018 (reading it is the check)
    except RequestDataTooBig:
        return TOO_LARGE
    except (TooManyFieldsSent, TooManyFilesSent):
        return TOO_MANY_FIELDS
    except (MultiPartParserError, BadRequest):
        # BadRequest: a form body in a charset other than UTF-8 (`charset=utf-16`), which
        # Django refuses to decode.
        return MALFORMED
    return None
