"""The benchmark's outputs: latest.json (the issue's keys, plus `details`), latest.md (the
table the README shows) and latest.png (ratios and growth against their targets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Targets (issue 11): (key, target, "min" or "max").
TARGETS = {
    "page_over_bare": (0.1, "min"),
    "page_over_admin": (5.0, "min"),
    "growth_10000_over_1": (1.2, "max"),
    "admin_growth_10000_over_1": (1.5, "max"),
    "creates_per_s": (100, "min"),
    "merge_100_users_s": (1.0, "max"),
    "dispatch_per_s_per_worker": (200, "min"),
    "dispatch_per_s_at_100_ms": (300, "min"),
    "time_to_notify_p99_s": (5.0, "max"),
    "intake_alerts_per_s": (500, "min"),
}


def normalised_growth(results: dict[str, Any]) -> dict[str, float]:
    """Growth of (a) and (c) with each phase's p50 divided by the bare view's p50 of the same
    phase: the machine is shared, and a neighbour busier during one phase than the other moves
    every page of that phase alike, the anchor included."""
    d = results["details"]
    small, large = d["at_1_account"], d["at_large"]

    def growth(key: str) -> float:
        before = small[key]["p50_ms"] / small["bare_view"]["p50_ms"]
        after = large[key]["p50_ms"] / large["bare_view"]["p50_ms"]
        return round(after / before, 3) if before else 0.0

    return {"page": growth("page"), "admin_changelist": growth("admin_changelist")}


def write(results: dict[str, Any], output: Path) -> list[Path]:
    paths = [output / "latest.json", output / "latest.md", output / "latest.png"]
    results["details"]["growth_over_bare"] = normalised_growth(results)
    paths[0].write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    paths[1].write_text(markdown(results))
    try:
        chart(results, paths[2])
    except ImportError:  # run without `make bench`, which installs requirements-bench.txt
        print("no chart: matplotlib is not installed (pip install -r requirements-bench.txt)")
        return paths[:2]
    return paths


def _met(key: str, value: float) -> str:
    target, kind = TARGETS[key]
    ok = value >= target if kind == "min" else value <= target
    sign = "≥" if kind == "min" else "≤"
    return f"{sign} {target:g} {'✅' if ok else '❌'}"


def markdown(results: dict[str, Any]) -> str:
    d = results["details"]
    n = d["accounts_large"]
    small, large = d["at_1_account"], d["at_large"]
    ratios = results["ratios"]
    machine = results["machine"]
    lines = [
        f"Benchmark of {results['when']} on {machine['cpus']} CPUs ({machine['cpu']}), "
        f"PostgreSQL {machine['postgresql']}, {d['server']}; {d['load']}.",
        "",
        f"| page (100 contacts) | req/s | p50 ms | p99 ms | p50 ms at {n:,} accounts |",
        "|---|---:|---:|---:|---:|",
    ]
    names = {
        "page": "(a) Contact Management",
        "page_query": "(b) Contact Management, with a query",
        "admin_changelist": "(c) admin change list, same 100 contacts",
        "bare_view": "(d) bare Django view (the limit)",
        "admin_arms_contacts": "admin: ARMS contacts (all accounts)",
        "admin_ram_users": "admin: RAM users (all accounts)",
        "admin_contact_search": "admin: contact search `user5`",
    }
    for key, label in names.items():
        s, big = small[key], large[key]
        lines.append(
            f"| {label} | {s['rps']:,.1f} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} "
            f"| {big['p50_ms']:.1f} |"
        )
    q = results["queries"]
    normalised = normalised_growth(results)
    merge = d["merge"]["first"]
    intake = d["intake"]
    dispatch = d["dispatch"]
    ttn = dispatch["time_to_notify_s"]
    lines += [
        "",
        "| figure | value | target |",
        "|---|---:|---|",
        f"| (a) / (d) throughput | {ratios['page_over_bare']:.3f} "
        f"| {_met('page_over_bare', ratios['page_over_bare'])} |",
        f"| (a) / (c) throughput | {ratios['page_over_admin']:.2f} "
        f"| {_met('page_over_admin', ratios['page_over_admin'])} |",
        f"| (a) p50 growth, {n:,} accounts / 1 | {ratios['growth_10000_over_1']:.2f} "
        f"| {_met('growth_10000_over_1', ratios['growth_10000_over_1'])} |",
        f"| (c) p50 growth, {n:,} accounts / 1 | {ratios['admin_growth_10000_over_1']:.2f} "
        f"| {_met('admin_growth_10000_over_1', ratios['admin_growth_10000_over_1'])} |",
        f"| the same two, each phase's p50 over the bare view's p50 "
        f"| {normalised['page']:.2f}; {normalised['admin_changelist']:.2f} | |",
        f"| SQL queries of (a), 1 / 100 contacts | {q['page_1_contact']} / "
        f"{q['page_100_contacts']} | the same "
        f"{'✅' if q['page_1_contact'] == q['page_100_contacts'] else '❌'} |",
        f"| New Contact POSTs per second (linking included) | {results['creates_per_s']:.1f} "
        f"| {_met('creates_per_s', results['creates_per_s'])} |",
        f"| Merge Contacts, 100 RAM users (s; queries) | {results['merge_100_users_s']:.3f}; "
        f"{merge['queries']} | {_met('merge_100_users_s', results['merge_100_users_s'])} |",
        f"| intake: alerts per second ({intake['alerts_per_post']} per post, "
        f"{intake['deliveries_per_post']} deliveries per post) "
        f"| {results['intake_alerts_per_s']:.1f} "
        f"| {_met('intake_alerts_per_s', results['intake_alerts_per_s'])} |",
        f"| dispatch: deliveries per second, one worker, sink at 0 ms over plain HTTP "
        f"| {results['dispatch_per_s_per_worker']:.1f} "
        f"| {_met('dispatch_per_s_per_worker', results['dispatch_per_s_per_worker'])} |",
        f"| dispatch over TLS, sink at 0 / 100 / 300 ms (deliveries per second, one worker) "
        f"| {' / '.join(f'{v:.1f}' for v in dispatch['per_s_by_latency_ms'].values())} "
        f"| {_met('dispatch_per_s_at_100_ms', dispatch['per_s_by_latency_ms']['100'])} at 100 |",
        f"| dispatch: worker CPU ms per delivery; TLS handshakes per 1,000 deliveries "
        f"| {dispatch['cpu_ms_per_delivery']:.2f}; {dispatch['tls_handshakes_per_1000']} | |",
        f"| time-to-notify, 1,000 alerts to 1,000 robots, 2 workers, sink at 100 ms "
        f"(p50 / p99 / max s) | {ttn['p50']:.2f} / {ttn['p99']:.2f} / {ttn['max']:.2f} "
        f"| {_met('time_to_notify_p99_s', ttn['p99'])} |",
        f"| set-up: {n:,} accounts of 100 contacts, bulk inserts (s) | {results['setup_s']:.1f} "
        "| |",
        "",
    ]
    if "cloud" in results:
        lines += cloud_lines(results["cloud"])
    return "\n".join(lines)


def cloud_lines(cloud: dict[str, Any]) -> list[str]:
    """The cloud phase (bench/cloud.py): against the loopback OpenAPI fake, each call 20 ms."""
    sync, push, faults = cloud["sync_ram"], cloud["push"], cloud["faults"]
    tried = ", ".join(f"{k} {v}" for k, v in faults["tried"].items())
    return [
        f"Cloud connection, against the OpenAPI fake answering after {cloud['latency_ms']:g} ms "
        f"(SAE_CLOUD_QPS {cloud['qps_cap']:g}, {cloud['ram_sync_threads']} RAM calls at once):",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| sync_ram of {sync['users']:,} users (s; calls) | {sync['seconds']:.1f}; "
        f"{sum(sync['calls'].values()):,} |",
        f"| sync_ram again, nothing changed (s; calls) | {cloud['sync_ram_again']['seconds']:.1f}; "
        f"{cloud['sync_ram_again']['calls']:,} |",
        f"| ARMS pushes per second, {push['contacts']} new contacts | {push['pushes_per_s']:.1f} |",
        f"| faults tried ({tried}): rows failed; phones twice in ARMS | "
        f"{faults['failed_rows']}; {faults['duplicated_phones']} |",
        "",
    ]


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = results["details"]
    n = d["accounts_large"]
    ratios = results["ratios"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)

    bars = [
        ("(a)/(d)\npage / bare view", ratios["page_over_bare"], 0.1, "min"),
        ("(a)/(c)\npage / admin", ratios["page_over_admin"], 5.0, "min"),
        (f"(a) p50\n{n:,} / 1 accounts", ratios["growth_10000_over_1"], 1.2, "max"),
        (f"(c) p50\n{n:,} / 1 accounts", ratios["admin_growth_10000_over_1"], 1.5, "max"),
    ]
    for x, (_label, value, target, kind) in enumerate(bars):
        ok = value >= target if kind == "min" else value <= target
        left.bar(x, value, color="#2e7d32" if ok else "#c62828", width=0.6)
        left.hlines(target, x - 0.4, x + 0.4, colors="black", linestyles="dashed")
        left.annotate(f"{value:.2f}", (x, value), ha="center", va="bottom", fontsize=9)
    left.set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=8)
    left.set_yscale("log")
    left.set_title("Ratios (dashed: target)", fontsize=10)

    small, large = d["at_1_account"], d["at_large"]
    keys = [
        ("page", "(a) page"),
        ("page_query", "(b) query"),
        ("admin_changelist", "(c) admin"),
        ("admin_arms_contacts", "admin ARMS"),
        ("admin_ram_users", "admin RAM"),
        ("admin_contact_search", "admin search"),
        ("bare_view", "(d) bare"),
    ]
    width = 0.38
    for k, (key, _label) in enumerate(keys):
        right.bar(
            k - width / 2,
            small[key]["p50_ms"],
            width,
            color="#90caf9",
            label="1 account" if k == 0 else None,
        )
        right.bar(
            k + width / 2,
            large[key]["p50_ms"],
            width,
            color="#1565c0",
            label=f"{n:,} accounts" if k == 0 else None,
        )
    right.set_xticks(range(len(keys)), [k[1] for k in keys], fontsize=8, rotation=20)
    right.set_ylabel("p50 latency, ms (wrk, 4 connections)")
    right.set_title(f"Growth: p50 at 1 and at {n:,} accounts", fontsize=10)
    right.legend(fontsize=8)
    fig.suptitle(f"SAE Contact Console benchmark, {results['when']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.report [latest.json]`: the table and the chart again from the JSON."""
    import sys

    source = Path(
        (argv if argv is not None else sys.argv[1:] or ["docs/benchmarks/latest.json"])[0]
    )
    results = json.loads(source.read_text())
    for path in write(results, source.parent):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
