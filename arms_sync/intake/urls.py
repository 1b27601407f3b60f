from django.urls import path

from arms_sync.intake import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("<int:pk>/", views.alert_detail, name="alert_detail"),
    path("<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("intake/", views.intake, name="intake"),
    path("intake/test/", views.intake_test, name="intake_test"),
]
