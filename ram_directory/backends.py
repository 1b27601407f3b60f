from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from ram_directory.models import User


class ConsoleSignInBackend(ModelBackend):
    """Signs in by the account's login name or a RAM user's UPN, without regard to case.

    Both are stored lower-cased in `User.username`, so one indexed lookup serves both.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        try:
            user = User.objects.select_related("account", "ram_user").get(
                username=username.strip().lower()
            )
        except User.DoesNotExist:
            # Run the hasher anyway so a missing name costs as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        try:
            user = User.objects.select_related("account", "ram_user__account").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def axes_username(request, credentials=None) -> str | None:
    """The name django-axes counts failed sign-ins under (AXES_USERNAME_CALLABLE).

    Normalised exactly as `ConsoleSignInBackend` looks the name up, so typing `OPS@x.com`
    instead of `ops@x.com` is the same sign-in and cannot dodge the lockout.
    """
    data = credentials if credentials else getattr(request, "data", request.POST)
    username = data.get("username")
    return username.strip().lower() if isinstance(username, str) else username
