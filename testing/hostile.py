"""Hostile input for every endpoint: the bodies, paths, queries and headers a client controls.

Shared by the fast suite (`credits_platform/tests/test_hostile_input.py`, through Django's test
client) and the chaos suite (`chaos/`, over real HTTP under gunicorn).
"""

C = "/api/v1/api/credits/"
P = "/api/v1/profile/"

JSON_POSTS = [
    "/api/v1/auth/register/",
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    C + "pricing/calculate",
    C + "top-up/estimate",
    C + "top-up/checkout",
    C + "wallet/create",
]
# A valid body for each: what a well-behaved client sends.
VALID_BODIES = {
    "/api/v1/auth/register/": {"username": "valid_newcomer", "email": "valid@example.com", "password": "a-long-passphrase-26"},
    "/api/v1/auth/token/": {"username": "valid_newcomer", "password": "a-long-passphrase-26"},
    "/api/v1/auth/token/refresh/": {"refresh": "not-a-token"},
    C + "pricing/calculate": {"action_type": "ai_insights", "quantity": 3},
    C + "top-up/estimate": {"credits": 600},
    C + "top-up/checkout": {"credits": 600},
    C + "wallet/create": {},
}
ALL_POSTS = [*JSON_POSTS, "/api/v1/payments/stripe/webhook"]

GETS = [
    "/api/v1/health/",
    C + "balance",
    C + "wallet/summary",
    C + "dashboard",
    C + "transactions",
    C + "transactions/search?q=x",
    C + "usage/monthly",
    C + "analytics/spending",
    C + "top-up/history",
    C + "can-perform/ai_insights",
    C + "allowances",
    C + "system/stats",
    C + "pricing",
    C + "pricing/ai_insights",
    P + "dev_dan",
    P + "dev_dan/analytics",
    P + "dev_dan/ai-insights",
    P + "dev_dan/posts",
]

# A path segment a client chooses, with a control character in it.
SEGMENT_PATHS = [
    C + "pricing/{}",
    C + "can-perform/{}",
    C + "can-perform/ai_insights?username={}",
    P + "{}",
    P + "{}/analytics",
    P + "{}/ai-insights",
    P + "{}/posts",
]
CONTROL_SEGMENTS = ["%00", "a%00b", "%01", "%0a", "%1b%5b31m", "%7f"]

# Moments that are not valid ISO 8601 or that do not exist in UTC.
BAD_MOMENTS = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-01-01T00:00:00+24:00",
    "2026-13-01T00:00:00",
    "%00",
]
DATETIME_FILTERS = [C + "transactions", C + "transactions/search?q=x&"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth
