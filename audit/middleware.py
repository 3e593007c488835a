from audit.context import ANONYMOUS, Actor, actor_reset, actor_set


class AuditActorMiddleware:
    """The actor of a web request: the signed-in user (the admin), found only when an event
    is recorded; the API's authentication and the credential forms replace it with the API
    key or the connect link. Reset when the request ends, so nothing leaks to the next one
    served by the thread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def request_actor() -> Actor:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                return Actor.user(user_id=user.pk, username=user.get_username())
            return ANONYMOUS

        token = actor_set(request_actor)
        try:
            return self.get_response(request)
        finally:
            actor_reset(token)
