from django.urls import path

from connect import oauth_views, portal_views, views

app_name = "connect"

urlpatterns = [
    # The one redirect URI of every OAuth app (no link token in it: the state names the link).
    path("oauth/callback", oauth_views.callback, name="oauth_callback"),
    path("<str:token>/oauth/<slug:slot_key>/start", oauth_views.start, name="oauth_start"),
    path("<str:token>/oauth/<slug:slot_key>/consent", oauth_views.consent, name="oauth_consent"),
    path("<str:token>/", views.form, name="form"),
    path("<str:token>/status/", views.status, name="status"),
    path("<str:token>/status.json", views.status_json, name="status_json"),
    # The customer's integration page, for links made with `sections` (portal_views.py).
    path("<str:token>/portal/", portal_views.portal, name="portal"),
    path("<str:token>/portal/settings", portal_views.settings_save, name="portal_settings"),
    path("<str:token>/portal/flows", portal_views.flow_switch, name="portal_flows"),
    path(
        "<str:token>/portal/connections/check",
        portal_views.connections_check,
        name="portal_connections_check",
    ),
    path("<str:token>/portal/runs/<str:run_id>/", portal_views.run, name="portal_run"),
    path(
        "<str:token>/portal/runs/<str:run_id>/errors",
        portal_views.run_errors,
        name="portal_run_errors",
    ),
]
