"""Who is acting: the actor every audit event is recorded for.

Services call `audit_record(...)` with what changed; who changed it comes from here, set once
at each entrance of the service rather than passed down every call:

- a web request (`audit.middleware.AuditActorMiddleware`): the signed-in admin user, read
  only when an event is recorded (most requests record nothing);
- the API (`api.authentication`): the API key, by its prefix and name;
- a credential form (`connect`): the connect link the end customer opened, and its tenant;
- a Celery task (the `task_prerun` signal): the system, named after the task (the sweeper,
  a rollout's driver, the drift check...);
- a management command: `acting_as(Actor.command(...))`, or, for any other command, the
  command's name taken from the process's arguments.

Context variables rather than thread-locals, as in `core.log_context`: they follow the code
into a threaded worker pool and are reset at the end of each request and task.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from audit.models import ActorType


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""
    name: str = ""

    @classmethod
    def api_key(cls, *, prefix: str, name: str) -> Actor:
        return cls(ActorType.API_KEY, prefix, name)

    @classmethod
    def user(cls, *, user_id: object, username: str) -> Actor:
        return cls(ActorType.USER, str(user_id), username)

    @classmethod
    def connect_link(cls, *, link_id: object, tenant: str) -> Actor:
        return cls(ActorType.CONNECT_LINK, str(link_id), tenant)

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(ActorType.SYSTEM, what, what)

    @classmethod
    def command(cls, name: str) -> Actor:
        # Who ran it, as the operating system knows them: the closest thing to an ops user a
        # shell has (a container often runs as root; still more than nothing).
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = ""
        return cls(ActorType.COMMAND, name, who)


ANONYMOUS = Actor(ActorType.ANONYMOUS)

# An Actor, or a function that finds it (the admin user of a request, read lazily).
_actor: ContextVar[Actor | Callable[[], Actor] | None] = ContextVar("audit_actor", default=None)


def actor_set(actor: Actor | Callable[[], Actor] | None):
    """Make `actor` the current one; returns the token that `actor_reset` takes."""
    return _actor.set(actor)


def actor_reset(token) -> None:
    with contextlib.suppress(ValueError):
        _actor.reset(token)


@contextlib.contextmanager
def acting_as(actor: Actor):
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        actor_reset(token)


def actor_current() -> Actor:
    value = _actor.get()
    if callable(value):
        value = value()
    if value is not None:
        return value
    return _process_actor()


def _process_actor() -> Actor:
    """Outside a request or task: a management command (`manage.py <name>`), else the
    system itself, unnamed (a shell, a script)."""
    program = os.path.basename(sys.argv[0]) if sys.argv else ""
    if program == "manage.py" and len(sys.argv) > 1:
        return Actor.command(sys.argv[1])
    return Actor.system("unattributed")


# --- Celery ---------------------------------------------------------------------------------

_task_tokens: dict[str, object] = {}


def _task_started(task_id=None, task=None, **kwargs) -> None:
    if task_id is not None and task is not None:
        _task_tokens[task_id] = _actor.set(Actor.system(task.name))


def _task_ended(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        actor_reset(token)


def celery_signals_connect() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="audit-actor-start")
    task_postrun.connect(_task_ended, weak=False, dispatch_uid="audit-actor-end")
