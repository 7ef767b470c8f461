"""Amounts of money are integers in the currency's minor unit (cents for usd); this says them
for people ("54.00 USD")."""

from decimal import Decimal

# ISO 4217 currencies without a minor unit (Stripe's list of zero-decimal currencies).
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())


def minor_unit_digits(currency: str) -> int:
    return 0 if currency.lower() in ZERO_DECIMAL else 2


def money_display(amount_minor: int, currency: str) -> str:
    """5400, "usd" -> "54.00 USD"; 500, "jpy" -> "500 JPY"."""
    digits = minor_unit_digits(currency)
    major = Decimal(amount_minor).scaleb(-digits)
    return f"{major:,.{digits}f} {currency.upper()}"
