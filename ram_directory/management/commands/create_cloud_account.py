"""`create_cloud_account ACCOUNT_ID --login-name NAME`: a new tenant and its owner (rules §1,
§10)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError, CommandParser

from ram_directory import services
from ram_directory.management.base import (
    OperatorCommand,
    check_password_strength,
    password_from_env,
    stdin_is_tty,
)
from ram_directory.models import Account

PASSWORDS_DIFFER = "the two passwords differ"
EMPTY_PASSWORD = "an empty password was entered"


class Command(OperatorCommand):
    help = (
        "Create an Alibaba Cloud account (tenant) with its owner sign-in and the system "
        "policies. The owner signs in with the login name. The password comes from the "
        "environment variable named by --password-env, else from a prompt when run in a "
        "terminal; otherwise the owner gets no usable password (set one later)."
    )
    reports = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", metavar="ACCOUNT_ID", help="16-digit account ID (UID).")
        parser.add_argument(
            "--login-name",
            required=True,
            metavar="NAME",
            help="The owner's login name, e.g. ops@example.com (stored lower-cased).",
        )
        parser.add_argument(
            "--alias",
            metavar="ALIAS",
            help="Account alias: RAM users sign in as user_name@ALIAS.onaliyun.com "
            "(default: the account ID).",
        )
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="Read the owner's password from this environment variable.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["password_env"] and stdin_is_tty():
            # Say what is wrong with the account before asking for a password twice.
            self._precheck(options)
        password = self._password(options["password_env"])
        account = services.create_account(
            account_id=options["account_id"].strip(),
            login_name=options["login_name"],
            alias=options["alias"],
            password=password,
        )
        result = {
            "account_id": account.account_id,
            "login_name": account.login_name,
            "alias": account.alias,
            "upn_domain": account.upn_domain,
            "owner_can_sign_in": bool(password),
        }
        if options["as_json"]:
            self.print_json(result)
            return
        self.stdout.write(
            f"Created account {account.account_id} (alias {account.alias}); the owner signs in "
            f"as {account.login_name}"
            + ("." if password else " once a password is set (no usable password yet).")
        )
        self.stdout.write(f"RAM users of this account sign in as <user name>@{account.upn_domain}.")

    def _precheck(self, options: dict[str, Any]) -> None:
        account_id = options["account_id"].strip()
        Account(
            account_id=account_id,
            login_name=options["login_name"].strip().lower(),
            alias=(options["alias"] or account_id).strip().lower(),
        ).full_clean()

    def _password(self, env_name: str | None) -> str | None:
        if env_name:
            return password_from_env(env_name)
        if not stdin_is_tty():
            return None
        first = getpass.getpass("Owner password: ")
        if not first:
            raise CommandError(EMPTY_PASSWORD)
        if getpass.getpass("Owner password (again): ") != first:
            raise CommandError(PASSWORDS_DIFFER)
        check_password_strength(first)
        return first
