"""The error answer the OpenAPI gateway and the products give, as one exception."""

from __future__ import annotations


class ApiError(Exception):
    """An answer other than 2xx: HTTP status, the product's error code and its message.

    ``headers`` carries what a few errors add (``x-acs-retry-after`` on throttling).
    """

    def __init__(self, status: int, code: str, message: str, *, headers: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def missing(name: str) -> ApiError:
    return ApiError(
        400,
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request is not '
        "supplied.",
    )


def invalid(name: str, why: str) -> ApiError:
    return ApiError(400, f"InvalidParameter.{name}", f"The parameter {name} is invalid: {why}")
