import csv
import io

import pytest

from testing.clients import client_for
from testing.sequences import bulk_history
from transactions.csv_export import COLUMNS
from wallets.services import credits_adjust

pytestmark = pytest.mark.django_db
EXPORT = "/api/v1/api/credits/transactions/export.csv"


def download(client, **params):
    response = client.get(EXPORT, params)
    assert response.status_code == 200, response.content
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return response, list(csv.DictReader(io.StringIO(body)))


def test_every_row_of_the_history_with_the_header(busy_user):
    response, rows = download(client_for(busy_user))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="credits-transactions-')
    listed = client_for(busy_user).get("/api/v1/api/credits/transactions", {"page_size": 100}).json()["results"]
    assert [int(r["id"]) for r in rows] == [r["id"] for r in listed]  # same rows, same order
    assert list(rows[0]) == list(COLUMNS)
    top_up = rows[0]
    assert (top_up["transaction_type"], top_up["amount"], top_up["delta"], top_up["balance_after"]) == ("top_up", "40", "40", "95")


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"transaction_type": "spend"}, 2),
        ({"transaction_type": "spend,free_use"}, 5),
        ({"action_type": "influencer_unlock"}, 3),
        ({"min_amount": 20, "max_amount": 30}, 2),
        ({"q": "dev_dan"}, 1),
    ],
)
def test_same_filters_and_search_as_the_list(busy_user, params, expected):
    client = client_for(busy_user)
    _, rows = download(client, **params)
    path = "transactions/search" if "q" in params else "transactions"
    listed = client.get(f"/api/v1/api/credits/{path}", params).json()
    assert len(rows) == listed["count"] == expected


def test_ordering_is_honoured(busy_user):
    _, rows = download(client_for(busy_user), ordering="amount")
    amounts = [int(r["amount"]) for r in rows]
    assert amounts == sorted(amounts)


def test_only_the_callers_rows(busy_user, make_user):
    other = make_user(balance=70)
    _, rows = download(client_for(other))
    assert {r["balance_after"] for r in rows} <= {"50", "70"}
    assert len(rows) == 2  # the first grant and the adjustment to 70
    _, mine = download(client_for(busy_user))
    assert not {r["id"] for r in rows} & {r["id"] for r in mine}


def test_a_formula_in_a_text_cell_is_neutralised(user):
    credits_adjust(user_id=user.pk, amount=5, reason="=HYPERLINK(\"http://evil\")")
    _, rows = download(client_for(user), transaction_type="adjustment")
    assert rows[0]["description"].startswith("'=")


def test_streams_a_long_history_in_small_chunks(make_user):
    """Sent as it is read, never built whole (bench/csv_export.py measures the memory)."""
    user = make_user(balance=10)
    bulk_history(user, 5000)
    response = client_for(user).get(EXPORT, {"action_type": "influencer_unlock"})
    chunks = list(response.streaming_content)
    assert len(chunks) >= 10 and max(len(chunk) for chunk in chunks) < 100_000
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == 5000
    assert rows[0]["reference"] == "bulk4999"  # newest first


def test_bad_filters_and_anonymous_calls_are_json_errors(busy_user, anon):
    response = client_for(busy_user).get(EXPORT, {"transaction_type": "teleport"})
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = client_for(busy_user).get(EXPORT, {"page_size": 10, "colour": "red"})
    assert response.status_code == 400 and "colour" in response.json()["detail"]
    response = anon.get(EXPORT)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_accepts_a_client_that_asks_for_csv(busy_user):
    response = client_for(busy_user).get(EXPORT, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"id,created_at,")
