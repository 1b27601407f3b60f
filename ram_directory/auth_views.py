from __future__ import annotations

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST


class SignInForm(AuthenticationForm):
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


@require_POST
def sign_out(request):
    logout(request)
    return redirect("signin")
