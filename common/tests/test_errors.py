"""Errors raised outside DRF views answer JSON too (handler404 -> common.errors.not_found)."""

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_url_is_json_404(anon):
    response = anon.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
