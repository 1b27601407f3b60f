"""axe-core in the browser tests: the vendored tests/browser/vendor/axe.min.js (from the npm
registry, see scripts/vendor-axe.sh) is evaluated in the page under test (through the
DevTools protocol, so the console's Content-Security-Policy stays on) and run on the whole
document, a panel or dialog included when one is open."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
OUTPUT = Path(os.environ.get("SAE_TEST_OUTPUT", ".test-output")) / "axe"
BLOCKING = ("critical", "serious")

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))
  }));
}"""


def axe_version() -> str:
    head = AXE_JS.read_text(encoding="utf-8")[:200]
    match = re.search(r"axe v(\d+\.\d+\.\d+)", head)
    assert match, "tests/browser/vendor/axe.min.js has no version header"
    return match.group(1)


def run_axe(page: Page) -> list[dict]:
    """Every axe violation on the page as it is now (all of axe's default rules)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(_RUN)


@dataclass
class AxeLedger:
    """The violations of every scan of one walk, and the figures the report prints."""

    name: str
    scans: int = 0
    rules: Counter = field(default_factory=Counter)  # impact -> rule violations (per scan)
    nodes: Counter = field(default_factory=Counter)  # impact -> elements
    blocking: list[str] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)

    def scan(self, page: Page, where: str) -> None:
        self.scans += 1
        for violation in run_axe(page):
            impact = violation["impact"] or "minor"
            self.rules[impact] += 1
            self.nodes[impact] += len(violation["nodes"])
            self.details.append({"where": where, "url": page.url, **violation})
            if impact in BLOCKING:
                targets = "; ".join(n["target"] for n in violation["nodes"][:4])
                self.blocking.append(
                    f"{where}: {impact} {violation['id']} ({violation['help']}) x"
                    f"{len(violation['nodes'])}: {targets}"
                )

    def summary(self) -> str:
        figures = ", ".join(
            f"{impact} {self.rules[impact]} ({self.nodes[impact]} elements)"
            for impact in ("critical", "serious", "moderate", "minor")
        )
        return f"axe {axe_version()} {self.name}: {self.scans} scans; {figures}"

    def save(self) -> None:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name)
        (OUTPUT / f"{slug}.json").write_text(
            json.dumps(
                {
                    "summary": self.summary(),
                    "rules": dict(self.rules),
                    "nodes": dict(self.nodes),
                    "violations": self.details,
                },
                indent=1,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
