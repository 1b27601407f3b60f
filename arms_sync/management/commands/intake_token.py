"""`intake_token ACCOUNT_ID [--url URL] [--json]`: a new Alertmanager intake token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from arms_sync.intake import services
from ram_directory.management.base import AccountCommand
from ram_directory.models import Account


class Command(AccountCommand):
    help = (
        "Create a new intake token for the account, revoking the old one at once, and print "
        "it with the Alertmanager webhook_configs snippet that uses it. The token is shown "
        "only now; the console keeps only its hash."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default="",
            help="the console's address as Alertmanager reaches it (default: SAE_PUBLIC_URL, "
            "else http://127.0.0.1:8000)",
        )

    def handle_account(self, account: Account, **options: Any) -> None:
        url = services.endpoint_url(options["url"])
        token = services.rotate_token(account=account, created_by="manage.py intake_token")
        snippet = services.snippet(url=url, token=token)
        if options["as_json"]:
            self.print_json({"token": token, "url": url, "snippet": snippet})
            return
        self.stdout.write(f"token: {token}")
        self.stdout.write("(shown once; the previous token no longer works)")
        self.stdout.write(f"url:   {url}\n\nAlertmanager configuration:\n{snippet}")
