import pytest
import yaml

pytestmark = pytest.mark.django_db

CREDITS_PATHS = [
    "balance", "wallet/summary", "dashboard", "wallet/create", "transactions", "transactions/search", "transactions/export.csv",
    "usage/monthly", "analytics/spending", "can-perform/{action_type}", "pricing", "pricing/{action_type}",
    "pricing/calculate", "allowances", "system/stats", "top-up/estimate", "top-up/history",
]


def test_schema_describes_every_endpoint(anon):
    response = anon.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = {path.rstrip("/") for path in schema["paths"]}
    for path in CREDITS_PATHS:
        assert f"/api/v1/api/credits/{path}" in paths, path
    for suffix in ("", "/analytics", "/ai-insights", "/posts"):
        assert f"/api/v1/profile/{{username}}{suffix}" in paths


def test_docs_page_is_served_offline(anon):
    response = anon.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn" not in response.content.lower()


def served_schema(anon) -> dict:
    return yaml.safe_load(anon.get("/api/v1/schema/").content)


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@pytest.mark.parametrize(
    "suffix, fields",
    [
        ("", {"username", "followers_count", "follower_history"}),
        ("/analytics", {"engagement_rate", "best_posting_hours", "top_hashtags"}),
        ("/ai-insights", {"summary", "strengths", "metrics"}),
        ("/posts", {"count", "next", "previous", "results"}),
    ],
)
def test_gated_views_describe_their_answers_and_charge_headers(anon, suffix, fields):
    schema = served_schema(anon)
    responses = schema["paths"][f"/api/v1/profile/{{username}}{suffix}/"]["get"]["responses"]
    ok = resolve(schema, responses["200"]["content"]["application/json"]["schema"])
    assert fields <= set(ok["properties"]), ok
    assert set(responses["200"]["headers"]) == {"X-Credits-Charged", "X-Credits-Remaining"}
    assert set(responses["402"]["headers"]) == {"X-Credits-Required", "X-Credits-Available", "X-Credits-Needed"}
    payment = resolve(schema, responses["402"]["content"]["application/json"]["schema"])
    assert {"detail", "code", "needed"} <= set(payment["properties"])


def test_allowances_is_a_map_of_typed_rows(anon):
    schema = served_schema(anon)
    body = schema["paths"]["/api/v1/api/credits/allowances/"]["get"]["responses"]["200"]["content"]["application/json"]
    allowances = resolve(schema, body["schema"])
    row = resolve(schema, allowances["additionalProperties"])
    assert set(row["properties"]) == {"monthly_allowance", "used_this_month", "remaining", "next_reset"}


def test_docs_say_how_to_get_a_token(anon):
    description = served_schema(anon)["info"]["description"]
    assert "/api/v1/auth/token/" in description and "Authorization: Bearer" in description
    assert "/api/v1/auth/token/refresh/" in description


def as_json_schema(node):
    """OpenAPI 3.0 `nullable: true` as JSON Schema's type list, recursively."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"]
    return node


@pytest.mark.parametrize("suffix", ["", "/analytics", "/ai-insights", "/posts"])
def test_real_gated_answers_match_their_schema(anon, make_user, suffix):
    import jsonschema

    from testing.clients import client_for

    schema = served_schema(anon)
    response = client_for(make_user(balance=500)).get(f"/api/v1/profile/dev_dan{suffix}")
    assert response.status_code == 200
    assert int(response["X-Credits-Remaining"]) >= 0 and int(response["X-Credits-Charged"]) >= 0
    ok = schema["paths"][f"/api/v1/profile/{{username}}{suffix}/"]["get"]["responses"]["200"]
    document = as_json_schema({**ok["content"]["application/json"]["schema"], "components": schema["components"]})
    jsonschema.validate(response.json(), document)
