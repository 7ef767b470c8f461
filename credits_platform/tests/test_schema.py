import difflib
import json
import os
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.django_db

CREDITS_PATHS = [
    "balance", "wallet/summary", "dashboard", "wallet/create", "transactions", "transactions/search",
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


SNAPSHOT = Path(__file__).with_name("openapi_snapshot.json")
REFRESH = "OPENAPI_SNAPSHOT_REFRESH=1 .venv/bin/pytest credits_platform/tests/test_schema.py"


def served_schema(anon) -> dict:
    response = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_matches_the_committed_snapshot(anon):
    """The frontend and the generated clients rely on the schema: a refactoring must not change it.

    An intended change (a new endpoint, a new field) is accepted by refreshing the snapshot with
    the command in REFRESH and committing the diff beside the change that caused it.
    """
    served = json.dumps(served_schema(anon), indent=1, sort_keys=True) + "\n"
    if os.environ.get("OPENAPI_SNAPSHOT_REFRESH"):
        SNAPSHOT.write_text(served)
    expected = SNAPSHOT.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), served.splitlines(True), "snapshot", "served", n=2))
    assert not diff, f"the served OpenAPI schema changed; if intended, run: {REFRESH}\n{diff[:6000]}"
