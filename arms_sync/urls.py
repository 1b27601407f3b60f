from django.urls import path

from arms_sync import views

app_name = "arms"
urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("groups/", views.group_list, name="group_list"),
    path("policies/", views.policy_list, name="policy_list"),
    path("merge/", views.merge_contacts, name="merge_contacts"),
]
