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
