"""The wallet's history: read-only ledger APIs, always scoped to the requesting user's wallet. Here, above
the ledger, because a page also reads the wallet (its row counter, kept by the ledger writer)."""

from functools import cached_property

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
from .teams import member_scope, membership_of, wallet_id_of

MEMBER_PARAMETER = OpenApiParameter(
    "member", OpenApiTypes.STR,
    description="A team wallet: one member's rows (username). Owners and admins see everyone's by default; "
    "members only their own. 403 `team_role_required`, 404 `member_not_found` or `not_in_team`.",
)
MEMBER_ERRORS = {
    "403": "`member=` another member, asked by a member (`team_role_required`).",
    "404": "`member=` someone not in the team (`member_not_found`), or without a team (`not_in_team`).",
}


class InvalidPeriod(DomainError):
    code = "invalid_period"
    detail = "period must be a month written YYYY-MM, e.g. 2026-01."


class TransactionListView(StrictQueryParams, generics.ListAPIView):
    """The user's ledger, newest first, filterable and orderable. On a team's wallet, every row names
    the member whose request it was (`member`), and `?member=` narrows the rows to one member's."""

    serializer_class = LedgerEntrySerializer
    filterset_class = LedgerFilter
    ordering_fields = ["created_at", "amount"]
    ordering = ["-created_at", "-id"]

    pagination_class = LedgerPagination
    extra_query_params = {"member"}
    schema_errors = MEMBER_ERRORS

    @cached_property
    def member_id(self) -> int | None:
        return member_scope(self.request.user, self.request.query_params.get("member"))

    def scoped(self, entries):
        """A team wallet's rows come with their member's name."""
        return entries.select_related("member") if membership_of(self.request.user) is not None else entries

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "team_wallet": membership_of(self.request.user) is not None}

    def get_queryset(self):
        return self.scoped(selectors.ledger_list(wallet_id=wallet_id_of(self.request.user), member_id=self.member_id))

    def known_count(self) -> int | None:
        """The wallet's row counter, when nothing narrows the list."""
        if set(self.request.query_params) - {"page", "page_size", "ordering"} or self.member_id is not None:
            return None
        return Wallet.objects.filter(pk=wallet_id_of(self.request.user)).values_list("ledger_rows", flat=True).first()

    @extend_schema(parameters=[MEMBER_PARAMETER], tags=["transactions"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TransactionSearchView(TransactionListView):
    """Search (`q`) over description, action type and reference, with the same filters."""

    extra_query_params = {"q", "member"}

    def known_count(self) -> int | None:
        return None  # a search counts what it matches

    def get_queryset(self):
        query = SearchQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        return self.scoped(selectors.ledger_search(
            wallet_id=wallet_id_of(self.request.user), q=query.validated_data["q"], member_id=self.member_id
        ))

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Text to search (max 100 characters)."),
                    MEMBER_PARAMETER],
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
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Text to search (max 100 characters)."),
                    MEMBER_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Columns: id, created_at, transaction_type, amount, delta, balance_after, "
                "action_type, quantity, reference, description (and member, on a team's wallet). Streamed; no paging.",
            )
        },
        tags=["transactions"],
    )
    def get(self, request, *args, **kwargs):
        entries = self.filter_queryset(self.get_queryset())
        lines = ledger_csv_lines(entries, with_member=membership_of(request.user) is not None)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        filename = f"credits-transactions-{timezone.now():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class MonthlyUsageView(APIView):
    schema_errors = MEMBER_ERRORS

    @extend_schema(parameters=[PeriodQuerySerializer, MEMBER_PARAMETER], responses=MonthlyUsageSerializer,
                   tags=["usage"])
    def get(self, request):
        params = request.query_params.dict()
        member_id = member_scope(request.user, params.pop("member", None))
        query = PeriodQuerySerializer(data=params)
        if not query.is_valid():
            raise InvalidPeriod()
        try:
            period = parse_period(query.validated_data["period"]) if "period" in query.validated_data else period_of()
        except ValueError:
            raise InvalidPeriod() from None
        return Response(
            selectors.usage_month_breakdown(wallet_id=wallet_id_of(request.user), period=period, member_id=member_id)
        )


class SpendingAnalyticsView(APIView):
    @extend_schema(parameters=[MonthsQuerySerializer], responses=SpendingAnalyticsSerializer, tags=["usage"])
    def get(self, request):
        query = MonthsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        months = query.validated_data["months"]
        return Response(selectors.usage_spending_analytics(wallet_id=wallet_id_of(request.user), months=months))
