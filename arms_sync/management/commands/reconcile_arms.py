"""`reconcile_arms ACCOUNT_ID [--fix] [--json]`: report (and repair) ARMS drift (rules §7)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from arms_sync import cloud
from arms_sync.reconcile import FixReport, find_drift, fix_drift
from ram_directory.management.base import AccountCommand
from ram_directory.models import Account

DRIFT_REMAINS = "{count} drift item(s) remain{hint}"
NOT_CONNECTED = (
    "account {account_id} is not connected to Alibaba Cloud (--remote needs cloud_connect)"
)


class Command(AccountCommand):
    help = (
        "Report drift between SAE and the ARMS side of an account: missing sae: groups or "
        "policy, sae:default not routing to sae:contacts, linked ARMS contacts missing from "
        "sae:contacts or whose fields differ from their SAE contact, and SAE contacts that are "
        "not linked. --fix repairs what is safe. Exit status: 0 when there is no drift (or "
        "--fix repaired all of it), 1 when drift remains or the input is bad."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--fix", action="store_true", help="Repair what is safe to repair.")
        parser.add_argument(
            "--remote",
            action="store_true",
            help="Compare with the account's real ARMS (a connected account): sae: objects "
            "deleted or edited in the ARMS console; --fix restores them.",
        )

    def handle_account(self, account: Account, **options: Any) -> None:
        if options["remote"]:
            self._remote(account, fix=options["fix"], as_json=options["as_json"])
            return
        if options["fix"]:
            report = fix_drift(account)
        else:
            drifts = tuple(find_drift(account))
            report = FixReport(found=drifts, remaining=drifts)
        if options["as_json"]:
            data = {"account_id": account.account_id, "fix": options["fix"], **report.as_dict()}
            if not options["fix"]:
                data = {"account_id": account.account_id, "fix": False, "drift": data["found"]}
            data["clean"] = report.clean
            self.print_json(data)
        else:
            self._print(report, fix=options["fix"])
        if not report.clean:
            hint = "" if options["fix"] else " (run with --fix to repair what is safe)"
            raise CommandError(DRIFT_REMAINS.format(count=len(report.remaining), hint=hint))

    def _remote(self, account, *, fix: bool, as_json: bool) -> None:
        try:
            report = cloud.port().compare_remote(account.pk, fix=fix)
        except Exception as exc:  # the cloud's own error type: arms_sync does not import it
            raise CommandError(f"the comparison with ARMS failed: {exc}") from None
        if report is None:
            raise CommandError(NOT_CONNECTED.format(account_id=account.account_id))
        clean = not report["remaining"]
        if as_json:
            self.print_json(
                {
                    "account_id": account.account_id,
                    "remote": True,
                    "fix": fix,
                    **report,
                    "clean": clean,
                }
            )
        else:
            if not report["found"]:
                self.stdout.write("no drift")
            for drift in report["fixed"] if fix else []:
                self.stdout.write(
                    f"fixed      {drift['kind']:<18} {drift['subject']}: {drift['detail']}"
                )
            for drift in report["remaining"]:
                self.stdout.write(
                    f"drift      {drift['kind']:<18} {drift['subject']}: {drift['detail']}"
                )
        if not clean:
            hint = "" if fix else " (run with --fix to restore them)"
            raise CommandError(DRIFT_REMAINS.format(count=len(report["remaining"]), hint=hint))

    def _print(self, report: FixReport, *, fix: bool) -> None:
        if not report.found:
            self.stdout.write("no drift")
            return
        if fix:
            for drift in report.fixed:
                self.stdout.write(f"fixed      {drift.kind:<18} {drift.subject}: {drift.detail}")
        for drift in report.remaining:
            why = report.refused.get(drift.subject)
            suffix = f" (not fixed: {why})" if why else ""
            self.stdout.write(
                f"drift      {drift.kind:<18} {drift.subject}: {drift.detail}{suffix}"
            )
