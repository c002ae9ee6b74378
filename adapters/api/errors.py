"""What the API answers when it cannot do what was asked: RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

PROBLEM_TYPE = "https://baton.dev/problems/"  # + the slug below; documented in the README

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """A refusal the caller can act on: an HTTP status, a slug naming the kind of problem, and
    a sentence saying what was wrong (never a stack trace)."""

    def __init__(self, status: int, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": PROBLEM_TYPE + self.slug,
                                "title": TITLES.get(self.status, "Error"),
                                "status": self.status, "detail": self.detail}
        body.update({k: v for k, v in self.extra.items() if k != "headers"})
        return body

    @property
    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = self.extra.get("headers", {})
        return headers


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail,
                    headers={"WWW-Authenticate": 'Bearer realm="baton"'})


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)


def not_found(number: int) -> ApiError:
    return ApiError(404, "not-found", f"There is no item #{number} this token may see.")


def invalid(errors: list[dict[str, Any]]) -> ApiError:
    fields = ", ".join(e["field"] or "the body" for e in errors)
    return ApiError(422, "invalid-body", f"The request is not valid: check {fields}.",
                    errors=errors)
