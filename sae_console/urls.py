from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from arms_sync.intake import endpoint as intake_endpoint
from ram_directory import auth_views, language

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="contacts:list", permanent=False), name="home"),
    path("signin/", auth_views.SignInView.as_view(), name="signin"),
    path("signout/", auth_views.sign_out, name="signout"),
    # Before Django's own: the switcher also remembers the choice on the sign-in.
    path("i18n/setlang/", language.switch_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("ram/", include("ram_directory.urls")),
    path("contacts/", include("contacts.urls")),
    path("arms/", include("arms_sync.urls")),
    path("notify/", include("arms_sync.notify.urls")),
    path("alerts/", include("arms_sync.intake.urls")),
    path("audit/", include("ram_directory.audit_urls")),
    path("cloud/", include("aliyun.urls")),
    path("intake/alertmanager/", intake_endpoint.alertmanager, name="intake_alertmanager"),
    path("admin/", admin.site.urls),
]
