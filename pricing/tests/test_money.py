import pytest

from pricing.money import money_display


@pytest.mark.parametrize("amount, currency, shown", [
    (5400, "usd", "54.00 USD"), (5, "eur", "0.05 EUR"), (0, "usd", "0.00 USD"), (175000, "usd", "1,750.00 USD"),
    (500, "jpy", "500 JPY"), (-250, "gbp", "-2.50 GBP"),
])
def test_minor_units_said_in_major_units(amount, currency, shown):
    assert money_display(amount, currency) == shown
