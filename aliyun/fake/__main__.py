"""python -m aliyun.fake [--port 8900] [--seed demo|users:N|none] [--json]: the fake, foreground.

It prints the endpoint, the AccessKey to use and the steps to connect a console account to it,
then serves until Ctrl-C. Each answered call is logged to stderr as its action and status only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import signal
import sys
import threading

from .server import FakeCloud

DEFAULT_KEY_ID = "LTAI5tFakeKeyId0001"
# A fixed, public test value (a saved connection keeps working across restarts of the fake);
# --secret changes it. It opens nothing but this loopback fake.
DEFAULT_SECRET = "FakeSecretForTheLoopbackFakeOnly01"
DEFAULT_ACCOUNT = "1234567890123456"  # seed_demo's demo account
MAX_SEED_USERS = 99_999


def parse_seed(value: str) -> tuple[str, int]:
    if value in ("demo", "none"):
        return value, 0
    kind, _, count = value.partition(":")
    if kind == "users" and count.isdigit() and 0 < int(count) <= MAX_SEED_USERS:
        return "users", int(count)
    raise argparse.ArgumentTypeError(
        f"--seed takes demo, none or users:N with N from 1 to {MAX_SEED_USERS}, not {value!r}"
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m aliyun.fake", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8900, help="loopback port (0: any free one)")
    parser.add_argument(
        "--seed",
        type=parse_seed,
        action="append",
        help="demo (default), none, or users:N; may be given more than once",
    )
    parser.add_argument("--access-key-id", default=DEFAULT_KEY_ID)
    parser.add_argument("--secret", default=DEFAULT_SECRET, help="the AccessKey secret")
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT, help="the console account to name")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--quiet", action="store_true", help="no line per call on stderr")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON line (endpoint, AccessKey, account, counts) instead of the steps",
    )
    return parser


def instructions(fake: FakeCloud, key_id: str, secret: str, account: str) -> str:
    endpoint = fake.endpoint
    q = shlex.quote
    connect = (
        f"SAE_CLOUD_ALLOW_HTTP=1 .venv/bin/python manage.py cloud_connect {q(account)} "
        f"--access-key-id {q(key_id)} --secret-env CLOUD_FAKE_SECRET "
        f"--ram-endpoint {endpoint} --arms-endpoint {endpoint} --sts-endpoint {endpoint} "
        "--protocol http"
    )
    roles = sorted(fake.sts.roles)
    return "\n".join(
        [
            "Fake Alibaba Cloud OpenAPI (RAM 2015-05-01, ARMS 2019-08-08), loopback only",
            f"  endpoint: {endpoint}",
            f"  AccessKey ID: {key_id}",
            f"  AccessKey secret: {secret}",
            f"  seeded: {len(fake.ram.users)} RAM users, {len(fake.arms.contacts)} ARMS contacts",
            "",
            "Connect the console's demo account to it (another terminal, in the repository, after",
            "`make run` has created the demo data):",
            f"  export CLOUD_FAKE_SECRET={q(secret)}",
            f"  {connect}",
            f"  SAE_CLOUD_ALLOW_HTTP=1 .venv/bin/python manage.py sync_ram {q(account)}",
            f"  SAE_CLOUD_ALLOW_HTTP=1 .venv/bin/python manage.py sync_arms {q(account)}",
            "Or in the browser: start the console with `SAE_CLOUD_ALLOW_HTTP=1 make run`, sign in",
            "as owner@demo.example.com, open Enterprise Features > Cloud Connection and enter the",
            f"AccessKey above, RAM, ARMS and STS endpoint {endpoint}, protocol http; then Check.",
            "",
            *(
                [
                    "Through a RAM role instead: add `--role-arn "
                    + ", ".join(
                        f"acs:ram::{fake.account_id}:role/{r.rsplit('/', 1)[-1]}" for r in roles
                    )
                    + "` and run the console and the commands with",
                    f"SSL_CERT_FILE={q(fake.ca_file)} (STS is HTTPS only; this is the fake's",
                    "own certificate).",
                    "",
                ]
                if roles
                else []
            ),
            "Ready; Ctrl-C stops.",
        ]
    )


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        print("error: --port must be 0 to 65535", file=sys.stderr)
        return 2
    if not 0 <= args.latency <= 60:
        print("error: --latency must be 0 to 60 seconds", file=sys.stderr)
        return 2

    def log(line: str) -> None:
        print(f"{dt.datetime.now():%H:%M:%S} {line}", file=sys.stderr, flush=True)

    fake = FakeCloud(
        access_keys={args.access_key_id: args.secret},
        account_id=args.account_id,
        port=args.port,
        log=None if args.quiet else log,
    )
    fake.latency = args.latency
    fake.sts.add_role("sae-console")
    for kind, count in args.seed or [("demo", 0)]:
        if kind == "demo":
            fake.seed_demo()
        elif kind == "users":
            fake.seed_users(count)
    try:
        fake.start()
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if args.json:
        ready = {
            "endpoint": fake.endpoint,
            "access_key_id": args.access_key_id,
            "access_key_secret": args.secret,
            "account_id": args.account_id,
            "ram_users": len(fake.ram.users),
            "arms_contacts": len(fake.arms.contacts),
        }
        print(json.dumps(ready), flush=True)
    else:
        print(instructions(fake, args.access_key_id, args.secret, args.account_id), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.close()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
