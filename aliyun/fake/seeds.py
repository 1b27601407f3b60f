"""Seed data: a small demo account for people trying the connection, and N users for paging."""

from __future__ import annotations

LIST_USERS_POLICY = "SaeConsoleListUsers"
LIST_USERS_DOCUMENT = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": ["ram:ListUsers"], "Resource": "*"}],
}
OPERATORS_GROUP = "console-operators"


def seed_demo(fake) -> None:
    """RAM users with phones and emails (one of them holds ram:ListUsers through a group) and
    ARMS contacts that show the three creation cases: a phone nobody holds (new contact), a phone
    an unlinked ARMS contact holds (linked and renamed), and an ARMS-only contact."""
    with fake.lock:
        ram = fake.ram
        if LIST_USERS_POLICY not in ram.policies:
            ram.add_policy(
                LIST_USERS_POLICY,
                LIST_USERS_DOCUMENT,
                description="Lets a RAM user pick any RAM user as a contact.",
            )
        if OPERATORS_GROUP not in ram.groups:
            ram.add_group(OPERATORS_GROUP, policies=(LIST_USERS_POLICY,))
        people = (
            (
                "alice",
                "Alice Wang",
                "86-13811112222",
                "alice@demo.example.com",
                (OPERATORS_GROUP,),
                (),
            ),
            (
                "bob",
                "Bob Li",
                "86-13922223333",
                "bob@demo.example.com",
                (),
                ("AliyunRAMReadOnlyAccess",),
            ),
            ("carol", "Carol Zhang", "86-13733334444", "carol@demo.example.com", (), ()),
            ("dave", "Dave Chen", "", "dave@demo.example.com", (), ()),
            ("erin", "Erin Ho", "852-51234567", "erin@demo.example.com", (), ()),
        )
        for name, display, phone, email, groups, policies in people:
            if name not in ram.users:
                ram.add_user(
                    name,
                    display_name=display,
                    mobile_phone=phone,
                    email=email,
                    groups=groups,
                    policies=policies,
                )
        arms = fake.arms
        wanted = (
            ("Bob (on-call pager)", "13922223333", None),
            ("Carol Z (ARMS)", "13733334444", None),
            ("NOC duty phone", "13600009999", "noc@demo.example.com"),
        )
        for name, phone, email in wanted:
            if not arms.find_by_phone(phone):
                arms.add_contact(name, phone=phone, email=email)


def seed_users(fake, n: int) -> None:
    """n RAM users user0001..., each with a unique phone and email, spread over ten groups.

    Group policies: group-00 holds a custom policy granting ram:ListUsers, group-01
    AliyunRAMReadOnlyAccess, the others a custom policy granting nothing on RAM; every tenth
    user also has AliyunARMSReadOnlyAccess attached directly."""
    if not 0 <= n <= 99_999:
        raise ValueError("seed_users takes 0 to 99,999 users")
    with fake.lock:
        ram = fake.ram
        if LIST_USERS_POLICY not in ram.policies:
            ram.add_policy(LIST_USERS_POLICY, LIST_USERS_DOCUMENT)
        if "SaeConsoleReadLogs" not in ram.policies:
            ram.add_policy(
                "SaeConsoleReadLogs",
                {
                    "Version": "1",
                    "Statement": [{"Effect": "Allow", "Action": "log:Get*", "Resource": "*"}],
                },
            )
        for index in range(10):
            name = f"group-{index:02d}"
            if name in ram.groups:
                continue
            policy = {0: LIST_USERS_POLICY, 1: "AliyunRAMReadOnlyAccess"}.get(
                index, "SaeConsoleReadLogs"
            )
            ram.add_group(name, policies=(policy,))
        width = max(4, len(str(n)))
        for i in range(1, n + 1):
            name = f"user{i:0{width}d}"
            if name in ram.users:
                continue
            ram.add_user(
                name,
                display_name=f"User {i}",
                mobile_phone=f"86-139{i:08d}",
                email=f"{name}@example.com",
                groups=(f"group-{i % 10:02d}",),
                policies=("AliyunARMSReadOnlyAccess",) if i % 10 == 3 else (),
            )
