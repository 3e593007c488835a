from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Opaque cursors over a stable order: pages never skip or repeat rows when rows are added
    while a client walks the list, and every page costs the same whatever its depth."""

    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "limit"
    max_page_size = 100
    cursor_query_param = "cursor"
