"""The arms_sync app's URLs, one URL conf for the app and its intake/ and notify/ sub-packages
(sae_console/urls.py includes it at the site's root). Each page area keeps its own prefix and
namespace: the ARMS pages (`arms:`), the deliveries and the contact test (`notify:`), the
alerts (`alerts:`); the Alertmanager webhook has none (below)."""

from django.urls import include, path

from arms_sync import views
from arms_sync.intake import endpoint
from arms_sync.intake import views as intake_views
from arms_sync.notify import views as notify_views

arms_patterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("policies/", views.policy_list, name="policy_list"),
    path("merge/", views.merge_contacts, name="merge_contacts"),
]

notify_patterns = [
    path("deliveries/", notify_views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/", notify_views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/resend/", notify_views.delivery_resend, name="delivery_resend"),
    path("contacts/<int:pk>/test/", notify_views.contact_test, name="contact_test"),
    path(
        "contacts/<int:pk>/test-values/",
        notify_views.contact_test_values,
        name="contact_test_values",
    ),
]

alert_patterns = [
    path("", intake_views.alert_list, name="alert_list"),
    path("<int:pk>/", intake_views.alert_detail, name="alert_detail"),
    path("<int:pk>/acknowledge/", intake_views.alert_acknowledge, name="alert_acknowledge"),
    path("intake/", intake_views.intake, name="intake"),
    path("intake/test/", intake_views.intake_test, name="intake_test"),
]

urlpatterns = [
    path("arms/", include((arms_patterns, "arms"))),
    path("notify/", include((notify_patterns, "notify"))),
    path("alerts/", include((alert_patterns, "alerts"))),
    # The address Alertmanager's configuration names, at the site's root and without a
    # namespace.
    path("intake/alertmanager/", endpoint.alertmanager, name="intake_alertmanager"),
]
