"""One domain exception type and the one handler that turns every error into {detail, code}."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .unavailable import is_database_unavailable, log_unavailable, retry_after, unavailable_body

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """An expected failure the API reports as-is. Subclasses set status_code, code, detail."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    detail = "Invalid request."

    def __init__(self, detail: str | None = None, *, extra: dict | None = None, headers: dict | None = None):
        self.detail = detail or self.detail
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.detail)


def _flatten_validation(detail) -> str:
    """The first human-readable message of a nested ValidationError detail."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            message = _flatten_validation(value)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(detail, list) and detail:
        return _flatten_validation(detail[0])
    return str(detail)


def _answer_in_json(context) -> None:
    """Errors are JSON whatever renderer the request asked for (`?format=csv` included)."""
    request = context.get("request")
    if request is not None:
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"


def _sentence(text) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _readable(exc: drf_exceptions.APIException) -> tuple[str, str]:
    """(one sentence, stable code) for any APIException.

    simplejwt puts a dict in `detail`: {"detail", "code"} and, from authentication, a `messages`
    list whose first entry says what is actually wrong ("Token is expired") while `detail` only
    says "Given token not valid for any token type".
    """
    detail = exc.detail
    if isinstance(detail, dict) and "detail" in detail:
        messages = detail.get("messages") or []
        first = messages[0] if isinstance(messages, list) and messages else None
        message = first.get("message") if isinstance(first, dict) else None
        return _sentence(message or detail["detail"]), str(detail.get("code") or exc.default_code)
    if isinstance(detail, (dict, list)):
        return _flatten_validation(detail), exc.default_code
    codes = exc.get_codes()
    return str(detail), codes if isinstance(codes, str) else exc.default_code


def exception_handler(exc, context):
    _answer_in_json(context)
    if isinstance(exc, DomainError):
        body = {"detail": exc.detail, "code": exc.code, **exc.extra}
        return Response(body, status=exc.status_code, headers=exc.headers)

    if is_database_unavailable(exc):
        log_unavailable(exc, context.get("view"))
        return Response(unavailable_body(), status=503, headers={"Retry-After": retry_after()})
    if isinstance(exc, RequestDataTooBig):  # a body without Content-Length, read past the bound
        return Response({"detail": "The request body is too large.", "code": "request_too_large"}, status=413)
    if isinstance(exc, DataError):
        # Input the database refused (validation should have caught it): the transaction rolled
        # back, so it is the client's 400, logged in full so the missing validation gets added.
        logger.error("Database refused input in %s", context.get("view"), exc_info=exc)
        return Response({"detail": "Invalid input.", "code": "invalid"}, status=400)

    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view"))
        return Response(
            {"detail": "Internal server error.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = {"detail": _flatten_validation(exc.detail), "code": "invalid", "errors": exc.detail}
    elif isinstance(exc, drf_exceptions.APIException):
        detail, code = _readable(exc)
        response.data = {"detail": detail, "code": code}
    return response
