from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (capped at 100; zero, negative or non-numeric sizes are a 400)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings and not (raw.isdigit() and int(raw) >= 1):
            raise ValidationError({"page": ["Must be a whole number of at least 1."]})
        return super().get_page_number(request, paginator)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isdigit() and int(raw) >= 1):
            raise ValidationError({"page_size": ["Must be a whole number of at least 1."]})
        return super().get_page_size(request)


class StrictQueryParams:
    """List views refuse query parameters they do not understand (a typo is a 400, not ignored)."""

    base_query_params = {"page", "page_size", "ordering", "format"}
    extra_query_params: set = set()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        filterset = getattr(self, "filterset_class", None)
        known = self.base_query_params | self.extra_query_params | set(filterset.base_filters if filterset else ())
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})
