"""The errors each operation can return, in its schema: the ones its view declares
(`@extend_schema(responses={404: ...})`) and, added here, the ones that follow from what the
view is (authenticated or not, staff only, throttled, with a body, with path parameters).
Nothing is listed that the operation cannot answer: no 404 without a path parameter to miss, no
401 on an anonymous endpoint, no 402 but where a view declares it."""

import re

from drf_spectacular.openapi import AutoSchema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

ANY_REQUEST_400 = ("`query_too_large`, `header_too_large`, `invalid_path`, `invalid_query`")
BODY_400 = "`invalid` (with `errors` per field), `parse_error`, `json_too_deep`"
UNAUTHENTICATED = "Missing or invalid token (`not_authenticated`, `token_not_valid`, `user_not_found`, `bad_authorization_header`)."
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class ErrorsAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, description in self._errors_of_the_view().items():
            if status not in responses:
                responses[status] = {"description": description}
            elif status == "400":  # the view's own 400 codes, then the ones any request may get
                own = responses[status].get("description", "").rstrip(".")
                responses[status]["description"] = f"{own}; also {self._generic_400()}."
        return responses

    def _generic_400(self) -> str:
        parses_a_body = self.method.upper() in ("POST", "PUT", "PATCH") and self.view.get_parsers()
        return f"{BODY_400 + ', ' if parses_a_body else ''}{ANY_REQUEST_400}"

    def _errors_of_the_view(self) -> dict[str, str]:
        view, method = self.view, self.method.upper()
        with_body = method in ("POST", "PUT", "PATCH")
        errors = {"400": f"Invalid input: {self._generic_400()}."}
        permissions = view.get_permissions()
        anonymous = all(isinstance(p, AllowAny) for p in permissions) or not view.get_authenticators()
        if not anonymous:
            errors["401"] = UNAUTHENTICATED
        refusals = [p for p in permissions if not isinstance(p, (AllowAny, IsAuthenticated))]
        session_csrf = method in UNSAFE and any(isinstance(a, SessionAuthentication) for a in view.get_authenticators())
        if refusals or (session_csrf and not anonymous):
            errors["403"] = "Not allowed (`permission_denied`" + (": staff only" if refusals else ": a session without its CSRF token") + ")."
        if re.search(r"{\w+}", self.path):
            errors["404"] = "Not found (`not_found`)."
        elif self._is_list_view() and getattr(view, "pagination_class", None):
            errors["404"] = "A page past the last (`not_found`, \"Invalid page.\")."
        errors["406"] = "The Accept header asks for a format this operation does not answer (`not_acceptable`)."
        if with_body:  # refused by Content-Length before any view, raw-body views included
            errors["413"] = "The request body is over REQUEST_MAX_BODY_BYTES (`request_too_large`)."
        if with_body and view.get_parsers():
            errors["415"] = "A body that is not JSON (`unsupported_media_type`)."
        if view.get_throttles():
            errors["429"] = "Throttled (`throttled`, with Retry-After)."
        errors["503"] = "The database is briefly unavailable (`service_unavailable`, with Retry-After); nothing changed."
        # What a view or a permission class says it refuses besides (`schema_errors`: a dict, or a
        # function of the method).
        for source in (*permissions, view):
            declared = getattr(source, "schema_errors", None)
            for status, description in ((declared(method) if callable(declared) else declared) or {}).items():
                errors[status] = f"{errors[status].rstrip('.')}; {description}" if status in errors else description
        return errors


def add_error_responses(result, generator, request, public):
    """Every error answer's body is the one shape {detail, code}, unless the view gave its own."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45" and "content" not in response:
                    response["content"] = ERROR_CONTENT
    return result
