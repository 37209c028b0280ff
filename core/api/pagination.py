from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable, index-friendly pagination for long lists: no OFFSET scans, no skipped rows."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
