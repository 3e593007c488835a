"""Version 1 of the host app API. Unknown paths answer 404 in the API's error shape."""

from django.urls import include, path, re_path

from api.views import ApiRootApi, UnknownEndpointApi

urlpatterns = [
    # The root without the slash ("/api/v1") is in config/urls.py, outside this prefix.
    path("", ApiRootApi.as_view()),
    path("", include("tenants.urls")),
    re_path(r"^.*$", UnknownEndpointApi.as_view(), name="api-unknown"),
]
