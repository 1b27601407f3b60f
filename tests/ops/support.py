"""Reading /metrics the way Prometheus does (issue 19)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from core.processes import stop_processes

TOKEN = "metrics-token-for-tests-0123456789"
OUTPUT = Path(os.environ.get("SAE_TEST_OUTPUT", ".test-output"))


def scrape(client) -> dict[tuple[str, tuple], float]:
    """/metrics parsed: {(sample name, sorted labels): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class Processes:
    """Processes a test starts, stopped by PID (SIGTERM, then SIGKILL) when it ends."""

    def __init__(self, name: str):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.procs: list[subprocess.Popen] = []
        self.logs = []

    def start(self, label: str, args: list[str], **kwargs) -> subprocess.Popen:
        log = (OUTPUT / f"{self.name}-{label}.log").open("w")
        self.logs.append(log)
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        stop_processes(self.procs)
        for log in self.logs:
            log.close()


def get(url: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def query(prometheus: str, expr: str) -> float | None:
    """The value of an instant query with one result, or None."""
    status, body = get(f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    if status != 200:
        return None
    result = json.loads(body)["data"]["result"]
    return float(result[0]["value"][1]) if result else None
