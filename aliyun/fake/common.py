"""Small helpers the RAM and ARMS halves share: time stamps, paging, parameter parsing."""

from __future__ import annotations

import base64
import datetime as dt

from .errors import ApiError, invalid, missing


def now_iso() -> str:
    # RAM writes its dates as ISO 8601 in UTC without fractions: 2026-12-07T09:30:00Z.
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise missing(name)
    return value


def as_int(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(float(value))
    except ValueError:
        raise invalid(name, f"{value!r} is not a number.") from None


def as_bool(params: dict[str, str], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("true", "1", "yes")


def id_list(params: dict[str, str], name: str) -> list[int] | None:
    """A comma-separated list of numeric IDs (ARMS' ContactIds, GroupIds, RobotIds...)."""
    value = params.get(name)
    if value is None or value.strip() == "":
        return None
    out = []
    for part in value.replace("[", "").replace("]", "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(int(float(part)))
        except ValueError:
            raise invalid(name, f"{part!r} is not an ID.") from None
    return out


def page_of(items: list, params: dict[str, str], *, default_size: int, max_size: int):
    """ARMS' Page/Size paging (pages from 1): the slice, page and size."""
    page = as_int(params, "Page", 1)
    size = as_int(params, "Size", default_size)
    if page < 1:
        raise invalid("Page", "pages start at 1.")
    if not 1 <= size <= max_size:
        raise invalid("Size", f"must be between 1 and {max_size}.")
    start = (page - 1) * size
    return items[start : start + size], page, size


def encode_marker(seq: int) -> str:
    # RAM's Marker is opaque; this one carries the sequence number of the last item given, so a
    # page stays right when users are added or removed between two calls.
    return base64.urlsafe_b64encode(f"after:{seq}".encode()).decode().rstrip("=")


def decode_marker(marker: str | None) -> int:
    if not marker:
        return 0
    try:
        text = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)).decode()
        prefix, _, seq = text.partition(":")
        if prefix != "after":
            raise ValueError
        return int(seq)
    except ValueError:
        raise ApiError(400, "InvalidParameter.Marker", "The Marker is invalid.") from None


def marker_page(items: list[tuple[int, dict]], params: dict[str, str]) -> tuple[list, str, bool]:
    """RAM's Marker/MaxItems paging over (sequence, item) pairs in order."""
    max_items = as_int(params, "MaxItems", 100)
    if not 1 <= max_items <= 1000:
        raise ApiError(
            400,
            "InvalidParameter.MaxItems",
            "The parameter MaxItems must be in the range of 1 to 1000.",
        )
    after = decode_marker(params.get("Marker"))
    rest = [(seq, item) for seq, item in items if seq > after]
    page = rest[:max_items]
    truncated = len(rest) > max_items
    marker = encode_marker(page[-1][0]) if truncated else ""
    return [item for _, item in page], marker, truncated


def marker_answer(items: list[tuple[int, dict]], params: dict[str, str], key: str, item: str):
    """A RAM list's answer: one Marker page of `items` under {key: {item: [...]}}, with
    IsTruncated, and the Marker of the next page when there is one."""
    page, marker, truncated = marker_page(items, params)
    answer = {"IsTruncated": truncated, key: {item: page}}
    if truncated:
        answer["Marker"] = marker
    return answer
