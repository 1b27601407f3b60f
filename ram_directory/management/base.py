"""What every operator command shares (rules §10).

Bad input ends a command with a non-zero exit and ONE line on stderr (`error: ...`), so a
script or a person sees exactly what to fix; `--json` prints one JSON document on stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    handle_default_options,
)
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections

from audit.services import Actor, acting
from core import gate
from ram_directory.models import Account, AccountScoped, Policy, RamUser

UNKNOWN_ACCOUNT = "no account with ID {account_id}"
UNKNOWN_RAM_USER = "account {account_id} has no RAM user named {user_name!r}"
UNKNOWN_POLICY = "account {account_id} has no policy named {name!r}"
PASSWORD_ENV_UNSET = "environment variable {name} is not set or empty (--password-env)"
BAD_CHOICE = "--{option} must be one of {choices}"
MAX_LIMIT = 10_000
BAD_LIMIT = f"--limit must be between 1 and {MAX_LIMIT}"


def one_line(text: str) -> str:
    """Collapse a message onto one line: the command contract is one line on stderr."""
    return " ".join(str(text).split())


def validation_message(exc: ValidationError) -> str:
    """`field: message; field: message` from a ValidationError, on one line."""
    if hasattr(exc, "error_dict"):
        parts = [
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in exc.message_dict.items()
        ]
    else:
        parts = [str(m) for m in exc.messages]
    return one_line("; ".join(parts))


class OperatorCommand(BaseCommand):
    """A management command whose failures are one `error: ...` line and a non-zero exit."""

    #: Whether the command reports something and so takes `--json`.
    reports = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if self.reports:
            parser.add_argument(
                "--json",
                action="store_true",
                dest="as_json",
                help="Print the result as one JSON document on stdout.",
            )
        # argparse prints the whole usage block before its error; one line is the contract.
        parser.print_usage = lambda file=None: None  # type: ignore[method-assign]
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        """Django's own, but the failure is `error: <one line>` on stderr."""
        self._called_from_command_line = True
        parser = self.create_parser(argv[0], argv[1])
        options = parser.parse_args(argv[2:])
        cmd_options = vars(options)
        args = cmd_options.pop("args", ())
        handle_default_options(options)
        try:
            self.execute(*args, **cmd_options)
        except CommandError as exc:
            if options.traceback:
                raise
            self.stderr.write(f"error: {one_line(str(exc))}")
            sys.exit(exc.returncode)
        finally:
            with contextlib.suppress(ImproperlyConfigured):
                connections.close_all()

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            # The gate for arguments: a shell hands Python bytes that are not UTF-8 as lone
            # surrogates, which no database, stdout or log line can encode.
            for name, value in [*enumerate(args), *options.items()]:
                if isinstance(value, str):
                    gate.check_characters(value, where=f"argument {name}")
            # Whatever the command writes, the audit log names the operator who ran it.
            with acting(Actor.operator()):
                return super().execute(*args, **options)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc

    def print_json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))


class AccountCommand(OperatorCommand):
    """`<command> ACCOUNT_ID ... [--json]`: a command about one account. The account is looked
    up once, here (an unknown ID is the one `error:` line), and handed to `handle_account`."""

    reports = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", metavar="ACCOUNT_ID", help="16-digit account ID.")
        self.add_options(parser)

    def add_options(self, parser: CommandParser) -> None:
        """The command's own arguments, after ACCOUNT_ID."""

    def handle(self, *args: Any, **options: Any) -> None:
        self.handle_account(get_account(options["account_id"]), **options)

    def handle_account(self, account: Account, **options: Any) -> None:
        raise NotImplementedError

    def report_rows(
        self,
        account: Account,
        key: str,
        rows: list[dict[str, Any]],
        options: dict[str, Any],
        *,
        line: Callable[[dict], str],
        empty: str,
    ) -> None:
        """A listing: `{"account_id": ..., <key>: rows}` with --json, else one `line(row)` per
        row, or `empty` when there is none."""
        if options["as_json"]:
            self.print_json({"account_id": account.account_id, key: rows})
            return
        if not rows:
            self.stdout.write(empty)
        for row in rows:
            self.stdout.write(line(row))


def choice_option(options: dict[str, Any], name: str, choices: list[str]) -> str:
    """`--<name>`, stripped: empty (no filter) or one of `choices`."""
    value = options[name].strip()
    if value and value not in choices:
        raise CommandError(BAD_CHOICE.format(option=name, choices=", ".join(choices)))
    return value


def limit_option(options: dict[str, Any]) -> int:
    """`--limit`: how many rows a listing prints, 1 to MAX_LIMIT."""
    if not 1 <= options["limit"] <= MAX_LIMIT:
        raise CommandError(BAD_LIMIT)
    return options["limit"]


def get_account(account_id: str) -> Account:
    account = Account.objects.filter(account_id=str(account_id).strip()).first()
    if account is None:
        raise CommandError(UNKNOWN_ACCOUNT.format(account_id=one_line(account_id)))
    return account


def find_in_account(
    model: type[AccountScoped], account: Account, missing: str, **lookup: str
) -> AccountScoped:
    """The account's `model` row matching `lookup`, else the command's error: `missing` with
    the account ID and the lookup's values."""
    found = model.objects.for_account(account).filter(**lookup).first()
    if found is None:
        raise CommandError(missing.format(account_id=account.account_id, **lookup))
    return found


class PolicyAttachmentCommand(AccountCommand):
    """`attach_policy` / `detach_policy ACCOUNT_ID USER_NAME POLICY_NAME` (rules §2, §10): the
    same arguments, look-ups and report; only the service called and the wording differ."""

    #: The `--json` key that reports the result ("attached" / "detached").
    result_key = ""
    #: The human line, e.g. "Attached {policy} to {user}."
    done_message = ""

    def change(self, *, ram_user: RamUser, policy: Policy) -> None:
        raise NotImplementedError

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("user_name", metavar="USER_NAME", help="The RAM user's user name.")
        parser.add_argument(
            "policy_name", metavar="POLICY_NAME", help="e.g. AliyunRAMReadOnlyAccess."
        )

    def handle_account(self, account: Account, **options: Any) -> None:
        ram_user = find_in_account(
            RamUser, account, UNKNOWN_RAM_USER, user_name=options["user_name"]
        )
        policy = find_in_account(Policy, account, UNKNOWN_POLICY, name=options["policy_name"])
        self.change(ram_user=ram_user, policy=policy)
        if options["as_json"]:
            self.print_json(
                {
                    "account_id": account.account_id,
                    "user_name": ram_user.user_name,
                    "policy_name": policy.name,
                    self.result_key: True,
                }
            )
            return
        self.stdout.write(self.done_message.format(policy=policy.name, user=ram_user.user_name))


class ImportFileError(CommandError):
    """The import file is refused; the message says where in it (`Users.User[2].Email: ...`)."""


class ImportCommand(AccountCommand):
    """`<import command> ACCOUNT_ID FILE`: a JSON answer of the cloud API, checked whole before
    anything is written; errors name the entry and field of the file they are about."""

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="JSON file; '-' reads stdin.")


def read_input(name: str) -> str:
    """The text of FILE (`-`: stdin); a byte-order mark some editors write is dropped."""
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CommandError(f"cannot read {name}: {one_line(reason)}") from None


def parse_json(text: str) -> Any:
    """The import file's JSON, through the gate: a NUL character (PostgreSQL cannot store it),
    a lone surrogate, a number too long for any column or nesting past the cap is refused now,
    in one line, rather than with a database error halfway through the import."""
    try:
        return gate.loads(text)
    except gate.GateError as exc:
        raise ImportFileError(exc.message) from None


def entry_error(where: str, field: str | None, message: str) -> CommandError:
    """A refused entry as the command reports it: `<path in the file>[.<field>]: <message>`."""
    return CommandError(f"{where}.{field}: {message}" if field else f"{where}: {message}")


def password_from_env(name: str) -> str:
    """The password held by environment variable `name`, validated like any console password."""
    password = os.environ.get(name, "")
    if not password:
        raise CommandError(PASSWORD_ENV_UNSET.format(name=name))
    check_password_strength(password)
    return password


def check_password_strength(password: str) -> None:
    try:
        validate_password(password)
    except ValidationError as exc:
        raise CommandError("password: " + validation_message(exc)) from None


def stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()
