"""Operator commands (rules §10; rules §1 for accounts and sign-in, rules §2 for policies).

Each command refuses bad input with a CommandError (one line, non-zero exit) and changes
nothing; `import_ram_users` is idempotent; `seed_demo` can run twice and its logins work.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.urls import reverse

from arms_sync.management.commands import seed_demo
from ram_directory import services
from ram_directory.management.commands import create_cloud_account
from ram_directory.models import Account, Policy, PolicyAttachment, RamUser, User
from ram_directory.principal import Principal
from tests import commands
from tests.commands import manage, run
from tests.factories import PASSWORD, AccountFactory, PolicyFactory, RamUserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Imported-Users-2026"

LIST_USERS_ANSWER = {
    "RequestId": "04F0F334-1335-436C-A1D7-6C044FE73368",
    "IsTruncated": False,
    "Marker": "",
    "Users": {
        "User": [
            {
                "UserId": "122748924538001",
                "UserName": "zhangq",
                "DisplayName": "Zhang Qiang",
                "MobilePhone": "86-18600008888",
                "Email": "zhangq@example.com",
                "Comments": "on call",
                "CreateDate": "2015-01-23T12:33:18Z",
                "UpdateDate": "2015-01-24T08:00:00Z",
            },
            {
                "UserId": "122748924538002",
                "UserName": "lisi",
                "DisplayName": "Li Si",
                "CreateDate": "2016-03-01T00:00:00Z",
                "UpdateDate": "2016-03-01T00:00:00Z",
            },
            {
                "UserName": "wang.wu",
                "DisplayName": "Wang Wu",
                "MobilePhone": "852-51234567",
                "Email": "wangwu@example.com",
            },
        ]
    },
}


def write_json(tmp_path: Path, data: Any, name: str = "users.json") -> Path:
    return commands.write_json(tmp_path, data, name)


def run_json(*args: Any) -> dict[str, Any]:
    return json.loads(run(*args, "--json"))


def ram_rows(account: Account | None = None) -> list[tuple]:
    """Every column of every RAM user, in a stable order."""
    qs = RamUser.objects.all() if account is None else RamUser.objects.for_account(account)
    return list(
        qs.order_by("account_id", "user_name").values_list(
            "account_id",
            "user_id",
            "user_name",
            "display_name",
            "mobile_phone",
            "email",
            "comments",
            "created_at",
            "updated_at",
        )
    )


def directory_snapshot() -> tuple:
    """Everything an import or an attach could touch."""
    return (
        ram_rows(),
        sorted(User.objects.values_list("username", "password", "account_id", "ram_user_id")),
        sorted(PolicyAttachment.objects.values_list("ram_user_id", "policy_id")),
        Account.objects.count(),
    )


# --- --help ---------------------------------------------------------------------------------

OPERATOR_COMMANDS = [
    "create_cloud_account",
    "import_ram_users",
    "attach_policy",
    "detach_policy",
    "seed_demo",
]


@pytest.mark.parametrize("name", OPERATOR_COMMANDS)
def test_every_operator_command_has_real_help_text(name):
    command = load_command_class(get_commands()[name], name)
    help_text = command.create_parser("manage.py", name).format_help()
    assert len(command.help) > 60
    assert " ".join(command.help.split()[:4]) in " ".join(help_text.split())


# --- import_ram_users: idempotent upsert ----------------------------------------------------


def test_importing_the_same_list_users_answer_twice_gives_the_same_rows(account, tmp_path):
    path = write_json(tmp_path, LIST_USERS_ANSWER)

    first = run_json("import_ram_users", account.account_id, path)
    rows_after_first = ram_rows(account)
    second = run_json("import_ram_users", account.account_id, path)

    assert (first["created"], first["updated"], first["unchanged"]) == (3, 0, 0)
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 3)
    assert ram_rows(account) == rows_after_first
    zhangq = RamUser.objects.get(account=account, user_name="zhangq")
    assert zhangq.user_id == "122748924538001"
    assert zhangq.mobile_phone == "86-18600008888"
    assert zhangq.created_at.isoformat() == "2015-01-23T12:33:18+00:00"
    assert zhangq.updated_at.isoformat() == "2015-01-24T08:00:00+00:00"


def test_import_updates_existing_users_by_user_name_and_counts_them(account, tmp_path):
    RamUserFactory(account=account, user_name="lisi", user_id="122748924538002", email="")
    path = write_json(tmp_path, LIST_USERS_ANSWER)

    report = run_json("import_ram_users", account.account_id, path)

    assert (report["created"], report["updated"], report["unchanged"]) == (2, 1, 0)
    assert report["users"]["updated"] == ["lisi"]
    lisi = RamUser.objects.get(account=account, user_name="lisi")
    assert lisi.display_name == "Li Si"
    assert lisi.mobile_phone == ""  # absent in RAM's answer: RAM has no phone for lisi
    assert RamUser.objects.for_account(account).count() == 3


def test_import_plain_text_output_reports_the_counts(account, tmp_path):
    path = write_json(tmp_path, LIST_USERS_ANSWER)
    assert "3 created, 0 updated, 0 unchanged" in run("import_ram_users", account.account_id, path)


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda users: [{"User": u} for u in users], id="GetUser answers"),
        pytest.param(lambda users: users, id="bare user objects"),
    ],
)
def test_import_accepts_a_list_of_get_user_answers(account, tmp_path, shape):
    users = LIST_USERS_ANSWER["Users"]["User"]
    path = write_json(tmp_path, shape(users))

    report = run_json("import_ram_users", account.account_id, path)

    assert report["created"] == 3
    assert sorted(RamUser.objects.for_account(account).values_list("user_name", flat=True)) == [
        "lisi",
        "wang.wu",
        "zhangq",
    ]


def test_import_of_one_page_of_a_truncated_answer_says_so(account, tmp_path):
    page = {**LIST_USERS_ANSWER, "IsTruncated": True, "Marker": "EXAMPLE-MARKER"}
    path = write_json(tmp_path, page)
    report = run_json("import_ram_users", account.account_id, path)
    assert report["truncated"] is True
    assert report["created"] == 3
    err = io.StringIO()
    call_command(
        "import_ram_users", account.account_id, str(path), stdout=io.StringIO(), stderr=err
    )
    assert "IsTruncated is true" in err.getvalue()


def test_import_touches_only_the_named_account(account, other_account, tmp_path):
    RamUserFactory(account=other_account, user_name="zhangq", display_name="Not this one")
    before = ram_rows(other_account)

    run("import_ram_users", account.account_id, write_json(tmp_path, LIST_USERS_ANSWER))

    assert ram_rows(other_account) == before
    assert RamUser.objects.for_account(account).count() == 3


def test_import_with_password_env_lets_imported_users_sign_in(
    account, tmp_path, client, monkeypatch
):
    monkeypatch.setenv("SAE_IMPORT_PASSWORD", STRONG_PASSWORD)
    path = write_json(tmp_path, LIST_USERS_ANSWER)

    report = run_json(
        "import_ram_users", account.account_id, path, "--password-env", "SAE_IMPORT_PASSWORD"
    )

    assert report["passwords_set"] == 3
    upn = f"zhangq@{account.alias}.onaliyun.com"
    response = client.post(reverse("signin"), {"username": upn, "password": STRONG_PASSWORD})
    assert response.status_code == 302
    assert response.wsgi_request.user.ram_user.user_name == "zhangq"


def test_import_without_password_env_gives_no_sign_in(account, tmp_path, client):
    run("import_ram_users", account.account_id, write_json(tmp_path, LIST_USERS_ANSWER))
    assert not User.objects.filter(ram_user__account=account).exists()


def test_import_refuses_an_unset_password_env_and_changes_nothing(account, tmp_path, monkeypatch):
    monkeypatch.delenv("SAE_NO_SUCH_VARIABLE", raising=False)
    before = directory_snapshot()
    path = write_json(tmp_path, LIST_USERS_ANSWER)
    with pytest.raises(CommandError, match="SAE_NO_SUCH_VARIABLE is not set"):
        run("import_ram_users", account.account_id, path, "--password-env", "SAE_NO_SUCH_VARIABLE")
    assert directory_snapshot() == before


def test_import_into_an_unknown_account_is_refused(db, tmp_path):
    path = write_json(tmp_path, LIST_USERS_ANSWER)
    with pytest.raises(CommandError, match="no account with ID 9999999999999999"):
        run("import_ram_users", "9999999999999999", path)
    assert not RamUser.objects.exists()


# --- import_ram_users: a malformed file changes nothing --------------------------------------


def _answer_with(*extra: dict[str, Any]) -> dict[str, Any]:
    """A ListUsers answer whose first entries are valid (a create and an update) and then
    `extra`: proof that a late bad entry rolls back the good ones before it."""
    return {
        "Users": {
            "User": [
                {"UserName": "newcomer", "MobilePhone": "86-13812345678"},
                {"UserName": "existing", "DisplayName": "Renamed by the import"},
                *extra,
            ]
        }
    }


MALFORMED = [
    pytest.param('{"Users": {"User": [', "Invalid JSON at line 1", id="bad JSON"),
    pytest.param({"Accounts": []}, "Users.User: missing or not a list", id="no Users.User"),
    pytest.param({"Users": {"User": {"UserName": "x"}}}, "Users.User: missing", id="User not list"),
    pytest.param(42, "expected RAM ListUsers JSON", id="a number"),
    pytest.param(_answer_with("alice"), "Users.User[2]: must be a user object", id="not object"),
    pytest.param(
        _answer_with({"DisplayName": "Nameless"}), "Users.User[2].UserName: missing", id="no name"
    ),
    pytest.param(
        _answer_with({"UserName": "bad name!"}),
        "Users.User[2].UserName: A user name is 1-64 characters",
        id="bad user name",
    ),
    pytest.param(
        _answer_with({"UserName": "x" * 65}), "Users.User[2].UserName:", id="user name too long"
    ),
    pytest.param(
        _answer_with({"UserName": "bob", "MobilePhone": "13811112222"}),
        "Users.User[2].MobilePhone: A RAM mobile phone is written as",
        id="phone not in RAM format",
    ),
    pytest.param(
        _answer_with({"UserName": "bob", "Email": "not-an-email"}),
        "Users.User[2].Email:",
        id="bad email",
    ),
    pytest.param(
        _answer_with({"UserName": "bob", "DisplayName": 7}),
        "Users.User[2].DisplayName: must be a string",
        id="display name not a string",
    ),
    pytest.param(
        _answer_with({"UserName": "bob", "CreateDate": "yesterday"}),
        "Users.User[2].CreateDate: 'yesterday' is not an ISO 8601 date-time",
        id="bad date",
    ),
    pytest.param(
        _answer_with({"UserName": "bob"}, {"UserName": "BOB"}),
        "Users.User[3].UserName: user name 'BOB' appears more than once (also at entry 2)",
        id="duplicate user name",
    ),
    pytest.param(
        _answer_with({"UserName": "bob", "UserId": "900000000000000001"}),
        "Users.User[2].UserId: UserId 900000000000000001 belongs to a RAM user of another",
        id="UserId of another account",
    ),
    pytest.param(
        _answer_with({"UserName": "bob", "UserId": "900000000000000002"}),
        "Users.User[2].UserId: UserId 900000000000000002 already belongs to RAM user 'carol'",
        id="UserId of another user",
    ),
    pytest.param(
        [{"User": {"UserName": "ok"}}, {"User": {"UserName": "no way"}}],
        "[1].User.UserName: A user name",
        id="GetUser list, bad name",
    ),
    pytest.param(
        _answer_with({"UserName": "bob", "DisplayName": "Bob\u0000"}),
        "Users.User[2].DisplayName: contains a NUL character",
        id="NUL character (PostgreSQL cannot store it)",
    ),
    pytest.param("[" * 100_000, "The JSON text: nested too deeply", id="nested too deeply"),
]


@pytest.mark.parametrize(("content", "message"), MALFORMED)
def test_malformed_import_file_is_refused_with_one_line_and_changes_nothing(
    account, other_account, tmp_path, monkeypatch, content, message
):
    RamUserFactory(account=account, user_name="existing")
    RamUserFactory(account=account, user_name="carol", user_id="900000000000000002")
    RamUserFactory(account=other_account, user_name="dora", user_id="900000000000000001")
    monkeypatch.setenv("SAE_IMPORT_PASSWORD", STRONG_PASSWORD)
    before = directory_snapshot()

    with pytest.raises(CommandError) as refused:
        run(
            "import_ram_users",
            account.account_id,
            write_json(tmp_path, content),
            "--password-env",
            "SAE_IMPORT_PASSWORD",
        )

    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
    assert directory_snapshot() == before


def test_missing_import_file_is_one_clear_line(account, tmp_path):
    with pytest.raises(CommandError, match=r"^cannot read .*nope\.json"):
        run("import_ram_users", account.account_id, tmp_path / "nope.json")


@pytest.mark.django_db(transaction=True)
def test_malformed_file_from_the_shell_exits_non_zero_with_one_stderr_line(tmp_path):
    account = AccountFactory()
    RamUserFactory(account=account, user_name="existing")
    before = directory_snapshot()
    bad = write_json(tmp_path, _answer_with({"UserName": "bob", "MobilePhone": "138-x"}))

    result = manage("import_ram_users", account.account_id, str(bad))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: Users.User[2].MobilePhone: A RAM mobile phone is written as <country code>-"
        "<number>, e.g. 86-13811112222."
    ]
    assert result.stdout == ""
    assert directory_snapshot() == before

    good = manage("import_ram_users", account.account_id, str(write_json(tmp_path, _answer_with())))
    assert good.returncode == 0, good.stderr
    assert "1 created, 1 updated, 0 unchanged" in good.stdout


def test_shell_usage_errors_are_one_line_and_help_exits_zero():
    missing = manage("attach_policy", "1234567890123456")
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "manage.py attach_policy: error: the following arguments are required: USER_NAME, "
        "POLICY_NAME"
    ]
    help_ = manage("import_ram_users", "--help")
    assert help_.returncode == 0
    assert "--password-env VAR" in help_.stdout
    assert "--json" in help_.stdout


# --- attach_policy / detach_policy ------------------------------------------------------------


def test_attach_policy_command_grants_the_policy(account, ram_user):
    principal = Principal(account, ram_user)
    assert not principal.can("ram:ListUsers")

    report = run_json("attach_policy", account.account_id, "alice", "AliyunRAMReadOnlyAccess")

    assert report == {
        "account_id": account.account_id,
        "user_name": "alice",
        "policy_name": "AliyunRAMReadOnlyAccess",
        "attached": True,
    }
    assert Principal(account, ram_user).can("ram:ListUsers")


def test_detach_policy_command_removes_the_policy(account, ram_user):
    policy = PolicyFactory(account=account, name="SAEContactListUsers")
    services.attach_policy(ram_user=ram_user, policy=policy)

    out = run("detach_policy", account.account_id, "alice", "SAEContactListUsers")

    assert out.strip() == "Detached SAEContactListUsers from alice."
    assert not Principal(account, ram_user).can("ram:ListUsers")


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("attach_policy", ("9999999999999999", "alice", "AdministratorAccess"), "no account"),
        ("attach_policy", (None, "nobody", "AdministratorAccess"), "has no RAM user named"),
        ("attach_policy", (None, "alice", "NoSuchPolicy"), "has no policy named 'NoSuchPolicy'"),
        ("attach_policy", (None, "bob", "AdministratorAccess"), "has no RAM user named 'bob'"),
        ("attach_policy", (None, "alice", "OtherCustom"), "has no policy named 'OtherCustom'"),
        ("attach_policy", (None, "alice", "AliyunRAMFullAccess"), services.POLICY_ALREADY_ATTACHED),
        ("detach_policy", (None, "alice", "AdministratorAccess"), services.POLICY_NOT_ATTACHED),
        ("detach_policy", ("9999999999999999", "alice", "AliyunRAMFullAccess"), "no account"),
        ("detach_policy", (None, "nobody", "AliyunRAMFullAccess"), "has no RAM user named"),
    ],
)
def test_policy_commands_refuse_unknown_names_and_repeats_and_change_nothing(
    account, other_account, ram_user, command, args, message
):
    """`bob` and `OtherCustom` exist only in another account: as unknown as a missing name."""
    RamUserFactory(account=other_account, user_name="bob")
    PolicyFactory(account=other_account, name="OtherCustom")
    services.attach_policy(
        ram_user=ram_user, policy=Policy.objects.get(account=account, name="AliyunRAMFullAccess")
    )
    before = directory_snapshot()
    account_id, *rest = args

    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
        run(command, account_id or account.account_id, *rest)

    assert directory_snapshot() == before


# --- create_cloud_account ---------------------------------------------------------------------


def test_create_cloud_account_with_password_env_can_sign_in(db, client, monkeypatch):
    monkeypatch.setenv("OWNER_PASSWORD", STRONG_PASSWORD)

    report = run_json(
        "create_cloud_account",
        "1111222233334444",
        "--login-name",
        "Ops@Example.com",
        "--alias",
        "acme",
        "--password-env",
        "OWNER_PASSWORD",
    )

    assert report["login_name"] == "ops@example.com"
    assert report["upn_domain"] == "acme.onaliyun.com"
    account = Account.objects.get(account_id="1111222233334444")
    assert set(account.policies.values_list("name", flat=True)) >= {
        "AdministratorAccess",
        "AliyunRAMFullAccess",
        "AliyunRAMReadOnlyAccess",
    }
    response = client.post(
        reverse("signin"), {"username": "ops@example.com", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 302


def test_create_cloud_account_without_a_terminal_gives_no_usable_password(db, monkeypatch):
    monkeypatch.setattr(create_cloud_account, "stdin_is_tty", lambda: False)
    run("create_cloud_account", "1111222233334444", "--login-name", "ops@example.com")
    owner = User.objects.get(username="ops@example.com")
    assert not owner.has_usable_password()
    assert owner.account.alias == "1111222233334444"


def test_create_cloud_account_prompts_twice_on_a_terminal(db, monkeypatch):
    answers = iter([STRONG_PASSWORD, STRONG_PASSWORD])
    monkeypatch.setattr(create_cloud_account, "stdin_is_tty", lambda: True)
    monkeypatch.setattr(create_cloud_account.getpass, "getpass", lambda prompt: next(answers))
    run("create_cloud_account", "1111222233334444", "--login-name", "ops@example.com")
    assert User.objects.get(username="ops@example.com").check_password(STRONG_PASSWORD)


def test_create_cloud_account_refuses_two_different_prompted_passwords(db, monkeypatch):
    answers = iter([STRONG_PASSWORD, STRONG_PASSWORD + "x"])
    monkeypatch.setattr(create_cloud_account, "stdin_is_tty", lambda: True)
    monkeypatch.setattr(create_cloud_account.getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match=create_cloud_account.PASSWORDS_DIFFER):
        run("create_cloud_account", "1111222233334444", "--login-name", "ops@example.com")
    assert not Account.objects.exists()


def test_create_cloud_account_reports_a_taken_id_before_asking_for_a_password(db, monkeypatch):
    services.create_account(account_id="1111222233334444", login_name="taken@example.com")
    monkeypatch.setattr(create_cloud_account, "stdin_is_tty", lambda: True)

    def no_prompt(prompt):
        raise AssertionError("prompted for a password for an account that cannot be created")

    monkeypatch.setattr(create_cloud_account.getpass, "getpass", no_prompt)
    with pytest.raises(CommandError, match=r"^account_id: Account with this Account ID already"):
        run("create_cloud_account", "1111222233334444", "--login-name", "new@example.com")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("12345", "--login-name", "new@example.com"), "account_id: An account ID is exactly 16"),
        (("12345678901234567", "--login-name", "new@example.com"), "account_id:"),
        (("12345678abcdefgh", "--login-name", "new@example.com"), "account_id:"),
        (("1000000000999999", "--login-name", "new@example.com"), "account_id: Account with"),
        (("1111222233334444", "--login-name", "TAKEN@example.com"), "login_name: Account with"),
        (("1111222233334444", "--login-name", "n@e.com", "--alias", "taken"), "alias: Account"),
        (("1111222233334444", "--login-name", "n@e.com", "--alias", "Bad_Alias"), "alias: An"),
        (("1111222233334444", "--login-name", "  "), "login_name:"),
        (
            ("1111222233334444", "--login-name", "n@e.com", "--password-env", "UNSET_VAR"),
            "environment variable UNSET_VAR",
        ),
        (("1111222233334444", "--login-name", "n@e.com", "--password-env", "WEAK_PW"), "password:"),
    ],
)
def test_create_cloud_account_refuses_bad_input_with_one_line(db, monkeypatch, args, message):
    monkeypatch.setattr(create_cloud_account, "stdin_is_tty", lambda: False)
    monkeypatch.delenv("UNSET_VAR", raising=False)
    monkeypatch.setenv("WEAK_PW", "12345")
    services.create_account(
        account_id="1000000000999999", login_name="taken@example.com", alias="taken"
    )
    before = directory_snapshot()

    with pytest.raises(CommandError) as refused:
        run("create_cloud_account", *args)

    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
    assert directory_snapshot() == before


# --- seed_demo --------------------------------------------------------------------------------


def seed_state() -> tuple:
    return (
        ram_rows(),
        sorted(Account.objects.values_list("account_id", "login_name", "alias")),
        sorted(Policy.objects.values_list("account__account_id", "name", "policy_type")),
        sorted(
            PolicyAttachment.objects.values_list(
                "ram_user__account__account_id", "ram_user__user_name", "policy__name"
            )
        ),
        sorted(User.objects.values_list("username", "account_id", "is_superuser")),
    )


def test_seed_demo_twice_is_idempotent(db):
    first = run_json("seed_demo")
    state = seed_state()
    second = run_json("seed_demo")

    assert seed_state() == state
    # Everything but the intake token, which each run rotates (it is shown only once).
    assert second.pop("intake_token") != first.pop("intake_token")
    assert second == first
    demo = Account.objects.get(account_id=seed_demo.DEMO.account_id)
    users = {u.user_name: u for u in RamUser.objects.for_account(demo)}
    assert len(users) == 5
    assert users["dave"].mobile_phone == ""
    assert users["erin"].mobile_phone == "852-51234567"
    assert sum(u.mobile_phone.startswith("86-") for u in users.values()) == 3
    assert Principal(demo, users["alice"]).can("ram:ListUsers")
    assert set(users["alice"].policies.values_list("name", flat=True)) == {"SAEContactListUsers"}
    assert set(users["bob"].policies.values_list("name", flat=True)) == {"AliyunRAMReadOnlyAccess"}
    assert not Principal(demo, users["carol"]).can("ram:ListUsers")
    assert Account.objects.filter(account_id=seed_demo.OTHER.account_id).exists()


def test_seed_demo_prints_sign_ins_that_work(db, client, monkeypatch):
    monkeypatch.delenv(seed_demo.PASSWORD_ENV, raising=False)
    text = run("seed_demo")
    report = run_json("seed_demo")

    sign_ins = report["sign_ins"]
    assert {s["password"] for s in sign_ins} == {seed_demo.DEFAULT_DEMO_PASSWORD}
    assert "owner@demo.example.com" in text
    assert seed_demo.DEFAULT_DEMO_PASSWORD in text
    for s in sign_ins:
        assert s["login"] in text
        client.logout()
        if s["account_id"] is None:  # the platform superuser: Django admin only
            assert client.login(username=s["login"], password=s["password"])
            assert client.get("/admin/").status_code == 200
            continue
        response = client.post(
            reverse("signin"), {"username": s["login"], "password": s["password"]}
        )
        assert response.status_code == 302, s["login"]
        assert response.wsgi_request.user.account.account_id == s["account_id"]
    logins = {s["login"] for s in sign_ins}
    assert {"owner@demo.example.com", "alice@demo.onaliyun.com", "admin"} <= logins


def test_seed_demo_password_can_be_overridden(db, client, monkeypatch):
    monkeypatch.setenv(seed_demo.PASSWORD_ENV, "Another-Demo-Secret-9")
    report = run_json("seed_demo")
    assert {s["password"] for s in report["sign_ins"]} == {"Another-Demo-Secret-9"}
    assert client.login(username="owner@demo.example.com", password="Another-Demo-Secret-9")
    assert not client.login(username="owner@demo.example.com", password=PASSWORD)


def test_seed_demo_restores_a_detached_demo_policy(db):
    run("seed_demo")
    demo = Account.objects.get(account_id=seed_demo.DEMO.account_id)
    alice = RamUser.objects.get(account=demo, user_name="alice")
    services.detach_policy(ram_user=alice, policy=alice.policies.get())
    run("seed_demo")
    assert Principal(demo, alice).can("ram:ListUsers")
