"""One structured log line per request, tagged with a request id that is also returned to the client."""

import contextvars
import json
import logging
import re
import time
import uuid

logger = logging.getLogger("credits.requests")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record (ledger writes included)."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "user": getattr(getattr(request, "user", None), "pk", None),
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "credits_charged": response.get("X-Credits-Charged"),
                    }
                )
            )
            return response
        finally:
            request_id_var.reset(token)
