from django.urls import path

from arms_sync.intake import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("intake/", views.intake, name="intake"),
]
