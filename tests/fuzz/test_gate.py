"""rules §13's normalising gate (core.gate): for ANY input it either returns what a
model can hold or raises GateError (a ValidationError naming where) — never another
exception — and what it returns can be stored and shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core import gate
from tests.fuzz import hostile
from tests.fuzz.conftest import fuzz_settings

anything = st.one_of(
    hostile.text_values,
    hostile.json_values,
    st.integers(min_value=-(10**5000), max_value=10**5000),
    st.floats(),
    st.binary(max_size=8),
)


def storable(value) -> bool:
    """Encodable as UTF-8 (so any database, page or log line takes it) and without NUL."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text.encode("utf-8")
    return "\x00" not in text


@fuzz_settings(300)
@given(value=anything, single_line=st.booleans())
def test_a_text_is_returned_storable_or_refused(value, single_line):
    try:
        text = gate.check_text(value, where="Field", max_length=100, single_line=single_line)
    except gate.GateError as refused:
        assert refused.message.startswith("Field: ")
        return
    assert storable(text) and len(text) <= 100


@fuzz_settings(300)
@given(value=anything)
def test_an_integer_is_returned_in_range_or_refused(value):
    try:
        number = gate.check_integer(value, where="Id", minimum=1)
    except gate.GateError:
        return
    assert 1 <= number <= gate.MAX_BIGINT


@fuzz_settings(300)
@given(
    value=st.one_of(
        anything,
        st.datetimes().map(lambda d: d.isoformat()),
        st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?"),
    )
)
def test_a_date_time_is_returned_real_or_refused(value):
    try:
        parsed = gate.check_datetime(value, where="CreateDate")
    except gate.GateError:
        return
    assert parsed.tzinfo is not None
    parsed.astimezone(UTC)  # a real instant


@fuzz_settings(300)
@given(text=st.one_of(hostile.json_texts, hostile.text_values))
def test_json_is_returned_storable_or_refused(text):
    try:
        data = gate.loads(text, max_length=10_000)
    except gate.GateError:
        return
    assert storable(data)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\x00b", "Name: contains a NUL character, which cannot be stored."),
        ("\ud800", "Name: contains a lone surrogate (\\ud800), which is not valid Unicode."),
        ("two\nlines", "Name: contains a control character (\\u000a)."),
        ("x" * 11, "Name: longer than 10 characters."),
        (12, "Name: must be a string."),
    ],
)
def test_refused_texts_say_what_and_where(value, message):
    with pytest.raises(ValidationError) as refused:
        gate.check_text(value, where="Name", max_length=10, single_line=True)
    assert refused.value.messages == [message]
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-01-23T12:33:18Z", datetime(2015, 1, 23, 12, 33, 18, tzinfo=UTC)),
        ("2015-01-23 12:33:18", datetime(2015, 1, 23, 12, 33, 18, tzinfo=UTC)),
        (
            "2026-12-01T10:00:00.123456789+08:00",
            datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
        ),
    ],
)
def test_cloud_api_date_times_are_read(value, expected):
    assert gate.check_datetime(value, where="CreateDate") == expected


@pytest.mark.parametrize(
    "value",
    [
        "2020-02-30T00:00:00Z",
        "2021-02-29T00:00:00Z",
        "2020-01-01T24:00:00Z",
        "yesterday",
        "2020-01-01",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "\uff12\uff10\uff12\uff10-01-01T00:00:00Z",
    ],
)
def test_date_times_that_do_not_exist_are_refused(value):
    with pytest.raises(gate.GateError, match=r"^CreateDate: "):
        gate.check_datetime(value, where="CreateDate")


@pytest.mark.parametrize(
    "value", [True, 1.5, "\uff11\uff12", "\u00b2", "-1", "9" * 5000, 10**30, 0, " ", "1e3"]
)
def test_integers_are_ascii_digits_within_64_bits(value):
    with pytest.raises(gate.GateError):
        gate.check_integer(value, where="ContactId", minimum=1)


def test_integers_as_numbers_or_digit_strings_are_read():
    assert gate.check_integer("  1201 ", where="ContactId", minimum=1) == 1201
    assert gate.check_integer(gate.MAX_BIGINT, where="ContactId", minimum=1) == gate.MAX_BIGINT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": ' + "9" * 5000 + "}", "The JSON text: a number of more than 20 digits."),
        ('{"a": NaN}', "The JSON text: NaN is not a number JSON allows."),
        ('{"a": 1e999}', "The JSON text: 1e999 is not a number JSON allows."),
        ("[" * 100_000, "The JSON text: nested too deeply (more than 32 levels)."),
        (
            "[" * 40 + "]" * 40,
            "[0]" * 32 + ": nested too deeply (more than 32 levels).",
        ),
        (
            '{"Statement": [{"Resource": "\\ud800"}]}',
            "Statement[0].Resource: contains a lone surrogate (\\ud800), which is not valid "
            "Unicode.",
        ),
        ('{"\\u0000k": 1}', "\\u0000k: contains a NUL character, which cannot be stored."),
        ('{"a": 1', "Invalid JSON at line 1, column 8: Expecting ',' delimiter."),
    ],
)
def test_json_refusals_say_what_and_where(text, message):
    with pytest.raises(gate.GateError) as refused:
        gate.loads(text)
    assert refused.value.message == message


def test_json_longer_than_the_cap_is_refused_before_it_is_parsed():
    with pytest.raises(gate.GateError, match="longer than 10 characters"):
        gate.loads("[" + "1," * 100 + "1]", max_length=10)


def test_identifiers_written_as_numbers_are_counted_before_they_are_converted():
    assert (
        gate.check_identifier(122748924538001, where="UserId", max_length=32) == "122748924538001"
    )
    with pytest.raises(gate.GateError, match="UserId: longer than 32 characters"):
        gate.check_identifier(10**5000, where="UserId", max_length=32)
