from django.urls import path

from contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new/", views.contact_new, name="new"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
]
