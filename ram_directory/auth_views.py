from __future__ import annotations

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ram_directory.middleware import principal_for


class SignInForm(AuthenticationForm):
    # Django's own says both fields "may be case-sensitive"; the login name is not (the
    # backend matches it without regard to case), only the password is.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Enter a correct login name and password. The password is case-sensitive; the "
            "login name is not."
        ),
    }
    username = forms.CharField(
        label=_("Login name"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "placeholder": "ops@example.com"}
        ),
        help_text=_("Account login name, or user_name@alias.onaliyun.com for a RAM user."),
    )


class SignInView(LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        """A platform operator (a sign-in with no account) lands on the admin, the console it
        uses: console pages answer it 403. A `next` inside the admin is kept."""
        if principal_for(self.request.user) is not None:
            return super().get_success_url()
        admin = reverse("admin:index")
        wanted = self.get_redirect_url()
        return wanted if wanted.startswith(admin) else admin


@require_POST
def sign_out(request):
    logout(request)
    return redirect("signin")
