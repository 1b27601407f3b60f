"""Alertmanager's webhook JSON (version 4), read strictly (rules §8, §13).

Every text from outside passes here before it reaches a model: the body's size and nesting
are capped, lone surrogates and NUL refused, lengths bounded, times parsed as RFC 3339 only.
A post that breaks any rule is refused whole with the reason (`PayloadError`), so a refused
post writes nothing.

Shape (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
`{"version": "4", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
"commonLabels", "commonAnnotations", "externalURL", "alerts": [{"status", "labels",
"annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}]}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

MAX_ALERTS = 1000
MAX_LABELS = 64
MAX_KEY = 256
MAX_VALUE = 4096
MAX_DEPTH = 8
STATUSES = ("firing", "resolved")
# Alertmanager writes "0001-01-01T00:00:00Z" for an alert that has not ended.
ZERO_TIME = "0001-01-01T00:00:00Z"
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)


class PayloadError(ValueError):
    """The post is not an Alertmanager webhook: the message says what and where."""


@dataclass(frozen=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    generator_url: str
    fingerprint: str

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "") or "(no alertname)"

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    def as_payload(self) -> dict:
        """What the message templates read (times as ISO text: the payload is JSON)."""
        return {
            "status": self.status,
            "name": self.name,
            "severity": self.severity,
            "summary": self.annotations.get("summary", ""),
            "description": self.annotations.get("description", ""),
            "labels": self.labels,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "url": self.generator_url,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Post:
    status: str
    receiver: str
    group_key: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    external_url: str
    alerts: list[Alert] = field(default_factory=list)


def _text(value, where: str, *, limit: int = MAX_VALUE, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string")
    if len(value) > limit:
        raise PayloadError(f"{where} is longer than {limit} characters")
    if "\x00" in value:
        raise PayloadError(f"{where} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(f"{where} contains a lone surrogate (not valid Unicode)") from None
    return value


def _labels(value, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object of strings")
    if len(value) > MAX_LABELS:
        raise PayloadError(f"{where} has more than {MAX_LABELS} entries")
    return {
        _text(k, f"{where} key", limit=MAX_KEY): _text(v, f"{where}.{k}", required=True)
        for k, v in value.items()
    }


def _time(value, where: str) -> datetime | None:
    if value in (None, "", ZERO_TIME):
        return None
    text = _text(value, where, limit=64)
    if not _RFC3339.match(text):
        raise PayloadError(f"{where} is not an RFC 3339 time: {text[:40]!r}")
    try:
        # Python reads at most microseconds; Alertmanager may send nanoseconds.
        trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("z", "Z")
        return datetime.fromisoformat(trimmed)
    except ValueError:
        raise PayloadError(f"{where} is not a valid time: {text[:40]!r}") from None


def _url(value, where: str) -> str:
    text = _text(value, where, limit=2048)
    if text and not re.match(r"^https?://", text, re.IGNORECASE):
        raise PayloadError(f"{where} must be an http(s) URL")
    return text


def _depth(value, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()] or [level + 1])
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value] or [level + 1])
    return level


def _alert(raw, i: int) -> Alert:
    where = f"alerts[{i}]"
    if not isinstance(raw, dict):
        raise PayloadError(f"{where} must be an object")
    status = raw.get("status")
    if status not in STATUSES:
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved'")
    labels = _labels(raw.get("labels"), f"{where}.labels")
    if not labels:
        raise PayloadError(f"{where}.labels must not be empty")
    return Alert(
        status=status,
        labels=labels,
        annotations=_labels(raw.get("annotations"), f"{where}.annotations"),
        starts_at=_time(raw.get("startsAt"), f"{where}.startsAt"),
        ends_at=_time(raw.get("endsAt"), f"{where}.endsAt"),
        generator_url=_url(raw.get("generatorURL"), f"{where}.generatorURL"),
        fingerprint=_text(raw.get("fingerprint"), f"{where}.fingerprint", limit=64),
    )


def parse(body: bytes) -> Post:
    """The post, or PayloadError saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise PayloadError(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise PayloadError(f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("the body must be a JSON object")
    if _depth(data) > MAX_DEPTH:
        raise PayloadError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    version = data.get("version")
    if version is not None and version != "4":
        raise PayloadError(f"version {str(version)[:10]!r} is not supported (expected '4')")
    status = data.get("status")
    if status not in STATUSES:
        raise PayloadError("status must be 'firing' or 'resolved'")
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("alerts must be a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(f"more than {MAX_ALERTS} alerts in one post")
    return Post(
        status=status,
        receiver=_text(data.get("receiver"), "receiver", limit=256),
        group_key=_text(data.get("groupKey"), "groupKey"),
        group_labels=_labels(data.get("groupLabels"), "groupLabels"),
        common_labels=_labels(data.get("commonLabels"), "commonLabels"),
        external_url=_url(data.get("externalURL"), "externalURL"),
        alerts=[_alert(raw, i) for i, raw in enumerate(alerts)],
    )
