"""The Alertmanager webhook at the site's root (`/intake/alertmanager/`, the address
Alertmanager's configuration names), without a namespace."""

from django.urls import path

from arms_sync.intake import endpoint

urlpatterns = [
    path("intake/alertmanager/", endpoint.alertmanager, name="intake_alertmanager"),
]
