"""Figures of one fuzz run, printed at the end of pytest's report (and written to
$SAE_TEST_OUTPUT/fuzz-summary.json when that is set): what was covered, how many examples were
tried, how many 5xx answers and tracebacks were seen."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

COUNTS: Counter[str] = Counter()
COVERED: dict[str, set[str]] = {}


def count(name: str, n: int = 1) -> None:
    COUNTS[name] += n


def cover(kind: str, *items: str) -> None:
    COVERED.setdefault(kind, set()).update(items)


def summary() -> list[str]:
    if not COUNTS and not COVERED:
        return []
    for always in ("5xx answers seen", "tracebacks seen"):  # said even when none was
        COUNTS[always] += 0
    lines = [f"{kind}: {len(items)}" for kind, items in sorted(COVERED.items())]
    lines += [f"{name}: {n}" for name, n in sorted(COUNTS.items())]
    out = os.environ.get("SAE_TEST_OUTPUT")
    if out:
        data = {
            "covered": {kind: sorted(items) for kind, items in COVERED.items()},
            "counts": dict(COUNTS),
        }
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "fuzz-summary.json").write_text(json.dumps(data, indent=2))
    return lines
