"""latest.json and latest.md of a cluster run."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path


def write(output: Path, figures: dict, problems: list[str]) -> None:
    output.mkdir(parents=True, exist_ok=True)
    figures = {
        **figures,
        "passed": not problems,
        "problems": problems,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.node()} {platform.machine()}",
    }
    (output / "latest.json").write_text(json.dumps(figures, indent=2) + "\n")
    (output / "latest.md").write_text(markdown(figures))


def markdown(f: dict) -> str:
    killed = "; ".join(
        f"{k['node']} SIGKILLed at {k['at_s']} s (pids {', '.join(map(str, k['pids']))}), "
        f"started again at {k['restarted_at_s']} s"
        for k in f["killed"]
    )
    verdict = "passed" if f["passed"] else "FAILED: " + "; ".join(f["problems"])
    size = f["size"]
    rows = [
        ("requests sent", f["requests_sent"], ""),
        (
            "requests failed",
            f["requests_failed"],
            f"only those in flight on the killed node (≤ {f['failed_allowed']}, its workers); "
            f"in flight at the kill: {f['failed_in_flight_at_kill']}",
        ),
        ("contacts created", f["contacts_created"], "New Contact answered 302"),
        ("contacts confirmed", f["contacts_confirmed"], "= created"),
        ("deliveries expected", f["deliveries_expected"], "alerts the intake accepted"),
        ("deliveries delivered", f["deliveries_delivered"], "= expected (seen by the sink)"),
        (
            "duplicates",
            f["duplicates"],
            f"≤ the killed worker's sends in flight ({f['killed_worker_sends_in_flight']})",
        ),
        ("max per robot per 60 s", f["max_per_robot_per_60s"], "≤ 20"),
        ("load balancer failover (s)", f["lb_failover_s"], "kill → HAProxy marks the node DOWN"),
        ("restarted node back (s)", f["web1_back_up_s"], "start → HAProxy marks it UP"),
    ]
    table = "\n".join(f"| {name} | {value} | {rule} |" for name, value, rule in rows)
    return f"""# Cluster run ({f["finished_at"]}): {verdict}

Two gunicorn web nodes ({size["clients"]} load clients through HAProxy, health checks on
`/readyz` every 0.5 s, fall 2), two `notify_worker` nodes, one PostgreSQL, a DingTalk-like
robot sink answering in 0.1 s; each node in its own network namespace. {size["accounts"]}
accounts; per account {size["contacts"]} New Contact posts, {size["alerts"]} intake posts and
{size["views"]} page views after a sign-in. Load took {f["load_s"]} s. {killed}.

| figure | value | rule |
|---|---:|---|
{table}

Requests by kind: {", ".join(f"{k} {v}" for k, v in sorted(f["requests_by_kind"].items()))}.
Robot messages received: {f["robot_messages"]}. The nodes' `/metrics` after the run (the killed
processes' counts included): intake posts answered 200 by the web nodes
{f["metrics"].get("intake_posts_200", "n/a")}, deliveries counted as sent by the workers
{f["metrics"].get("deliveries_sent", "n/a")}.
"""
