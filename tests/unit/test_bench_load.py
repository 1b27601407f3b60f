"""The benchmark reads wrk's report (bench/load.py): the figures, and refusals counted."""

from __future__ import annotations

import pytest

from bench.load import LoadError, Result, combine, parse

REPORT = """Running 5s test @ http://127.0.0.1:8000/contacts/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    62.10ms   12.31ms   1.20s    70.00%
    Req/Sec    32.00      5.00    40.00     66.67%
  Latency Distribution
     50%   61.50ms
     75%   70.00ms
     90%   80.00ms
     99%    1.20s
  321 requests in 5.01s, 30.12MB read
  Non-2xx or 3xx responses: 2
Requests/sec:     64.07
Transfer/sec:      6.01MB
"""


def test_parse_reads_rate_percentiles_and_bad_answers():
    result = parse(REPORT)
    assert result == Result(rps=64.1, p50_ms=61.5, p99_ms=1200.0, requests=321, bad=2)
    assert result.figures() == {"rps": 64.1, "p50_ms": 61.5, "p99_ms": 1200.0}


def test_parse_reads_microseconds():
    fast = REPORT.replace("61.50ms", "850.00us").replace("  Non-2xx or 3xx responses: 2\n", "")
    result = parse(fast)
    assert result.p50_ms == 0.85 and result.bad == 0


def test_an_unreadable_report_is_an_error():
    with pytest.raises(LoadError):
        parse("wrk: connection refused")


def test_rounds_combine_into_mean_rate_and_median_latency():
    rounds = [
        Result(rps=10.0, p50_ms=100.0, p99_ms=300.0, requests=50, bad=0),
        Result(rps=20.0, p50_ms=50.0, p99_ms=200.0, requests=100, bad=0),
        Result(rps=30.0, p50_ms=40.0, p99_ms=900.0, requests=150, bad=1),
    ]
    assert combine(rounds) == Result(rps=20.0, p50_ms=50.0, p99_ms=300.0, requests=300, bad=1)
