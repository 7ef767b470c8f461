"""Finance for staff: the month's report over HTTP, and the admin page that charts the last months."""

from datetime import date

from django.contrib import admin
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.exceptions import DomainError
from common.periods import parse_period, period_of

from .finance import COLUMN_LABELS, CREDIT_COLUMNS, finance_month_report

MONTHS_CHARTED = 12


class InvalidFinancePeriod(DomainError):
    code = "invalid_period"
    detail = "period must be a month written YYYY-MM, e.g. 2026-01."


def _period(text: str | None):
    if not text:
        return period_of()
    try:
        return parse_period(text)
    except ValueError:
        raise InvalidFinancePeriod() from None


class FinanceView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        parameters=[OpenApiParameter("period", str, description="YYYY-MM (default: this month)")],
        responses={200: OpenApiResponse(description="Credits per source (" + ", ".join(CREDIT_COLUMNS)
                                        + "), spent paid vs free, and money per currency in its smallest unit.")},
        tags=["staff"],
    )
    def get(self, request):
        unknown = set(request.query_params) - {"period"}
        if unknown:
            raise InvalidFinancePeriod(f"Unknown query parameter: {', '.join(sorted(unknown))}.")
        return Response(finance_month_report(period=_period(request.query_params.get("period"))).as_dict())


def finance_page(request):
    """The admin's finance page: revenue, deferred and breakage per month, credits granted by source."""
    months, period = [], period_of()
    for _ in range(MONTHS_CHARTED):
        months.append(finance_month_report(period=period))
        period = date(period.year - (period.month == 1), (period.month - 2) % 12 + 1, 1)  # the month before
    months.reverse()
    currencies = sorted({currency for month in months for currency in month.money})
    sources = sorted({s.source for month in months for s in month.sources})
    charts = {
        "labels": [month.period for month in months],
        "money": [
            {"label": f"{kind.replace('_', ' ')} ({currency.upper()})",
             "data": [round(month.money.get(currency, {}).get(kind, 0) / 100, 2) for month in months]}
            for currency in currencies for kind in ("revenue_recognized", "deferred", "breakage")
        ],
        "granted": [
            {"label": source, "data": [next((s.credits["granted"] for s in month.sources if s.source == source), 0)
                                       for month in months]}
            for source in sources
        ],
    }
    context = {
        **admin.site.each_context(request),
        "title": "Finance: the last 12 months",
        "current": months[-1].as_dict(),
        "columns": [(column, COLUMN_LABELS[column]) for column in CREDIT_COLUMNS],
        "charts": charts,
    }
    return render(request, "admin/credits_finance.html", context)
