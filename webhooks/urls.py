from django.urls import path

from webhooks import apis

app_name = "webhooks"

urlpatterns = [
    path("webhooks/endpoints/", apis.EndpointCollectionApi.as_view(), name="endpoint-list"),
    path(
        "webhooks/endpoints/<str:endpoint_id>/", apis.EndpointApi.as_view(), name="endpoint-detail"
    ),
    path(
        "webhooks/endpoints/<str:endpoint_id>/rotate-secret",
        apis.EndpointSecretRotateApi.as_view(),
        name="endpoint-rotate-secret",
    ),
    path("webhooks/deliveries/", apis.DeliveryListApi.as_view(), name="delivery-list"),
    path(
        "webhooks/deliveries/<str:delivery_id>/",
        apis.DeliveryApi.as_view(),
        name="delivery-detail",
    ),
    path(
        "webhooks/deliveries/<str:delivery_id>/replay",
        apis.DeliveryReplayApi.as_view(),
        name="delivery-replay",
    ),
]
