from django.urls import path

from connect import views

app_name = "connect"

urlpatterns = [
    path("<str:token>/", views.form, name="form"),
    path("<str:token>/status/", views.status, name="status"),
    path("<str:token>/status.json", views.status_json, name="status_json"),
]
