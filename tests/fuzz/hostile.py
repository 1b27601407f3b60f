"""What an attacker types (rules §13): hypothesis strategies for hostile values.

Every strategy mixes the known troublemakers (a fixed list, so that each run tries them)
with generated ones: any Unicode text including lone surrogates, NUL and the other
controls, bidi overrides, full-width digits, integers far past 64 bits (and past Python's
4,300-digit conversion limit), 1 MB strings, JSON of the wrong type or nested past any
parser's patience.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import strategies as st

MEGABYTE = 1024 * 1024

# Values that broke something once, or that break software like this one often.
KNOWN: list[str] = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\ud800x",
    "x\udfff",
    "\udc80\ud800",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b",
    "\ufeff",
    "\x1b[31mred",
    "\r\n",
    "line\u2028break",
    "\uff11\uff13\uff18\uff11\uff11\uff11\uff11\uff12\uff12\uff12\uff12",  # full-width 138…
    "\u00b2",  # superscript two: str.isdigit() says yes, int() says no
    "\u0663",  # Arabic-Indic three
    "9" * 30,
    "9" * 4301,
    "9" * 5000,
    "-" + "9" * 5000,
    "-1",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "null",
    "true",
    "[]",
    "{}",
    "[" * 5000 + "]" * 5000,
    '{"a":' * 2000 + "1" + "}" * 2000,
    '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": '
    '"\\ud800"}]}',
    '{"Version": "1", "Statement": [{"Sid": ' + "9" * 5000 + ', "Effect": "Allow"}]}',
    '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*", '
    '"Condition": {"NumericEquals": {"a": NaN}}}]}',
    '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*", '
    '"Condition": {"NumericEquals": {"a": 1e999}}}]}',
    "' OR 1=1 --",
    '"; DROP TABLE contacts_contact; --',
    "<script>alert(1)</script>",
    "{{ 7*7 }}{% debug %}",
    "../../../etc/passwd",
    "%00%ff%ed%a0%80",
    "http://[::1",
    "https://oapi.dingtalk.com/robot/send?access_token=" + "a" * 5000,
    "sae:contacts",
    "A" * 100_000,
    "A" * MEGABYTE,
    "\U0001f600" * 2000,
    "\U0010ffff",
    "2020-02-30T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
]

any_text = st.text(st.characters(exclude_categories=()), max_size=60)
short_ascii = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=30)
big_integers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=2**63 - 3, max_value=2**63 + 3),
).map(str)


def _json_values() -> st.SearchStrategy:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=False, allow_infinity=False),
        any_text,
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)
        ),
        max_leaves=12,
    )


json_values = _json_values()


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


json_texts = st.one_of(
    json_values.map(_dumps),
    json_values.map(json.dumps),  # the \\uXXXX escapes, surrogates included
    st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n),
)

# JSON texts that broke a JSON field once (Django's own form JSONField included).
JSON_KNOWN: list[str] = [
    "{" + '"a": ' + "9" * 5000 + "}",
    "[" + "9" * 30 + "]",
    '{"a": NaN}',
    '{"a": -Infinity}',
    '{"a": 1e999}',
    '{"a": "\\ud800"}',
    '{"\\udfff": "x"}',
    '{"a": "x\\u0000"}',
    '{"\\u0000": "x"}',
    "[" * 100_000,
    "[" * 40 + "]" * 40,
    '{"a": {"b": {"c": {"d": ' + "[" * 34 + "1" + "]" * 34 + "}}}}",
    "null",
    "[]",
    '"text"',
    "1",
    "true",
    '{"a": 1',
    "\ufeff{}",
]

# The sharpest of KNOWN: drawn often, so that a bounded run meets each of them.
SHARP: list[str] = [
    "\x00",
    "a\x00b",
    "\ud800",
    "\ud800x",
    "x\udfff",
    "\u202eevil",
    "\uff11\uff13\uff18",
    "\u00b2",
    "9" * 30,
    "9" * 5000,
    "-1",
    "",
    " ",
    "\r\n",
    "\x1b[0m",
    "2020-02-30T00:00:00Z",
    "A" * 100_000,
]
sharp_text = st.sampled_from(SHARP)

# One form value.
text_values = st.one_of(
    sharp_text,
    sharp_text,
    st.sampled_from(KNOWN),
    any_text,
    short_ascii,
    big_integers,
    json_texts,
)

# JSON tokens written into a document as they are: what `json.dumps` would never write.
RAW_TOKENS: list[str] = [
    "9" * 5000,
    "-" + "9" * 4400,
    "9" * 30,
    "1e999",
    "NaN",
    "-Infinity",
    '"\\ud800"',
    '"\\ud800x"',
    '"x\\udfff"',
    '"\\udc80\\ud800"',
    '"x\\u0000"',
    '"2020-02-30T00:00:00Z"',
    '"\\u00b2"',
    "[" * 3000 + "]" * 3000,
    "[" * 40 + "]" * 40,
]


@dataclass(frozen=True)
class Raw:
    """A leaf written into the JSON text as this token."""

    token: str


raw_leaves = st.sampled_from(RAW_TOKENS).map(Raw)

# One leaf of a JSON document from outside (an import file, an intake post, a policy).
leaf = st.one_of(
    raw_leaves,
    raw_leaves,
    raw_leaves,
    sharp_text,
    sharp_text,
    text_values,
    json_values,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.none(),
)


def dumps(document, *, ensure_ascii: bool = True) -> str:
    """`document` as JSON text, its Raw leaves written as their tokens."""
    raws: list[str] = []

    def placeholders(value):
        if isinstance(value, Raw):
            raws.append(value.token)
            return f"__RAW{len(raws) - 1}__"
        if isinstance(value, dict):
            return {k: placeholders(v) for k, v in value.items()}
        if isinstance(value, list):
            return [placeholders(v) for v in value]
        return value

    text = json.dumps(placeholders(document), ensure_ascii=ensure_ascii)
    for i, token in enumerate(raws):
        text = text.replace(f'"__RAW{i}__"', token)
    return text


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


@st.composite
def mutated(draw, document, *, at_least: int = 1, at_most: int = 3):
    """`document` (decoded JSON) with some of its values, or keys, replaced by hostile ones:
    the shape the reader expects, so its checks past the first are reached."""
    document = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(min_value=at_least, max_value=at_most))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            return draw(leaf)
        path = draw(st.sampled_from(paths))
        holder = document
        for step in path[:-1]:
            holder = holder[step]
        if isinstance(holder, dict) and draw(st.integers(min_value=0, max_value=4)) == 0:
            holder[draw(st.one_of(sharp_text, any_text))] = holder.pop(path[-1])  # a bad key
        else:
            holder[path[-1]] = draw(leaf)
    return document


@st.composite
def mutated_texts(draw, texts: list[str]):
    """JSON texts like these (the documents a page offers), mutated."""
    documents = []
    for text in texts:
        try:
            documents.append(json.loads(text))
        except ValueError:
            continue
    if not documents:
        return draw(json_texts)
    document = draw(mutated(draw(st.sampled_from(documents))))
    return dumps(document, ensure_ascii=draw(st.booleans()))


# A value for a field that takes JSON (see also `mutated_texts`), and for one that takes an ID
# or a number.
json_field_values = st.one_of(st.sampled_from(JSON_KNOWN), json_texts, text_values)
number_field_values = st.one_of(
    big_integers,
    st.sampled_from(["0", "-1", " ", "1.5", "1e3", "9" * 5000, "\uff11", "\u00b2", "", "x"]),
    text_values,
)


# A header value an attacker controls.
header_values = st.one_of(
    st.sampled_from(["", "true", "false", "\x00", "a" * 10_000, "zh-hans", "xx-XX;q=nan", "*"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
)
