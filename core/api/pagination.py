from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable, index-friendly pagination for long lists: no OFFSET scans, no skipped rows.

    ``page_size`` is declared 1..``max_page_size`` and checked as declared (core.api.views.check_query):
    a value out of range, not a number or given twice is a 400, not silently the default."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = f"Results per page (default {self.page_size}, at most {self.max_page_size})."
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = "The `next` or `previous` link's cursor; an unknown cursor is a 404."
        return parameters
