import pytest
from django.db import IntegrityError, connection, transaction

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE transactions_ledgerentry SET amount = 999 WHERE wallet_id = %s",
        "DELETE FROM transactions_ledgerentry WHERE wallet_id = %s",
    ],
)
def test_raw_sql_cannot_change_the_ledger(user, sql):
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT amount FROM transactions_ledgerentry WHERE wallet_id = %s", [user.pk])
        assert cursor.fetchall() == [(50,)]
