from api.routes import api_path
from webhooks import apis

app_name = "webhooks"

urlpatterns = [
    *api_path("webhooks/endpoints", apis.EndpointCollectionApi.as_view(), name="endpoint-list"),
    *api_path(
        "webhooks/endpoints/<str:endpoint_id>", apis.EndpointApi.as_view(), name="endpoint-detail"
    ),
    *api_path(
        "webhooks/endpoints/<str:endpoint_id>/rotate-secret",
        apis.EndpointSecretRotateApi.as_view(),
        name="endpoint-rotate-secret",
    ),
    *api_path("webhooks/deliveries", apis.DeliveryListApi.as_view(), name="delivery-list"),
    *api_path(
        "webhooks/deliveries/<str:delivery_id>",
        apis.DeliveryApi.as_view(),
        name="delivery-detail",
    ),
    *api_path(
        "webhooks/deliveries/<str:delivery_id>/replay",
        apis.DeliveryReplayApi.as_view(),
        name="delivery-replay",
    ),
]
