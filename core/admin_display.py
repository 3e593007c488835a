"""What every admin page shows alike: coloured status badges, JSON laid out to be read, and
messages after an action that say what was done, to what, in words.

Their look is in templates/admin/base_site.html (`.status-badge`, `pre.json`); each colour a
badge is given is at least 4.5:1 against its white text.
"""

import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import model_format_dict
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from core.errors import ApplicationError

GREY = "#6b7280"


def badge(label: str, colour: str = GREY, *, title: str = ""):
    """A small coloured label for a status; `title` says more on hover."""
    if title:
        return format_html(
            '<span class="status-badge" style="background:{}" title="{}">{}</span>',
            colour,
            title,
            label,
        )
    return format_html('<span class="status-badge" style="background:{}">{}</span>', colour, label)


def json_block(value):
    """JSON indented and sorted, in a monospace block that scrolls rather than stretches."""
    return format_html(
        '<pre class="json">{}</pre>', json.dumps(value, indent=2, sort_keys=True, default=str)
    )


def admin_action_log(modeladmin, request, obj) -> None:
    """Enter an admin action done to `obj` in Django's admin log (LogEntry, each object's
    History), under the action's description. Django logs the saves of its forms itself, but
    not actions. (Who did what to the service's data is the audit log's, audit/, which the
    services behind every action write to.)"""
    name = request.POST.get("action", "")
    action = modeladmin.get_actions(request).get(name)
    description = str(action[2]) % model_format_dict(modeladmin.opts) if action else name
    modeladmin.log_change(request, obj, f"Admin action: {description}")


@dataclass(frozen=True)
class Refusal:
    """A reason of refusal that names something of its own object (the job in the way): said
    `alone` when that object is the only one refused for it, else `shared` once for all of
    them (`each_object` groups by `shared`), rather than one warning per object."""

    shared: str
    alone: str


def each_object(modeladmin, request, objects, call, *, done, refused, reason=None) -> None:
    """Call `call` on each object, then say what came of it: one warning per reason of
    refusal, `refused(the objects refused for it)` then the reason, and one message that says
    what was done (`done(the objects it was done for)`). Each object done goes into the admin
    log (`admin_action_log`). The reason is the error's message, or `reason(obj, error)` where
    the admin words it otherwise than the API (which documents its messages for developers):
    a string, or a `Refusal` where it names something of the object's own.

    Refusals are grouped by their reason: an action chosen for a whole fleet (Provision for
    thousands of tenants still awaiting credentials) says each reason once, naming a few of
    its objects, rather than in one warning per object that buries what was done.

    An action stops starting objects once it has run ADMIN_ACTION_SECONDS: the web server ends
    a request that runs past its timeout (gunicorn's 30 s) by killing its worker, which would
    leave the person a 502 and no word of what was done. The objects not reached are named as
    refused for that reason, to be selected again."""
    succeeded = []
    refusals: dict[str, list] = {}
    alone: dict[str, str] = {}  # a Refusal's words for one object, by its shared words
    objects = list(objects)
    deadline = time.monotonic() + settings.ADMIN_ACTION_SECONDS
    for position, obj in enumerate(objects):
        if position and time.monotonic() > deadline:
            reason = (
                f"this action ran for its {settings.ADMIN_ACTION_SECONDS:g} seconds "
                "(ADMIN_ACTION_SECONDS) before it reached them; select them and run it again"
            )
            refusals[reason] = objects[position:]
            break
        try:
            call(obj)
        except ApplicationError as error:
            said = error.message if reason is None else reason(obj, error)
            if isinstance(said, Refusal):
                alone.setdefault(said.shared, said.alone)
                said = said.shared
            refusals.setdefault(said, []).append(obj)
        else:
            succeeded.append(obj)
            admin_action_log(modeladmin, request, obj)
    for reason, refused_objects in refusals.items():
        if len(refused_objects) == 1:
            reason = alone.get(reason, reason)
        modeladmin.message_user(request, f"{refused(refused_objects)}: {reason}", messages.WARNING)
    if succeeded:
        modeladmin.message_user(request, done(succeeded), messages.SUCCESS)


def confirmed_objects(request, queryset):
    """The objects an action that asks first (admin/action_confirmation.html) was confirmed
    for: its page posts their ids in one field, `confirmed`, over the list's whole selection
    (`select_across`), rather than one field per object, which for more than
    DATA_UPLOAD_MAX_NUMBER_FIELDS objects (1,000: "select all" on a fleet) Django refuses
    with a 400. Before the confirmation, and for a post without that field, `queryset`."""
    confirmed = request.POST.get("confirmed")
    if confirmed is None:
        return queryset
    return queryset.filter(pk__in=confirmed.split())


def share_shown(share: float) -> str:
    """A share (0.02 for 2%) as a person reads it: two decimals, and a share too small for
    them "<0.01%" rather than "0.00%", which reads as none at all."""
    if 0 < share < 0.0001:
        return "<0.01%"
    return f"{share:.2%}"


def counted(objects, noun: str, plural: str = "") -> str:
    """ "1 job", "2 jobs"; `plural` where adding an s is wrong ("deliveries")."""
    return f"{len(objects)} {noun if len(objects) == 1 else plural or noun + 's'}"


def tenants_named(tenants) -> str:
    """ "acme", or "2 tenants (acme, globex)"; at most five named, in order."""
    names = sorted(tenant.external_id for tenant in tenants)
    if len(names) == 1:
        return names[0]
    return f"{len(names)} tenants ({_first_five(names)})"


def objects_named(objects, noun: str, name, plural: str = "") -> str:
    """ "job 1a2b3c4d", or "3 jobs (1a2b3c4d, 5e6f7a8b, 9c0d1e2f)"; at most five named (by
    `name(obj)`), in order; `plural` as for `counted`."""
    names = sorted(name(obj) for obj in objects)
    if len(names) == 1:
        return f"{noun} {names[0]}"
    return f"{counted(names, noun, plural)} ({_first_five(names)})"


def _first_five(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def secret_once_response(modeladmin, request, *, title: str, secrets, advice: str):
    """The page that shows a new secret (an API key, a webhook signing secret) this once, as
    the answer to the save or the action that made it. Not a message: Django's default message
    storage carries messages to the next page in a cookie, readable by whatever sees the
    browser's cookies. `secrets` are pairs of the words before each secret and the secret."""
    response = TemplateResponse(
        request,
        "admin/secret_once.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "secrets": list(secrets),
            "advice": advice,
            "opts": modeladmin.model._meta,
        },
    )
    add_never_cache_headers(response)  # Cache-Control: no-store: not kept by the browser
    return response
