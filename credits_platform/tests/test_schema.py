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


def responses_of(schema: dict, path: str, method: str = "get") -> dict:
    return schema["paths"][f"/api/v1/{path}/"][method]["responses"]


def test_each_operation_lists_only_its_own_errors(anon):
    schema = served_schema(anon)
    balance = responses_of(schema, "api/credits/balance")
    text = str(balance)
    assert "profile_not_found" not in text and "unknown_action_type" not in text
    assert "404" not in balance and "429" not in balance and "405" not in balance and "413" not in balance
    assert set(balance) == {"200", "400", "401", "402", "406", "503"}
    assert "wallet_not_found" in balance["402"]["description"]

    pricing = responses_of(schema, "api/credits/pricing/{action_type}")
    assert "unknown_action_type" in pricing["404"]["description"] and "402" not in pricing
    assert "profile_not_found" not in str(pricing)

    gated = responses_of(schema, "profile/{username}/analytics")
    assert "profile_not_found" in gated["404"]["description"] and "unknown_action_type" not in str(gated)
    assert {"402", "429", "502", "504"} <= set(gated)

    health = responses_of(schema, "health")
    assert "401" not in health and "402" not in health and "404" not in health

    grants = responses_of(schema, "api/credits/admin/grants", "post")
    assert "staff only" in grants["403"]["description"] and "idempotency_key_reused" in grants["409"]["description"]
    assert {"413", "415"} <= set(grants) and "404" not in grants
    assert "json_too_deep" in grants["400"]["description"]

    webhook = responses_of(schema, "payments/stripe/webhook", "post")
    assert "401" not in webhook and "415" not in webhook  # anonymous, and it reads the raw body
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert response["content"]["application/json"]["schema"], (status, operation["operationId"])


def test_top_up_estimate_says_its_money_is_in_minor_units(anon):
    schema = served_schema(anon)
    estimate = resolve(schema, schema["components"]["schemas"]["TopUpEstimate"])["properties"]
    assert "minor unit" in estimate["total"]["description"] and "minor unit" in estimate["unit_price"]["description"]
    assert {"total_display", "unit_price_display"} <= set(estimate)
