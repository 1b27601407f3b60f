"""The verdict of a cluster run: the rules its figures must keep (cluster/run.py's docstring)."""

from __future__ import annotations

RATE_LIMIT = 20  # messages per robot in any 60 s (the console's default)


def max_in_window(times: list[float], window: float) -> int:
    """The most of `times` that fall in any `window` seconds (half-open, like the limiter)."""
    times = sorted(times)
    busiest = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


def checks(f: dict) -> list[str]:
    problems = []
    if f["failed_in_flight_at_kill"] != f["requests_failed"]:
        problems.append("a request failed that was not in flight when the node was killed")
    if f["requests_failed"] > f["failed_allowed"]:
        problems.append(
            f"{f['requests_failed']} requests failed; the killed node held at most "
            f"{f['failed_allowed']}"
        )
    if f["contacts_created"] != f["contacts_confirmed"]:
        problems.append("contacts created != contacts confirmed")
    if f["deliveries_expected"] != f["deliveries_delivered"]:
        problems.append("deliveries expected != deliveries delivered")
    if f["duplicates"] > f["killed_worker_sends_in_flight"]:
        problems.append("more duplicates than the killed worker had sends in flight")
    if f["max_per_robot_per_60s"] > RATE_LIMIT:
        problems.append(f"a robot got more than {RATE_LIMIT} messages in 60 s")
    if f["lb_failover_s"] is None:
        problems.append("HAProxy never marked the killed node down")
    if f["web1_back_up_s"] is None:
        problems.append("the restarted node never came back up")
    return problems
