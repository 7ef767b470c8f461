"""Hostile input over every endpoint: a JSON 4xx with a stable code, never a 5xx, nothing changed."""

from urllib.parse import quote

import pytest

from testing import hostile
from testing.clients import client_for
from transactions.models import LedgerEntry
from wallets.models import Hold, Wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(make_user):
    return make_user(balance=1000)


@pytest.fixture
def client(rich):
    return client_for(rich)


@pytest.fixture
def unchanged(rich):
    """Asserts, after the test, that no ledger row, hold or balance changed."""
    def state():
        wallets = Wallet.objects.order_by("pk").values_list("pk", "monthly_balance", "purchased_balance", "reserved")
        return LedgerEntry.objects.count(), Hold.objects.count(), list(wallets)

    before = state()
    yield
    assert state() == before


def assert_error(response, status: int, code: str):
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] == code and body["detail"], body


@pytest.mark.parametrize("path", hostile.JSON_POSTS)
@pytest.mark.parametrize(
    "body", [hostile.nested(1000), hostile.nested(100_000), hostile.nested_object(1000)], ids=["list", "list-100k", "object"]
)
def test_deep_json_is_a_400_on_every_json_endpoint(client, unchanged, path, body):
    assert_error(client.post(path, body, content_type="application/json"), 400, "json_too_deep")


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/auth/register/"])
def test_anonymous_endpoints_refuse_deep_json_too(anon, unchanged, path):
    assert_error(anon.post(path, hostile.nested(1000), content_type="application/json"), 400, "json_too_deep")


def test_the_depth_bound_is_the_setting(client, settings, unchanged):
    path = hostile.C + "pricing/calculate"
    settings.JSON_MAX_DEPTH = 32
    inside = '{"action_type": "ai_insights", "quantity": 1, "x": ' + hostile.nested(31) + "}"
    assert_error(client.post(path, inside, content_type="application/json"), 400, "invalid")  # x: unknown field
    beyond = '{"action_type": "ai_insights", "quantity": 1, "x": ' + hostile.nested(32) + "}"
    assert_error(client.post(path, beyond, content_type="application/json"), 400, "json_too_deep")


@pytest.mark.parametrize("path", hostile.ALL_POSTS)
def test_a_3_mb_body_is_a_413_on_every_post(client, settings, unchanged, path):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    body = '{"credits": 1, "pad": "' + "x" * (3 * 1024 * 1024) + '"}'
    assert_error(client.post(path, body, content_type="application/json"), 413, "request_too_large")


def test_the_body_bound_is_the_setting(client, settings, unchanged):
    settings.REQUEST_MAX_BODY_BYTES = 100
    path = hostile.C + "top-up/estimate"
    assert client.post(path, {"credits": 600}, format="json").status_code == 200
    assert_error(client.post(path, {"credits": 600, "p": "x" * 100}, format="json"), 413, "request_too_large")


@pytest.mark.parametrize("template", hostile.SEGMENT_PATHS)
@pytest.mark.parametrize("segment", hostile.CONTROL_SEGMENTS)
def test_control_characters_in_a_path_segment_are_a_400(client, unchanged, template, segment):
    code = "invalid_query" if "?" in template else "invalid_path"
    response = client.get(template.format(segment))
    if code == "invalid_query" and segment != "%00" and segment != "a%00b":
        assert response.status_code < 500, response.content  # other controls are just an unknown name
        return
    assert_error(response, 400, code)


@pytest.mark.parametrize("path", hostile.DATETIME_FILTERS)
@pytest.mark.parametrize("field", ["created_after", "created_before"])
@pytest.mark.parametrize("moment", hostile.BAD_MOMENTS)
def test_out_of_range_moments_in_filters_are_a_400(client, path, field, moment):
    separator = "" if path.endswith("&") else "?"
    response = client.get(f"{path}{separator}{field}={quote(moment, safe='%')}")
    assert_error(response, 400, "invalid_query" if moment == "%00" else "invalid")


def test_an_offset_moment_filters_in_utc(client, rich):
    rows = client.get(hostile.C + "transactions?created_after=" + quote("2000-01-01T12:00:00+15:59")).json()
    assert rows["count"] == LedgerEntry.objects.filter(wallet_id=rich.pk).count()
    # An offset PostgreSQL refuses (beyond +-15:59) is the same moment in UTC: a plain answer.
    rows = client.get(hostile.C + "transactions/search?q=x&created_after=" + quote("1198-09-29T10:26:21+17:12"))
    assert rows.status_code == 200 and rows.json()["count"] == 0
    rows = client.get(hostile.C + "transactions?created_before=" + quote("1198-09-29T10:26:21+17:12"))
    assert rows.status_code == 200 and rows.json()["count"] == 0
    assert client.get(hostile.C + "transactions?created_after=" + quote("2999-01-01T00:00:00-15:59")).json()["count"] == 0


@pytest.mark.parametrize("path", hostile.GETS)
def test_an_oversized_query_string_is_a_400(client, unchanged, path):
    separator = "&" if "?" in path else "?"
    assert_error(client.get(f"{path}{separator}pad={'x' * 5000}"), 400, "query_too_large")


def test_too_many_query_fields_is_a_400(client, unchanged, settings):
    settings.REQUEST_MAX_QUERY_BYTES = 100_000
    assert_error(client.get(hostile.C + "transactions?" + "&".join(["a=1"] * 1500)), 400, "query_too_large")


@pytest.mark.parametrize("path", hostile.GETS)
def test_an_oversized_header_is_a_400(client, unchanged, path):
    assert_error(client.get(path, HTTP_X_PADDING="x" * 9000), 400, "header_too_large")


@pytest.mark.parametrize("path", hostile.GETS)
def test_a_nul_in_any_query_value_is_a_400(client, unchanged, path):
    separator = "&" if "?" in path else "?"
    assert_error(client.get(f"{path}{separator}q=%00"), 400, "invalid_query")


@pytest.mark.parametrize("length", ["-1", "abc", "1e3"])
def test_a_bad_content_length_is_a_400(client, unchanged, length):
    response = client.generic("POST", hostile.C + "top-up/estimate", b"{}", "application/json", CONTENT_LENGTH=length)
    assert_error(response, 400, "invalid_content_length")


@pytest.mark.parametrize("path", hostile.JSON_POSTS)
@pytest.mark.parametrize(
    "body",
    ['{"credits": NaN}', '{"quantity": Infinity}', '{"credits": 1' + "0" * 5000 + "}", b'{"a": "\xff\xfe"}', "[]", '"x"', "null"],
    ids=["nan", "infinity", "huge-int", "not-utf8", "list", "string", "null"],
)
def test_malformed_bodies_are_never_a_5xx(client, path, body):
    response = client.post(path, body, content_type="application/json")
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if path.endswith("wallet/create") and response.status_code == 200:
        return  # takes no input: a body that parses is ignored
    assert response.status_code >= 400 and response.json()["code"]


def test_suspicious_host_is_json_400(client, unchanged):
    response = client.get("/api/v1/health/", HTTP_HOST="evil.example")
    assert_error(response, 400, "bad_request")


def test_errors_are_json_even_when_csv_was_asked_for(client):
    response = client.get(hostile.C + "transactions/export.csv?format=csv&unknown=1")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid"


def test_a_refusal_carries_cors_headers_so_a_browser_can_read_it(client, settings):
    origin = "http://localhost:5173"
    settings.CORS_ALLOWED_ORIGINS = [origin]
    response = client.get(hostile.C + "pricing/%00", HTTP_ORIGIN=origin)
    assert_error(response, 400, "invalid_path")
    assert response["Access-Control-Allow-Origin"] == origin
