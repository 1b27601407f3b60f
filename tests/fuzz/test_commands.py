"""rules §10 and §13 for every operator command: hostile arguments and input files end in a
non-zero exit with ONE `error:` line on stderr, never a traceback, and write nothing.

The commands are every management command of ram_directory, contacts and arms_sync (from
`get_commands()`, so a new one is fuzzed as soon as it exists), except the long-running
`notify_worker` and the generators `benchmark` and `seed_demo`. Each run goes through the
same path as a shell (`ManagementUtility(argv).execute()`, argparse included) with stdout
and stderr encoding as a real process's do (stdout strict UTF-8, stderr backslashreplace), so
a lone surrogate printed is a traceback here as it is there. Arguments are drawn from the
parser's own arguments: real account IDs, user and policy names and phones of the world, or
hostile texts (lone surrogates as a shell passes bytes that are not UTF-8); FILE arguments
are generated import files: the API's answer with hostile leaves (huge integers written out,
NaN, dates that do not exist, surrogates), or bytes that are not JSON or not UTF-8.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from hypothesis import event, given
from hypothesis import strategies as st

from tests.commands import as_process_sees, run_as_shell
from tests.fuzz import hostile, stats
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.site import changed_tables, fingerprint, rolled_back
from tests.fuzz.world import World
from tests.integration.test_arms_commands import SEARCH_ANSWER
from tests.integration.test_commands import LIST_USERS_ANSWER

pytestmark = pytest.mark.django_db

APPS = {"ram_directory", "contacts", "arms_sync"}
SKIPPED = {"notify_worker", "benchmark", "seed_demo"}
COMMANDS = sorted(
    name for name, app in get_commands().items() if app in APPS and name not in SKIPPED
)
# Django's own options of every command: not the command's input (and --settings or
# --pythonpath would reconfigure the test process itself).
DJANGO_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}
PASSWORD_VAR = "SAE_FUZZ_PASSWORD"
_files = itertools.count()


# One entry of each answer as the cloud APIs write it (the import tests' own samples).
RAM_USER = LIST_USERS_ANSWER["Users"]["User"][0]
ARMS_CONTACT = {**SEARCH_ANSWER["PageBean"]["Contacts"][0], "WebhookUrl": "http://[oops"}


@st.composite
def import_files(draw) -> bytes:
    """An import file: RAM's or ARMS's answer with some values (or keys) hostile, or not JSON
    at all."""
    kind = draw(st.sampled_from(["ram", "arms", "ram", "arms", "text", "bytes"]))
    if kind == "bytes":
        return draw(
            st.one_of(
                st.sampled_from([b"", b"\xff\xfe\x00", b"\xef\xbb\xbf{}", b"\xed\xa0\x80"]),
                st.binary(max_size=64),
            )
        )
    if kind == "text":
        return draw(hostile.text_values).encode("utf-8", "surrogatepass")
    template = RAM_USER if kind == "ram" else ARMS_CONTACT
    entries = [dict(template) for _ in range(draw(st.integers(min_value=1, max_value=3)))]
    document = (
        {"Users": {"User": entries}} if kind == "ram" else {"PageBean": {"Contacts": entries}}
    )
    document = draw(hostile.mutated(document))
    return hostile.dumps(document, ensure_ascii=draw(st.booleans())).encode(
        "utf-8", "surrogatepass"
    )


def _values(world: World, tmp: Path) -> dict[str, st.SearchStrategy]:
    """Realistic values per argument (so that the checks past the first are reached too)."""
    a, b = world.account, world.other_account

    def write(content: bytes) -> str:
        path = tmp / f"input-{next(_files)}.json"
        path.write_bytes(content)
        return str(path)

    return {
        "account_id": st.sampled_from([a.account_id, b.account_id, f" {a.account_id} "]),
        "user_name": st.sampled_from(["alice", "carol", "bob", "dave", "ALICE"]),
        "policy_name": st.sampled_from(
            ["AliyunRAMReadOnlyAccess", "FuzzListUsers-a", "FuzzSpare-a", "FuzzSpare-b"]
        ),
        "phone": st.sampled_from(["13800000001", "+86 138 0000 0003", "13800000009"]),
        "file": st.one_of(
            import_files().map(write),
            st.sampled_from(["-", str(tmp / "missing.json"), str(tmp)]),
        ),
        "login_name": st.sampled_from(["new-owner@example.com", a.login_name]),
        "alias": st.sampled_from(["fuzz-new", "fuzz-a", "-bad-"]),
        "password_env": st.sampled_from([PASSWORD_VAR, "SAE_FUZZ_UNSET"]),
        "status": st.sampled_from(["pending", "failed", "approved", "sent"]),
        "channel": st.sampled_from(["email", "dingtalk", "wecom"]),
        "event": st.sampled_from(["alert", "approval", "test"]),
        "limit": st.sampled_from(["1", "0", "-1", "100"]),
        "url": st.sampled_from(["https://console.example.com", "javascript:alert(1)"]),
    }


def _parser(name: str):
    return load_command_class(get_commands()[name], name).create_parser("manage.py", name)


def _destinations(name: str) -> set[str]:
    return {action.dest for action in _parser(name)._actions}


def _argument_strategy(name: str, world: World, tmp: Path):
    """argv after the command name, built from its parser's own arguments."""
    parser = _parser(name)
    values = _values(world, tmp)
    positionals, options = [], []
    for action in parser._actions:
        if action.dest in DJANGO_OPTIONS:
            continue
        (options if action.option_strings else positionals).append(action)
    # A shell argument: the argument's realistic values or hostile text (never starting with
    # "-", which would be an option; never NUL, which no argv can carry).
    shell_text = (
        st.one_of(hostile.sharp_text, hostile.sharp_text, hostile.text_values)
        .map(lambda t: t.replace("\x00", ""))
        .filter(lambda t: not t.startswith("-"))
    )

    def value_of(action) -> st.SearchStrategy[str]:
        realistic = values.get(action.dest)
        return st.one_of(realistic, realistic, shell_text) if realistic is not None else shell_text

    @st.composite
    def argv(draw) -> list[str]:
        args = [draw(value_of(a)) for a in positionals]
        if args and draw(st.integers(min_value=0, max_value=9)) == 0:
            args = args[: draw(st.integers(min_value=0, max_value=len(args) - 1))]  # missing
        for action in options:
            if not draw(st.booleans()):
                continue
            flag = action.option_strings[-1]
            if action.nargs == 0:
                args.append(flag)
            else:
                args += [flag, draw(value_of(action))]
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            args.append(draw(st.sampled_from(["--bogus", "extra", "--json=1"])))
        return args

    return argv()


@pytest.mark.parametrize("name", COMMANDS)
def test_hostile_arguments_and_files_end_in_one_error_line_and_write_nothing(
    name: str, world: World, tmp_path_factory, monkeypatch
):
    tmp = tmp_path_factory.mktemp(name)
    stats.cover("management commands fuzzed", name)

    # Commands that read a file get more tries: the file is where most input comes in.
    @fuzz_settings(50 if "file" in _destinations(name) else 25)
    @given(
        argv=_argument_strategy(name, world, tmp),
        password=st.one_of(st.just("Fuzz-Password-2026"), hostile.text_values),
        stdin=st.one_of(import_files().map(lambda b: b.decode("utf-8", "replace")), st.just("")),
    )
    def attack(argv, password, stdin):
        monkeypatch.setenv(PASSWORD_VAR, as_process_sees(password.replace("\x00", "")))
        argv = [as_process_sees(arg) for arg in argv]
        with rolled_back():
            before = fingerprint()
            code, _out, err, problem = run_as_shell([name, *argv], stdin)
            after = fingerprint()
        stats.count("command runs")
        errors = [line for line in err.splitlines() if line.strip()]
        event(f"exit {code}")
        if problem or "Traceback" in err:
            stats.count("tracebacks seen")
        assert not problem and "Traceback" not in err, f"{name} {argv!r}\n{problem or err}"
        if code == 0:
            return
        stats.count("command runs refused")
        assert len(errors) == 1 and ("error: " in errors[0]), f"{name} {argv!r}: {err!r}"
        assert not changed_tables(before, after), f"{name} {argv!r} wrote on refusal"

    attack()
