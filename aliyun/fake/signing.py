"""Checks a request's ACS3-HMAC-SHA256 signature the way Alibaba Cloud's gateway does.

The SDK (alibabacloud_tea_openapi.utils.get_authorization) signs
``METHOD\\n/\\n<query>\\n<headers>\\n<signed names>\\n<hex sha256 of body>``: the query keys
sorted, each value percent-quoted with only ``~`` safe (the wire carries ``+`` for a space, so
the query is decoded first and quoted again); each signed header ``name:value`` lowercased,
sorted, values stripped; the string to sign is the algorithm name, a newline and the hex SHA-256
of that canonical request; the signature the hex HMAC-SHA256 of it with the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from .errors import ApiError

ALGORITHM = "ACS3-HMAC-SHA256"

# Every request must sign these (the SDK signs all of its headers; the gateway insists on the
# ones that make a signature unique and bind it to an action).
REQUIRED_SIGNED = ("host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-version")


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str | None) -> Authorization:
    if not value:
        raise ApiError(400, "MissingAuthorization", "The Authorization header is missing.")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ApiError(400, "IncompleteSignature", f"The signature algorithm must be {ALGORITHM}.")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key] = val
    if not all(parts.get(k) for k in ("Credential", "SignedHeaders", "Signature")):
        raise ApiError(
            400,
            "IncompleteSignature",
            "The Authorization header needs Credential, SignedHeaders and Signature.",
        )
    signed = tuple(parts["SignedHeaders"].lower().split(";"))
    return Authorization(parts["Credential"], signed, parts["Signature"].lower())


def canonical_query(raw_query: str) -> str:
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    return "&".join(
        f"{key}={quote(value, safe='~', encoding='utf-8')}" for key, value in sorted(pairs)
    )


def canonical_request(
    *,
    method: str,
    path: str,
    raw_query: str,
    header_values: Callable[[str], list[str]],
    signed_headers: tuple[str, ...],
    body_sha256: str,
) -> str:
    lines = []
    for name in sorted(signed_headers):
        values = header_values(name)
        lines.append(f"{name}:{','.join(sorted(v.strip() for v in values))}\n")
    return (
        f"{method}\n{path or '/'}\n{canonical_query(raw_query)}\n"
        f"{''.join(lines)}\n{';'.join(sorted(signed_headers))}\n{body_sha256}"
    )


def signature(secret: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    to_sign = f"{ALGORITHM}\n{digest}"
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, list[str]],
    body: bytes,
    secrets: Mapping[str, str],
) -> str:
    """The AccessKey ID that signed this request, or ApiError saying what is wrong.

    ``headers`` maps lowercased names to every value received.
    """
    auth = parse_authorization((headers.get("authorization") or [None])[0])
    secret = secrets.get(auth.access_key_id)
    if secret is None:
        raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    absent = [name for name in REQUIRED_SIGNED if name not in auth.signed_headers]
    unsigned_acs = [
        name for name in headers if name.startswith("x-acs-") and name not in auth.signed_headers
    ]
    if absent or unsigned_acs:
        raise ApiError(
            400,
            "IncompleteSignature",
            "These headers must be signed: " + ", ".join(sorted(set(absent + unsigned_acs))),
        )
    body_sha256 = hashlib.sha256(body).hexdigest()
    if (headers.get("x-acs-content-sha256") or [""])[0].strip().lower() != body_sha256:
        raise ApiError(
            400,
            "SignatureDoesNotMatch",
            "The x-acs-content-sha256 header does not match the SHA-256 of the request body.",
        )
    missing = [name for name in auth.signed_headers if name not in headers]
    if missing:
        raise ApiError(
            400,
            "SignatureDoesNotMatch",
            "Signed headers are absent from the request: " + ", ".join(missing),
        )
    canonical = canonical_request(
        method=method,
        path=path,
        raw_query=raw_query,
        header_values=lambda name: headers[name],
        signed_headers=auth.signed_headers,
        body_sha256=body_sha256,
    )
    expected = signature(secret, canonical)
    if not hmac.compare_digest(expected, auth.signature):
        raise ApiError(
            400,
            "SignatureDoesNotMatch",
            "The request signature does not conform to Aliyun standards.",
        )
    return auth.access_key_id


# --- the older RPC signature (STS AssumeRole as alibabacloud-credentials sends it) ---------

RPC_METHOD = "HMAC-SHA1"


def _percent(value: str) -> str:
    # RFC 3986, as the gateway encodes: a space is %20, only ~ . - _ stay as they are.
    return quote(value, safe="~", encoding="utf-8")


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(
        f"{_percent(k)}={_percent(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    return f"{method}&{_percent('/')}&{_percent(canonical)}"


def rpc_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(
        (secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_rpc(*, method: str, params: Mapping[str, str], secrets: Mapping[str, str]) -> str:
    """The AccessKey ID that signed this RPC request (``AccessKeyId``, ``SignatureMethod``
    HMAC-SHA1, ``SignatureVersion`` 1.0, ``Signature`` base64), or ApiError."""
    for name in ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp"):
        if not params.get(name):
            raise ApiError(
                400,
                "MissingParameter",
                f'The input parameter "{name}" that is mandatory for processing this request '
                "is not supplied.",
            )
    if params["SignatureMethod"] != RPC_METHOD or params.get("SignatureVersion") != "1.0":
        raise ApiError(
            400, "InvalidSignatureMethod", "Specified signature method is not supported."
        )
    secret = secrets.get(params["AccessKeyId"])
    if secret is None:
        raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    expected = rpc_signature(secret, rpc_string_to_sign(method, params))
    if not hmac.compare_digest(expected, params["Signature"]):
        raise ApiError(
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        )
    return params["AccessKeyId"]
