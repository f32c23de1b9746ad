"""RFC 9457 problem details for every error the service answers.

Raise a :class:`Problem` subclass from any layer; Litestar's own exceptions and unhandled
ones are turned into the same shape here, so clients meet one format with a stable ``type``.

``title`` and ``detail`` follow the caller's ``Accept-Language``: titles always, details when
they are written as texts (``NotFound(_("No notification with id {id}.", id=...))``); a plain
string detail is shown as written. ``type`` never changes with the language.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, ClassVar

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap, Receive, Scope, Send

from core.i18n import DEFAULT_LANGUAGE, Text, _, negotiate

log = logging.getLogger("minori.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:minori:problem:"


class FieldError(msgspec.Struct, omit_defaults=True):
    detail: str | Text
    """Rendered in the caller's language when it is a :class:`Text`."""
    pointer: str | None = None
    """JSON Pointer into the request body."""
    parameter: str | None = None
    """Name of the query, path or header parameter."""


class ProblemBody(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class Problem(HTTPException):
    """Base of Minori's errors: a stable ``slug`` (the problem type) and a status."""

    slug: ClassVar[str] = "error"
    status_code: int = 500

    def __init__(
        self,
        detail: str | Text = "",
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if not detail:
            detail = _TITLES.get(self.status_code, "")
        self.text = detail if isinstance(detail, Text) else None
        """The detail as a text, rendered in the caller's language when answered."""
        if isinstance(detail, Text):
            detail = detail.render("en")  # what logs and ``str(exc)`` show
        super().__init__(detail=detail or HTTPStatus(self.status_code).phrase, headers=headers)
        self.errors = errors
        self.members = extra or {}


class BadRequest(Problem):
    slug = "malformed-request"
    status_code = 400


class Unauthorized(Problem):
    slug = "unauthorized"
    status_code = 401

    def __init__(self, detail: str | Text = _("Authentication required."), **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(Problem):
    slug = "forbidden"
    status_code = 403


class NotFound(Problem):
    slug = "not-found"
    status_code = 404


class Conflict(Problem):
    slug = "conflict"
    status_code = 409


class Gone(Problem):
    slug = "gone"
    status_code = 410


class UpgradeRequired(Problem):
    """426: the app is older than the oldest version the server still serves."""

    slug = "upgrade-required"
    status_code = 426


class PayloadTooLarge(Problem):
    slug = "payload-too-large"
    status_code = 413


class Invalid(Problem):
    """422: the request is well formed but its content is not acceptable."""

    slug = "validation-failed"
    status_code = 422

    @classmethod
    def field(cls, pointer: str, detail: str | Text) -> Invalid:
        return cls(detail, errors=[FieldError(detail=detail, pointer=pointer)])

    @classmethod
    def parameter(cls, name: str, detail: str | Text) -> Invalid:
        return cls(detail, errors=[FieldError(detail=detail, parameter=name)])


class TooManyRequests(Problem):
    slug = "rate-limited"
    status_code = 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            _("Too many attempts; try again in {seconds} s.", seconds=retry_after_s),
            headers={"Retry-After": str(retry_after_s)},
        )


_SLUGS = {
    400: "malformed-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    426: "upgrade-required",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}

_TITLES: dict[int, Text] = {
    400: _("Bad Request"),
    401: _("Unauthorized"),
    403: _("Forbidden"),
    404: _("Not Found"),
    405: _("Method Not Allowed"),
    409: _("Conflict"),
    410: _("Gone"),
    413: _("Request Entity Too Large"),
    415: _("Unsupported Media Type"),
    422: _("Unprocessable Entity"),
    426: _("Upgrade Required"),
    429: _("Too Many Requests"),
    500: _("Internal Server Error"),
    503: _("Service Unavailable"),
}
"""Problem titles: the HTTP reason phrases, translated."""

_INDEX = re.compile(r"\[(\d+)\]")


def _pointer(key: str, message: str) -> str:
    """``readings[3].value`` -> ``/readings/3/value``; a missing field points at itself."""
    path = "" if key == "data" else key.removeprefix("data.")
    parts = [p for p in _INDEX.sub(r".\1", path).split(".") if p]
    missing = re.search(r"missing required field `([^`]+)`", message)
    if missing:
        parts.append(missing.group(1))
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _field_errors(exc: ValidationException) -> list[FieldError]:
    errors: list[FieldError] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "invalid value"))
        key = str(item.get("key", "data"))
        if item.get("source") == "body":
            errors.append(FieldError(detail=message, pointer=_pointer(key, message)))
        else:
            errors.append(FieldError(detail=message, parameter=key))
    return errors


def title(status: int, language: str = DEFAULT_LANGUAGE) -> str:
    """The problem title of ``status`` in ``language``."""
    text = _TITLES.get(status)
    return text.render(language) if text else HTTPStatus(status).phrase


def _rendered(detail: str | Text, language: str) -> str:
    return detail.render(language) if isinstance(detail, Text) else detail


def problem_response(
    status: int,
    detail: str | Text,
    *,
    slug: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    members: dict[str, Any] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> Response[Any]:
    if errors:
        errors = [msgspec.structs.replace(e, detail=_rendered(e.detail, language)) for e in errors]
    body = msgspec.to_builtins(
        ProblemBody(
            type=TYPE_PREFIX + (slug or _SLUGS.get(status, "error")),
            title=title(status, language),
            status=status,
            detail=_rendered(detail, language),
            errors=errors,
        )
    )
    body.update(members or {})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _language(request: Request[Any, Any, Any] | None) -> str:
    if request is None:
        return DEFAULT_LANGUAGE
    return negotiate(request.headers.get("accept-language"))


def problem_for(exc: HTTPException, language: str = DEFAULT_LANGUAGE) -> Response[Any]:
    """The problem document answering ``exc``, in ``language``."""
    if isinstance(exc, Problem):
        return problem_response(
            exc.status_code,
            exc.text or exc.detail,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
            members=exc.members,
            language=language,
        )
    if isinstance(exc, ValidationException):
        errors = _field_errors(exc)
        if errors:
            return problem_response(422, errors[0].detail, errors=errors, language=language)
        return problem_response(400, exc.detail, language=language)
    detail: str | Text = exc.detail
    if detail == HTTPStatus(exc.status_code).phrase and exc.status_code in _TITLES:
        detail = _TITLES[exc.status_code]  # Litestar's own errors say no more than the title
    return problem_response(exc.status_code, detail, headers=exc.headers, language=language)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500:
        log.error("%s on %s %s", exc.status_code, request.method, request.url.path, exc_info=exc)
    return problem_for(exc, _language(request))


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        500, _("An unexpected error occurred; it has been logged."), language=_language(request)
    )


async def send_problem(exc: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``exc`` from ASGI middleware, which runs outside Litestar's exception handling."""
    request: Request[Any, Any, Any] = Request(scope)
    response = problem_for(exc, _language(request))
    await response.to_asgi_response(None, request)(scope, receive, send)


exception_handlers: ExceptionHandlersMap = {
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
