"""Sign-in, sign-out and the language switch, at the site's root without a namespace (the
project's URLconf includes this module before Django's own i18n URLs)."""

from django.urls import path

from ram_directory import auth_views, language

urlpatterns = [
    path("signin/", auth_views.SignInView.as_view(), name="signin"),
    path("signout/", auth_views.sign_out, name="signout"),
    # Ahead of django.conf.urls.i18n's: the switcher also remembers the choice on the sign-in.
    path("i18n/setlang/", language.switch_language, name="set_language"),
]
