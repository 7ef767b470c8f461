"""The wallet's history: read-only ledger APIs, always scoped to the requesting user's wallet. Here, above
the ledger, because a page also reads the wallet (its row counter, kept by the ledger writer)."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from common.exceptions import DomainError
from common.pagination import StrictQueryParams
from common.periods import parse_period, period_of

from transactions import selectors
from transactions.csv_export import ledger_csv_lines
from transactions.filters import LedgerFilter
from transactions.pagination import LedgerPagination
from transactions.renderers import CSVRenderer
from transactions.serializers import (
    LedgerEntrySerializer,
    MonthlyUsageSerializer,
    MonthsQuerySerializer,
    PeriodQuerySerializer,
    SearchQuerySerializer,
    SpendingAnalyticsSerializer,
)

from .models import Wallet


class InvalidPeriod(DomainError):
    code = "invalid_period"
    detail = "period must be a month written YYYY-MM, e.g. 2026-01."


class TransactionListView(StrictQueryParams, generics.ListAPIView):
    """The user's ledger, newest first, filterable and orderable."""

    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerFilter
    ordering_fields = ["created_at", "amount"]
    ordering = ["-created_at", "-id"]

    pagination_class = LedgerPagination

    def get_queryset(self):
        return selectors.ledger_list(wallet_id=self.request.user.pk)

    def known_count(self) -> int | None:
        """The wallet's row counter, when nothing narrows the list."""
        if set(self.request.query_params) - {"page", "page_size", "ordering"}:
            return None
        return Wallet.objects.filter(pk=self.request.user.pk).values_list("ledger_rows", flat=True).first()

    @extend_schema(tags=["transactions"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TransactionSearchView(TransactionListView):
    """Search (`q`) over description, action type and reference, with the same filters."""

    extra_query_params = {"q"}

    def known_count(self) -> int | None:
        return None  # a search counts what it matches

    def get_queryset(self):
        query = SearchQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        return selectors.ledger_search(wallet_id=self.request.user.pk, q=query.validated_data["q"])

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Text to search (max 100 characters).")],
        tags=["transactions"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TransactionExportView(TransactionSearchView):
    """The same rows as `transactions` (and `transactions/search` with `q`), every page at once, as
    a CSV file streamed from a server-side cursor."""

    pagination_class = None
    # JSON first: errors keep their JSON body; `Accept: text/csv` is accepted, not a 406.
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="Download the history as CSV (same filters, search and ordering as transactions)",
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Text to search (max 100 characters).")],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Columns: id, created_at, transaction_type, amount, delta, balance_after, "
                "action_type, quantity, reference, description. Streamed; no paging.",
            )
        },
        tags=["transactions"],
    )
    def get(self, request, *args, **kwargs):
        entries = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(ledger_csv_lines(entries), content_type="text/csv; charset=utf-8")
        filename = f"credits-transactions-{timezone.now():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class MonthlyUsageView(APIView):
    @extend_schema(parameters=[PeriodQuerySerializer], responses=MonthlyUsageSerializer, tags=["usage"])
    def get(self, request):
        query = PeriodQuerySerializer(data=request.query_params.dict())
        if not query.is_valid():
            raise InvalidPeriod()
        try:
            period = parse_period(query.validated_data["period"]) if "period" in query.validated_data else period_of()
        except ValueError:
            raise InvalidPeriod() from None
        return Response(selectors.usage_month_breakdown(wallet_id=request.user.pk, period=period))


class SpendingAnalyticsView(APIView):
    @extend_schema(parameters=[MonthsQuerySerializer], responses=SpendingAnalyticsSerializer, tags=["usage"])
    def get(self, request):
        query = MonthsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        months = query.validated_data["months"]
        return Response(selectors.usage_spending_analytics(wallet_id=request.user.pk, months=months))
