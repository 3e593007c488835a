"""The health probes and /metrics, answered whatever host the request names.

Django checks the Host header against ALLOWED_HOSTS the first time something asks for it, and
CommonMiddleware asks on every request. The callers of these three paths name the service by
its address, not by its public name: docker compose's healthcheck (127.0.0.1:8000), a kubelet
(the pod's address), Prometheus (web:8000, docs/operations.md). With ALLOWED_HOSTS set to the
public name alone, as the README's production setup sets it, each of them was answered 400 Bad
Request. Nothing these views answer is built from the host, so they are answered here, before
the host check and the rest of the chain (sessions, CSRF, the admin's user), as the HTTPS
redirect already exempts them (SECURE_REDIRECT_EXEMPT). Every other path keeps the check.
"""

from config.health import healthz, readyz
from config.metrics import metrics_view

PROBE_VIEWS = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_view}


class ProbesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = PROBE_VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)
