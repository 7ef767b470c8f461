"""Every error answer is JSON, whatever the settings.

Django answers some errors without asking our handlers: with DEBUG on, an unknown URL is its
HTML debug page (handler404 is only used with DEBUG off), and a view limited to some methods
(`require_GET`, the admin's) answers 405 with an empty body, and a failed CSRF check is an HTML 403. A client, `/app/` included, would
show that HTML as its error message. This middleware rewrites such answers in place (so the
headers other middleware set, `Allow` and CORS included, stay) into the `{detail, code}` body
every other error has.
"""

import json

ERRORS = {
    400: {"detail": "Bad request.", "code": "bad_request"},
    403: {"detail": "You do not have permission to perform this action.", "code": "permission_denied"},
    404: {"detail": "Not found.", "code": "not_found"},
    405: {"detail": "Method not allowed.", "code": "method_not_allowed"},
    500: {"detail": "Internal server error.", "code": "server_error"},
}


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


class JsonErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        body = ERRORS.get(response.status_code)
        if body is None or response.streaming or _is_json(response):
            return response
        if response.status_code == 405 and "Allow" in response:
            body = {**body, "detail": f"Method \"{request.method}\" not allowed."}
        response.content = json.dumps(body).encode()
        response["Content-Type"] = "application/json"
        if "Content-Length" in response:  # CommonMiddleware measured the page this replaces
            response["Content-Length"] = str(len(response.content))
        return response
