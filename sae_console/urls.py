"""The roof's URLconf: it includes each app's URL modules and the admin, and imports no app's
views (docs/architecture.md)."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="contacts:list", permanent=False), name="home"),
    path("", include("ram_directory.auth_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("ram/", include("ram_directory.urls")),
    path("contacts/", include("contacts.urls")),
    path("", include("arms_sync.urls")),
    path("audit/", include("ram_directory.audit_urls")),
    path("cloud/", include("aliyun.urls")),
    path("admin/", admin.site.urls),
]
