from django.urls import path

from arms_sync import views

app_name = "arms"
urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("policies/", views.policy_list, name="policy_list"),
    path("merge/", views.merge_contacts, name="merge_contacts"),
]
