from django.urls import path

from aliyun import views

app_name = "cloud"
urlpatterns = [
    path("", views.connection, name="connection"),
    path("check/", views.check, name="check"),
    path("disconnect/", views.disconnect, name="disconnect"),
]
