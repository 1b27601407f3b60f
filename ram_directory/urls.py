from django.urls import path

from ram_directory import views

app_name = "ram"
urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("policies/", views.policy_list, name="policy_list"),
]
