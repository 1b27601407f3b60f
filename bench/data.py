"""Benchmark data, built with bulk `INSERT ... SELECT` on PostgreSQL (no row goes through Python).

Account number `i` gets the account ID `10**15 + i`, its owner sign-in, the three system
policies, `ram_users` RAM users (`user001`...), and for the first `contacts` of them an SAE
contact linked to an ARMS contact of the same phone, name and mailbox, as creating the contact
in the console would leave it; plus the `sae:` groups (`sae:contacts` holding every linked
ARMS contact) and the `sae:default` policy. Phone numbers are distinct across all accounts.

Columns the builder does not name (a field added later) get the field's default, so a new
field with a default does not break the benchmark.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

from django.db import connection, models, transaction

from arms_sync.managed import SAE_EVENT_LABELS
from arms_sync.models import (
    CONTACTS_GROUP,
    DEFAULT_POLICY,
    MANAGED_GROUP_DESCRIPTIONS,
    ArmsContact,
    ContactGroup,
    NotificationPolicy,
)
from contacts.models import Contact
from ram_directory.models import Account, Policy, RamUser, User
from ram_directory.services import SYSTEM_POLICIES

ACCOUNT_BASE = 10**15  # account i has the 16-digit ID ACCOUNT_BASE + i
USER_ID_BASE = 2 * 10**15
CHUNK = 1000  # accounts per INSERT round (about 100,000 rows per table)


def account_id(i: int) -> str:
    return str(ACCOUNT_BASE + i)


def login_name(i: int) -> str:
    return f"owner@bench{i}.example.com"


@dataclass(frozen=True)
class Built:
    accounts: int
    seconds: float


def _columns(model: type[models.Model], given: dict) -> tuple[list[str], list[str], list]:
    """(columns, SQL expressions, parameters in their order) for an INSERT of `model`: the
    expressions given by column name (a string, or (expression, parameters)), and the field's
    default (one value for every row) for the rest."""
    columns, exprs, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in given:
            continue
        columns.append(field.column)
        if field.column in given:
            expr = given[field.column]
            expr, values = expr if isinstance(expr, tuple) else (expr, [])
            exprs.append(expr)
            params.extend(values)
        elif field.null:
            exprs.append("NULL")
        else:
            exprs.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    return columns, exprs, params


def _insert(model, given: dict, source: str, params: list) -> int:
    columns, exprs, select_params = _columns(model, given)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(exprs)} {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*select_params, *params])
        return cursor.rowcount


def _m2m(field: models.ManyToManyField) -> tuple[str, str, str]:
    through = field.remote_field.through._meta
    source = field.m2m_column_name()
    target = field.m2m_reverse_name()
    return through.db_table, source, target


def build(lo: int, hi: int, *, ram_users: int = 100, contacts: int = 100) -> Built:
    """Accounts lo..hi-1, in rounds of CHUNK accounts (one transaction each)."""
    started = time.perf_counter()
    for start in range(lo, hi, CHUNK):
        with transaction.atomic():
            _build_chunk(start, min(hi, start + CHUNK), ram_users, contacts)
    return Built(hi - lo, time.perf_counter() - started)


def _build_chunk(lo: int, hi: int, ram_users: int, contacts: int) -> None:
    acc = Account._meta.db_table
    ru = RamUser._meta.db_table
    ct = Contact._meta.db_table
    arms = ArmsContact._meta.db_table
    grp = ContactGroup._meta.db_table
    pol = NotificationPolicy._meta.db_table
    # The accounts of this round, by their number i.
    in_round = f"({acc}.account_id::bigint - {ACCOUNT_BASE}) BETWEEN {lo} AND {hi - 1}"
    number = f"({acc}.account_id::bigint - {ACCOUNT_BASE})"

    _insert(
        Account,
        {
            "account_id": f"({ACCOUNT_BASE} + i)::text",
            "login_name": "'owner@bench' || i || '.example.com'",
            "alias": "'bench' || i",
            "created_at": "now()",
        },
        "FROM generate_series(%s, %s) AS i",
        [lo, hi - 1],
    )
    _insert(
        User,
        {
            "username": f"{acc}.login_name",
            "email": f"{acc}.login_name",
            "password": "'!bench-unusable'",
            "account_id": f"{acc}.id",
            "date_joined": "now()",
        },
        f"FROM {acc} WHERE {in_round}",
        [],
    )
    for name, (description, document) in SYSTEM_POLICIES.items():
        _insert(
            Policy,
            {
                "account_id": f"{acc}.id",
                "name": ("%s", [name]),
                "policy_type": ("%s", [Policy.PolicyType.SYSTEM]),
                "description": ("%s", [description]),
                "document": ("%s::jsonb", [json.dumps(document)]),
                "created_at": "now()",
                "updated_at": "now()",
            },
            f"FROM {acc} WHERE {in_round}",
            [],
        )
    # RAM user j of account i: phone 13 + nine digits of (i * 100 + j - 1), distinct overall.
    digits = f"'13' || lpad(({number} * 100 + j - 1)::text, 9, '0')"
    _insert(
        RamUser,
        {
            "account_id": f"{acc}.id",
            "user_id": f"({USER_ID_BASE} + {number} * 1000 + j)::text",
            "user_name": "'user' || lpad(j::text, 3, '0')",
            "display_name": "'Bench user ' || j",
            "mobile_phone": f"'86-' || {digits}",
            "email": f"'user' || lpad(j::text, 3, '0') || '@bench' || {number} || '.example.com'",
            "created_at": "now()",
            "updated_at": "now()",
        },
        f"FROM {acc} CROSS JOIN generate_series(1, %s) AS j WHERE {in_round}",
        [ram_users],
    )
    if contacts:
        _insert(
            Contact,
            {
                "account_id": f"{acc}.id",
                "ram_user_id": f"{ru}.id",
                "phone": f"'+86' || substr({ru}.mobile_phone, 4)",
                "mailbox": f"{ru}.email",
                # Created in user-name order, as the page lists them.
                "created_at": f"now() + (substr({ru}.user_name, 5)::int * interval '1 ms')",
                "updated_at": "now()",
            },
            f"FROM {ru} JOIN {acc} ON {ru}.account_id = {acc}.id "
            f"WHERE {in_round} AND substr({ru}.user_name, 5)::int <= %s",
            [contacts],
        )
        _insert(
            ArmsContact,
            {
                "account_id": f"{ct}.account_id",
                "contact_id": f"100000000 + {ct}.id",
                "name": f"{ru}.user_name",
                "phone": f"{ct}.phone",
                "email": f"{ct}.mailbox",
                "sae_contact_id": f"{ct}.id",
                "created_at": "now()",
                "updated_at": "now()",
            },
            f"FROM {ct} JOIN {ru} ON {ct}.ram_user_id = {ru}.id "
            f"JOIN {acc} ON {ct}.account_id = {acc}.id WHERE {in_round}",
            [],
        )
    for name, description in MANAGED_GROUP_DESCRIPTIONS.items():
        _insert(
            ContactGroup,
            {
                "account_id": f"{acc}.id",
                "name": ("%s", [name]),
                "description": ("%s", [description]),
                "created_at": "now()",
            },
            f"FROM {acc} WHERE {in_round}",
            [],
        )
    _insert(
        NotificationPolicy,
        {
            "account_id": f"{acc}.id",
            "name": ("%s", [DEFAULT_POLICY]),
            "match_labels": ("%s::jsonb", [json.dumps(SAE_EVENT_LABELS)]),
            "enabled": "true",
            "created_at": "now()",
        },
        f"FROM {acc} WHERE {in_round}",
        [],
    )
    members, group_col, arms_col = _m2m(ContactGroup._meta.get_field("members"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {members} ({group_col}, {arms_col}) "
            f"SELECT {grp}.id, {arms}.id FROM {arms} "
            f"JOIN {grp} ON {grp}.account_id = {arms}.account_id AND {grp}.name = %s "
            f"JOIN {acc} ON {arms}.account_id = {acc}.id WHERE {in_round}",
            [CONTACTS_GROUP],
        )
        routes, policy_col, group_col = _m2m(NotificationPolicy._meta.get_field("groups"))
        cursor.execute(
            f"INSERT INTO {routes} ({policy_col}, {group_col}) "
            f"SELECT {pol}.id, {grp}.id FROM {pol} "
            f"JOIN {grp} ON {grp}.account_id = {pol}.account_id AND {grp}.name = %s "
            f"JOIN {acc} ON {pol}.account_id = {acc}.id WHERE {in_round} AND {pol}.name = %s",
            [CONTACTS_GROUP, DEFAULT_POLICY],
        )


def analyze() -> float:
    """VACUUM ANALYZE, as autovacuum would have done by the time anyone used the data: the
    planner then knows the tables' sizes."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def add_robots(i: int, *, wecom: bool = True, secrets_every: int = 5) -> None:
    """Give account i's contacts (and their linked ARMS contacts) robots, as a real account has:
    every contact a DingTalk robot of its own, every other one a WeCom robot, every fifth a
    signing secret. Encrypted like any saved robot (bulk_update goes through the field)."""
    contacts = list(
        Contact.objects.filter(account__account_id=account_id(i)).order_by("created_at", "id")
    )
    arms = {a.sae_contact_id: a for a in ArmsContact.objects.filter(sae_contact__in=contacts)}
    for n, contact in enumerate(contacts):
        contact.dingtalk_webhook = (
            f"https://oapi.dingtalk.com/robot/send?access_token={secrets.token_hex(32)}"
        )
        signed = secrets_every and n % secrets_every == 0
        contact.dingtalk_secret = f"SEC{secrets.token_hex(32)}" if signed else ""
        contact.wecom_webhook = (
            f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={secrets.token_hex(18)}"
            if wecom and n % 2 == 0
            else ""
        )
        contact.fill_masks()
        linked = arms[contact.pk]
        linked.ding_robot_url = contact.dingtalk_webhook
        linked.ding_robot_secret = contact.dingtalk_secret
        linked.wecom_robot_url = contact.wecom_webhook
    Contact.objects.bulk_update(
        contacts,
        ["dingtalk_webhook", "dingtalk_secret", "wecom_webhook", "dingtalk_masked", "wecom_masked"],
    )
    ArmsContact.objects.bulk_update(
        list(arms.values()), ["ding_robot_url", "ding_robot_secret", "wecom_robot_url"]
    )


def account(i: int) -> Account:
    return Account.objects.get(account_id=account_id(i))


def owner(i: int) -> User:
    return User.objects.get(account__account_id=account_id(i), ram_user__isnull=True)


def operator() -> User:
    """The platform operator who uses the admin (no account, superuser)."""
    user, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def point_robots_at(i: int, url_for) -> None:
    """Account i's linked ARMS contacts (what alerts reach): a DingTalk robot each, at
    `url_for(n)` for the n-th, and no mailbox or WeCom robot (the dispatch phase measures
    robots)."""
    linked = list(
        ArmsContact.objects.filter(
            account__account_id=account_id(i), sae_contact__isnull=False
        ).order_by("id")
    )
    for n, arms in enumerate(linked):
        arms.ding_robot_url = url_for(n)
        arms.ding_robot_secret = ""
        arms.wecom_robot_url = ""
        arms.email = None if ArmsContact._meta.get_field("email").null else ""
    ArmsContact.objects.bulk_update(
        linked, ["ding_robot_url", "ding_robot_secret", "wecom_robot_url", "email"]
    )


def account_exists(i: int) -> bool:
    return Account.objects.filter(account_id=account_id(i)).exists()
