"""rules §2: policy evaluation (`evaluate`, `Principal.can`) and Script Editor validation."""

from __future__ import annotations

import pytest

from ram_directory import services
from ram_directory.policy import (
    PolicyDocumentError,
    evaluate,
    parse_document_text,
    statements_of,
    validate_document,
)
from ram_directory.principal import Principal
from tests.factories import AccountFactory, PolicyFactory, RamUserFactory

ACCOUNT_ID = "1234567890123456"
OTHER_ACCOUNT_ID = "6543210987654321"


def doc(*statements: dict) -> dict:
    return {"Version": "1", "Statement": list(statements)}


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


CONDITION = {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}

# (case, statements of the principal's policies, action, resource, expected)
EVALUATION_TABLE = [
    ("star allows any action", [allow("*")], "ram:ListUsers", "*", True),
    ("star allows any service", [allow("*")], "ecs:DescribeInstances", "*", True),
    ("ram:* allows a RAM action", [allow("ram:*")], "ram:DeletePolicy", "*", True),
    ("ram:* does not allow another service", [allow("ram:*")], "ecs:StartInstance", "*", False),
    ("ram:List* allows ListUsers", [allow("ram:List*")], "ram:ListUsers", "*", True),
    ("ram:List* does not allow GetUser", [allow("ram:List*")], "ram:GetUser", "*", False),
    ("action case ignored in policy", [allow("ram:listusers")], "ram:ListUsers", "*", True),
    ("action case ignored in request", [allow("ram:ListUsers")], "RAM:LISTUSERS", "*", True),
    ("? matches one character", [allow("ram:?etUser")], "ram:GetUser", "*", True),
    ("? matches exactly one", [allow("ram:?etUser")], "ram:GeetUser", "*", False),
    ("exact action only", [allow("ram:ListUsers")], "ram:ListUsersX", "*", False),
    (
        "trailing newline is not the same action",
        [allow("ram:ListUsers")],
        "ram:ListUsers\n",
        "*",
        False,
    ),
    ("list of actions", [allow(["ram:GetUser", "ram:ListUsers"])], "ram:ListUsers", "*", True),
    (
        "Deny beats Allow across two policies",
        [allow("ram:*"), deny("ram:ListUsers")],
        "ram:ListUsers",
        "*",
        False,
    ),
    (
        "Deny of another action leaves Allow",
        [allow("ram:*"), deny("ram:DeletePolicy")],
        "ram:ListUsers",
        "*",
        True,
    ),
    (
        "resource ARN with the account ID matches",
        [allow("ram:ListUsers", f"acs:ram:*:{ACCOUNT_ID}:user/*")],
        "ram:ListUsers",
        f"acs:ram:*:{ACCOUNT_ID}:user/*",
        True,
    ),
    (
        "resource ARN with the account ID matches one user",
        [allow("ram:GetUser", f"acs:ram:*:{ACCOUNT_ID}:user/*")],
        "ram:GetUser",
        f"acs:ram:*:{ACCOUNT_ID}:user/alice",
        True,
    ),
    (
        "resource ARN of another account does not match",
        [allow("ram:ListUsers", f"acs:ram:*:{OTHER_ACCOUNT_ID}:user/*")],
        "ram:ListUsers",
        f"acs:ram:*:{ACCOUNT_ID}:user/*",
        False,
    ),
    (
        "resource ARN for policies does not match users",
        [allow("ram:*", f"acs:ram:*:{ACCOUNT_ID}:policy/*")],
        "ram:GetUser",
        f"acs:ram:*:{ACCOUNT_ID}:user/alice",
        False,
    ),
    (
        "resources match case-sensitively",
        [allow("ram:GetUser", f"acs:ram:*:{ACCOUNT_ID}:user/Alice")],
        "ram:GetUser",
        f"acs:ram:*:{ACCOUNT_ID}:user/alice",
        False,
    ),
    ("no statement is denied", [], "ram:ListUsers", "*", False),
    (
        "conditional Allow grants nothing",
        [allow("ram:ListUsers", Condition=CONDITION)],
        "ram:ListUsers",
        "*",
        False,
    ),
    (
        "conditional Deny denies",
        [allow("ram:*"), deny("ram:ListUsers", Condition=CONDITION)],
        "ram:ListUsers",
        "*",
        False,
    ),
]


@pytest.mark.parametrize(
    ("statements", "action", "resource", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in EVALUATION_TABLE],
)
def test_evaluate_follows_spec_2_rules(statements, action, resource, expected):
    """rules §2: wildcards, case-insensitive actions, Deny over Allow, default deny."""
    assert evaluate(statements_of(doc(*statements)) if statements else [], action, resource) is (
        expected
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("documents", "action", "resource", "expected"),
    [
        ([doc(allow("ram:List*"))], "ram:listusers", "*", True),
        ([doc(allow("ram:*")), doc(deny("ram:ListUsers"))], "ram:ListUsers", "*", False),
        ([doc(allow("ram:*")), doc(deny("ram:DeletePolicy"))], "ram:ListUsers", "*", True),
        ([], "ram:ListUsers", "*", False),
        ([doc(allow("ram:ListUsers", Condition=CONDITION))], "ram:ListUsers", "*", False),
    ],
    ids=[
        "wildcard, lower-case request",
        "Deny in one attached policy beats Allow in another",
        "unrelated Deny leaves the Allow",
        "no policy attached is denied",
        "conditional Allow grants nothing",
    ],
)
def test_principal_can_evaluates_every_attached_policy(documents, action, resource, expected):
    """rules §2: a RAM user's permissions are the statements of all its attached policies."""
    account = AccountFactory()
    ram_user = RamUserFactory(account=account)
    for document in documents:
        services.attach_policy(
            ram_user=ram_user, policy=PolicyFactory(account=account, document=document)
        )
    assert Principal(account, ram_user).can(action, resource) is expected


@pytest.mark.django_db
def test_principal_can_matches_the_account_arn_of_its_own_account():
    """rules §2: a resource ARN carrying the account ID matches only that account's resources."""
    account = AccountFactory()
    ram_user = RamUserFactory(account=account)
    arn = f"acs:ram:*:{account.account_id}:user/*"
    services.attach_policy(
        ram_user=ram_user, policy=PolicyFactory(account=account, document=doc(allow("*", arn)))
    )
    principal = Principal(account, ram_user)
    assert principal.can("ram:ListUsers", principal.resource_arn("user", "*"))
    assert principal.can("ram:GetUser", principal.resource_arn("user", "bob"))
    assert not principal.can("ram:ListUsers", "acs:ram:*:9999999999999999:user/*")
    assert not principal.can("ram:GetPolicy", principal.resource_arn("policy", "x"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "action", ["ram:ListUsers", "ram:DeletePolicy", "ecs:DeleteInstance", "anything:AtAll"]
)
def test_account_owner_is_always_allowed(action):
    """rules §2: the account owner is always allowed, with no policy at all."""
    account = AccountFactory()
    assert Principal(account).can(action, "acs:ram:*:0000000000000000:user/*")


@pytest.mark.django_db
def test_forget_permissions_sees_a_newly_attached_policy():
    """rules §2: attaching a policy takes effect for the principal once its cache is dropped."""
    account = AccountFactory()
    ram_user = RamUserFactory(account=account)
    principal = Principal(account, ram_user)
    assert not principal.can("ram:ListUsers")
    services.attach_policy(ram_user=ram_user, policy=PolicyFactory(account=account))
    principal.forget_permissions()
    assert principal.can("ram:ListUsers")


# --- Script Editor validation (rules §2: "says what is wrong and where") -----------------------

VALID = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"}]}'

VALIDATION_TABLE = [
    (
        "invalid JSON names line and column",
        '{\n  "Version": "1",\n  "Statement": [\n}',
        "Invalid JSON at line 4, column 1",
    ),
    (
        "missing Version",
        '{"Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"}]}',
        'Version: missing; it must be "1".',
    ),
    (
        "wrong Version",
        '{"Version": "2", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"}]}',
        'Version: must be "1", got "2".',
    ),
    (
        "Effect other than Allow or Deny",
        '{"Version": "1", "Statement": [{"Effect": "Permit", "Action": "ram:*", "Resource": "*"}]}',
        'Statement[0].Effect: must be "Allow" or "Deny" (got "Permit").',
    ),
    (
        "empty Action list",
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}',
        "Statement[0].Action: must not be empty.",
    ),
    (
        "Action not of form service:Name",
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["ram:GetUser", '
        '"ListUsers"], "Resource": "*"}]}',
        'Statement[0].Action[1]: "ListUsers" is not of the form service:Action',
    ),
    (
        "unknown key in a statement",
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*",'
        ' "Principal": "*"}]}',
        "Statement[0]: unknown key(s) Principal.",
    ),
    (
        "unknown top-level key",
        '{"Version": "1", "Statements": []}',
        "Unknown top-level key(s): Statements.",
    ),
    (
        "missing Resource",
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*"}]}',
        "Statement[0].Resource: missing.",
    ),
    ("not an object", "[1, 2]", "The policy document must be a JSON object."),
    (
        "empty Statement list",
        '{"Version": "1", "Statement": []}',
        "Statement: must be a non-empty list of statements.",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [pytest.param(*row[1:], id=row[0]) for row in VALIDATION_TABLE]
)
def test_script_editor_refuses_invalid_document_with_its_own_message(text, message):
    """rules §2: an invalid document is refused with an error that says what and where."""
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document_text(text)
    assert any(message in error for error in caught.value.errors), caught.value.errors


def test_validation_messages_are_distinct_per_case():
    """rules §2: each kind of mistake gets its own message, not one generic error."""
    messages = set()
    for _case, text, _message in VALIDATION_TABLE:
        with pytest.raises(PolicyDocumentError) as caught:
            parse_document_text(text)
        messages.add(tuple(caught.value.errors))
    assert len(messages) == len(VALIDATION_TABLE)


def test_every_error_of_a_document_is_reported_at_once():
    """rules §2: the editor lists every mistake, each with where it is."""
    text = (
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"},'
        ' {"Effect": "Permit", "Action": [], "Resource": "*"}]}'
    )
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document_text(text)
    assert caught.value.errors == [
        'Statement[1].Effect: must be "Allow" or "Deny" (got "Permit").',
        "Statement[1].Action: must not be empty.",
    ]


def test_valid_document_and_seed_policy_parse():
    """rules §2: the seed's Step 1 policy is a valid document."""
    seed = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:ListUsers","ram:GetUser"],'
        '"Resource":"*"}]}'
    )
    assert parse_document_text(VALID)["Version"] == "1"
    assert parse_document_text(seed)["Statement"][0]["Action"] == ["ram:ListUsers", "ram:GetUser"]
    validate_document(doc(deny("ram:*", Condition=CONDITION)))


def test_action_with_trailing_newline_is_refused():
    """rules §2: an Action is exactly service:Name; a trailing newline is not ignored."""
    text = (
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:ListUsers\\n", '
        '"Resource": "*"}]}'
    )
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document_text(text)
    assert "is not of the form service:Action" in caught.value.errors[0]


def test_deeply_nested_document_is_refused_not_a_crash():
    """rules §2: the Script Editor refuses any invalid document with a message; a document
    nested deeper than the JSON parser can follow is one (it used to raise RecursionError)."""
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document_text("[" * 60_000)
    assert "nested too deeply" in caught.value.errors[0]


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "acs:ram:*:1:user/\u0000"},
        {
            "Effect": "Allow",
            "Action": "ram:ListUsers",
            "Resource": "*",
            "Condition": {"StringEquals": {"acs:SourceIp\u0000": "a\u0000"}},
        },
    ],
    ids=["resource", "condition"],
)
def test_nul_character_in_a_document_is_refused(statement):
    """rules §2: a NUL character cannot be stored (PostgreSQL's jsonb refuses it, which used to
    answer 500), so the Script Editor refuses it and says where."""
    with pytest.raises(PolicyDocumentError) as caught:
        validate_document({"Version": "1", "Statement": [statement]})
    assert "Statement[0]" in caught.value.errors[0]
    assert "NUL" in caught.value.errors[0]
