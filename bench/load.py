"""Load from a separate process: wrk (Debian's package) against the served console."""

from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "wrk"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
_RPS = re.compile(r"^\s*Requests/sec:\s+([\d.]+)", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.M)
_BAD = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.M)
_ERRORS = re.compile(r"^\s*Socket errors:.*$", re.M)


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # answers that were not 2xx/3xx

    def figures(self) -> dict:
        return {"rps": self.rps, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms}

    def as_dict(self) -> dict:
        return asdict(self)


class LoadError(RuntimeError):
    pass


def combine(results: list[Result]) -> Result:
    """Rounds of one page: requests per second over all of them (each round as long as the
    others), and the median round's p50 and p99."""

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2

    return Result(
        rps=round(sum(r.rps for r in results) / len(results), 1),
        p50_ms=round(median([r.p50_ms for r in results]), 2),
        p99_ms=round(median([r.p99_ms for r in results]), 2),
        requests=sum(r.requests for r in results),
        bad=sum(r.bad for r in results),
    )


def parse(output: str) -> Result:
    latency = {int(p): float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(output)}
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    if rps is None or total is None or set(latency) != {50, 99}:
        raise LoadError(f"cannot read wrk's output:\n{output}")
    bad = _BAD.search(output)
    return Result(
        rps=round(float(rps.group(1)), 1),
        p50_ms=round(latency[50], 2),
        p99_ms=round(latency[99], 2),
        requests=int(total.group(1)),
        bad=int(bad.group(1)) if bad else 0,
    )


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    headers: dict[str, str] | None = None,
    script: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """One wrk run; raises LoadError if any answer was not 2xx/3xx or a socket failed."""
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=30s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    if script:
        command += ["--script", str(LUA / script)]
    command.append(url)
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, timeout=seconds + 120
    )
    if done.returncode != 0:
        raise LoadError(f"wrk exited {done.returncode}: {done.stderr.strip()}")
    result = parse(done.stdout)
    errors = _ERRORS.search(done.stdout)
    if result.bad or errors:
        raise LoadError(f"{url}: {result.bad} bad answers; {errors.group(0) if errors else ''}")
    return result
