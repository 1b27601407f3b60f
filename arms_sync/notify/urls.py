from django.urls import path

from arms_sync.notify import views

app_name = "notify"
urlpatterns = [
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/resend/", views.delivery_resend, name="delivery_resend"),
    path("contacts/<int:pk>/test/", views.contact_test, name="contact_test"),
    path("contacts/<int:pk>/test-values/", views.contact_test_values, name="contact_test_values"),
]
