"""Rules §16 (issue 19): the verdicts of `make cluster-test` (cluster/run.py), on figures made up
to break each rule in turn: a run that breaks one must fail with that reason. The run itself
needs root and network namespaces: CI runs it (`make cluster-test CLUSTER_SIZE=small`), not the
suite."""

from __future__ import annotations

import pytest

from cluster import verdict

GOOD = {
    "requests_sent": 84,
    "requests_failed": 1,
    "failed_in_flight_at_kill": 1,
    "failed_allowed": 2,
    "contacts_created": 24,
    "contacts_confirmed": 24,
    "deliveries_expected": 32,
    "deliveries_delivered": 32,
    "duplicates": 1,
    "killed_worker_sends_in_flight": 1,
    "max_per_robot_per_60s": 20,
    "lb_failover_s": 0.2,
    "web1_back_up_s": 7.0,
}


def test_a_run_within_every_rule_passes():
    assert verdict.checks(GOOD) == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"failed_in_flight_at_kill": 0}, "not in flight"),
        ({"requests_failed": 3, "failed_in_flight_at_kill": 3}, "3 requests failed"),
        ({"contacts_confirmed": 23}, "contacts created != contacts confirmed"),
        ({"deliveries_delivered": 31}, "deliveries expected != deliveries delivered"),
        ({"duplicates": 2}, "more duplicates"),
        ({"max_per_robot_per_60s": 21}, "more than 20 messages in 60 s"),
        ({"lb_failover_s": None}, "never marked the killed node down"),
        ({"web1_back_up_s": None}, "never came back up"),
    ],
)
def test_a_run_that_breaks_a_rule_fails_with_the_reason(changes, reason):
    problems = verdict.checks({**GOOD, **changes})
    assert len(problems) == 1
    assert reason in problems[0]


def test_the_busiest_60_seconds_of_a_robot():
    assert verdict.max_in_window([], 60) == 0
    # 20 messages a second apart, then one a second from 60 s on: each new one comes as the
    # oldest leaves the window (a message 60 s old no longer counts, as the limiter has it).
    times = [float(i) for i in range(20)] + [60.0 + i for i in range(5)]
    assert verdict.max_in_window(times, 60) == 20
    assert verdict.max_in_window([*times, 59.5], 60) == 21
