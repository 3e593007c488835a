"""URL patterns of API endpoints: each path without a trailing slash, as the schema shows it
(Stripe's and GitHub's style), and the same path with one, for clients that add it.

Both forms are served by the same view for every method, rather than redirected: a redirect
would make clients send a write twice, and a 301 or 302 turns many clients' POST into a GET
without its body. The schema lists only the form without the slash (`api.schema`).
"""

from django.urls import URLPattern, path


def api_path(route: str, view, *, name: str) -> list[URLPattern]:
    """`route` (no trailing slash) and `route/`, both to `view`; `name` reverses to the first."""
    route = route.rstrip("/")
    return [path(route, view, name=name), path(f"{route}/", view)]


def schema_canonical_paths(endpoints, **kwargs):
    """Preprocessing hook (SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"]): the schema shows each
    endpoint once, without the trailing slash."""
    return [endpoint for endpoint in endpoints if not endpoint[0].endswith("/")]
