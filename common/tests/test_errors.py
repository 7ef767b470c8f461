"""Errors raised outside DRF views answer JSON too (handler404 -> common.errors.not_found)."""

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_url_is_json_404(anon):
    response = anon.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


# With DEBUG on (as under `make run`) Django answers unknown URLs with its HTML debug page and
# method-limited views with an empty 405; the client sees JSON all the same.
@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


@pytest.mark.parametrize("path", ["/nope", "/api/v1/profile/../etc", "/api/v1/api/credits/nothing", "/admin-typo/"])
def test_unknown_paths_are_json_404_with_debug_on(anon, debug_on, path):
    response = anon.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("method, path", [("post", "/app/"), ("put", "/api/v1/health/"), ("get", "/api/v1/auth/token/")])
def test_wrong_methods_are_json_405_with_debug_on(anon, debug_on, method, path):
    response = getattr(anon, method)(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "method_not_allowed"
    assert response.json()["detail"] == f'Method "{method.upper()}" not allowed.'
    assert "Allow" in response


def test_pages_and_json_answers_pass_untouched(anon, debug_on):
    page = anon.get("/app/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    health = anon.get("/api/v1/health/")
    assert health["Content-Type"] == "application/json"


# live_server flushes the database afterwards: transactional, as the other live-server tests.
@pytest.mark.django_db(transaction=True)
def test_over_real_http_with_debug_on(live_server, debug_on):
    import httpx

    answer = httpx.get(f"{live_server.url}/nope", headers={"Accept": "text/html"}, timeout=10)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not found.", "code": "not_found"}
    answer = httpx.post(f"{live_server.url}/app/", timeout=10)  # no CSRF token: Django's HTML 403 otherwise
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
