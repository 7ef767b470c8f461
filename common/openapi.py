"""Schema post-processing: every operation documents the error answers the one handler can give."""

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
COMMON = {
    "400": "Invalid input (`invalid`, `parse_error`, `json_too_deep`, `query_too_large`, `header_too_large`, "
           "`invalid_path`, `invalid_query`, ...).",
    "401": "Missing or invalid token (`not_authenticated`, `token_not_valid`, `user_not_found`, `bad_authorization_header`).",
    "403": "Not allowed (`permission_denied`).",
    "404": "Not found (`not_found`, `unknown_action_type`, `profile_not_found`).",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "415": "Unsupported media type.",
    "429": "Throttled (`throttled`).",
    "503": "The database is briefly unavailable (`service_unavailable`, with Retry-After); nothing changed.",
}
WITH_BODY = {"413": "The request body is over REQUEST_MAX_BODY_BYTES (`request_too_large`)."}
WALLET = {"402": "`insufficient_credits`, `wallet_locked` or `wallet_not_found`."}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        extra = {**COMMON, **(WALLET if "/credits/" in path or "/profile/" in path else {})}
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, description in {**extra, **(WITH_BODY if method in ("post", "put", "patch") else {})}.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                )
    return result
