import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param


class NewestFirstCursorPagination(CursorPagination):
    """Opaque cursors over a stable order: pages never skip or repeat rows when rows are added
    while a client walks the list, and every page costs the same whatever its depth."""

    ordering = ("-created_at", "-id")
    page_size = 25
    page_size_query_param = "limit"
    max_page_size = 100
    cursor_query_param = "cursor"
    # Cursors this API makes are well under this; anything longer is not one of them.
    cursor_max_length = 200

    # A cursor the API did not make is the client's mistake in a query parameter: a 400 that
    # names it, as for any other parameter (as Stripe answers a bad `starting_after`), not
    # DRF's 404, which reads as "this list is gone".
    invalid_cursor_message = "Not a cursor this API made: follow a page's `next` or `previous`."

    def paginate_queryset(self, queryset, request, view=None):
        # The cursor's position is compared with the ordering column: kept to check that it
        # is a value of that column before the database is asked.
        self._ordering_field = queryset.model._meta.get_field(
            self.get_ordering(request, queryset, view)[0].lstrip("-")
        )
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor is not None and (
            len(cursor) > self.cursor_max_length or not self._made_here(cursor)
        ):
            raise self.invalid_cursor()
        try:
            decoded = super().decode_cursor(request)
        except NotFound:
            raise self.invalid_cursor() from None
        if decoded is not None and not self._is_position(decoded.position):
            raise self.invalid_cursor()
        return decoded

    def _is_position(self, position: str | None) -> bool:
        """Whether `position` is a value of the ordering column, as the cursors this API
        makes hold: a hand-made `p=garbage` reached the database as a time and was a 500."""
        if position is None:
            return True
        try:
            value = self._ordering_field.to_python(position)
        except (DjangoValidationError, ValueError):
            return False
        if isinstance(value, datetime):
            return _has_utc_value(value)
        return value is not None

    @staticmethod
    def _made_here(cursor: str) -> bool:
        """Whether `cursor` has the shape of one DRF's `encode_cursor` makes: base64 (nothing
        outside its alphabet) of a query string of `o` (an offset), `r` (reversed) and `p` (a
        position), each once, and at least one of them. DRF's own reading is lenient: it drops
        what is not base64 and takes a missing key as its default, so `%00` or any base64 of
        other words decoded to no key at all and was served as the first page."""
        try:
            querystring = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
            tokens = parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
        except (UnicodeError, binascii.Error, ValueError):
            return False
        return (
            bool(tokens)
            and set(tokens) <= {"o", "r", "p"}
            and all(len(values) == 1 for values in tokens.values())
            and tokens.get("r", ["1"]) == ["1"]
            and tokens.get("o", ["1"])[0].isascii()
            and tokens.get("o", ["1"])[0].isdigit()
            # An offset counts rows that share one position: DRF never makes one past its
            # cutoff, and quietly clamps a bigger one to an empty page.
            and int(tokens.get("o", ["1"])[0]) <= CursorPagination.offset_cutoff
        )

    def invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

    def get_paginated_response_schema(self, schema):
        # OpenAPI 3.1 (the document's version) spells "or null" as a type list: DRF's
        # `nullable`, a 3.0 keyword, is ignored by 3.1 validators, which then refuse the
        # `null` that the last page's `next` holds.
        link = {"type": ["string", "null"], "format": "uri"}
        example = "https://provisioning.example.com/api/v1/tenants?cursor=YXwxMjM0fDIwMjYtMTEtMzA"
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    **link,
                    "example": example,
                    "description": "The next page; null on the last.",
                },
                "previous": {
                    **link,
                    "example": None,
                    "description": "The previous page; null on the first.",
                },
                "results": schema,
            },
        }

    def get_page_size(self, request) -> int:
        """`limit`, from 1 to `max_page_size`; anything else is a 400 rather than quietly the
        default page size (DRF's own reading) or a page cut short."""
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(value)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"]["maxLength"] = self.cursor_max_length
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
                parameter["description"] = (
                    f"Rows per page, 1 to {self.max_page_size} ({self.page_size} when not given)."
                )
        return parameters


@dataclass(frozen=True)
class PageRequest:
    """What to read for a page: `fetch` rows (one more than the page, to see whether more
    follow) older than `after`, or newer than `before` (each a row's (created_at, id))."""

    fetch: int
    after: tuple[datetime, int] | None = None
    before: tuple[datetime, int] | None = None


class NewestFirstKeysetPagination(NewestFirstCursorPagination):
    """The same contract (`cursor`, `limit`; `next`, `previous`, `results`) for a list read
    by hand rather than from a queryset: the cursor holds the (created_at, id) of the row the
    page starts after (or ends before), so a page is one indexed range read.

        page_request = paginator.page_request(request)
        rows = <read page_request.fetch rows after or before the position>
        rows = paginator.paginate_rows(rows)   # newest first, links remembered
        return paginator.get_paginated_response(<serialized rows>)

    Rows are dicts with "created_at" and "id", read newest first, or oldest first when
    `before` is given (nearest the position first).

    It pays: DRF's CursorPagination over the tenants queryset, then the views read for the
    ids it chose, costs 30% more per list request (bench/api_list_parts.py: 1.0 ms against
    0.58 ms, of a 1.38 ms request).
    """

    _FORWARD, _BACKWARD = "a", "b"

    def page_request(self, request) -> PageRequest:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.position = self._decode(request.query_params.get(self.cursor_query_param))
        fetch = self.page_size + 1
        if self.position is None:
            return PageRequest(fetch=fetch)
        direction, key = self.position
        if direction == self._BACKWARD:
            return PageRequest(fetch=fetch, before=key)
        return PageRequest(fetch=fetch, after=key)

    def paginate_rows(self, rows: list[dict]) -> list[dict]:
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        position_key = self.position[1] if self.position else None
        if self.position is not None and self.position[0] == self._BACKWARD:
            rows.reverse()
            has_previous, has_next = more, True
        else:
            has_previous, has_next = self.position is not None, more
        self.next_link = self.previous_link = None
        if has_next:
            # An empty page read backwards ends the newer rows: what follows is the first page.
            self.next_link = (
                self._link(self._FORWARD, _key(rows[-1]))
                if rows
                else remove_query_param(self.base_url, self.cursor_query_param)
            )
        if has_previous:
            self.previous_link = self._link(self._BACKWARD, _key(rows[0]) if rows else position_key)
        return rows

    def get_next_link(self):
        return self.next_link

    def get_previous_link(self):
        return self.previous_link

    def _link(self, direction: str, key: tuple[datetime, int]) -> str:
        created_at, row_id = key
        token = f"{direction}|{row_id}|{created_at.isoformat()}".encode()
        cursor = base64.urlsafe_b64encode(token).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def _decode(self, cursor: str | None) -> tuple[str, tuple[datetime, int]] | None:
        if cursor is None:
            return None
        if len(cursor) > self.cursor_max_length:
            raise self.invalid_cursor()
        try:
            token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            direction, row_id, created_at = token.split("|")
            key = (datetime.fromisoformat(created_at), int(row_id))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise self.invalid_cursor() from None
        valid = (
            direction in (self._FORWARD, self._BACKWARD)
            and key[0].tzinfo is not None
            and _has_utc_value(key[0])
            and 0 < key[1] < 2**63
        )
        if not valid:
            raise self.invalid_cursor()
        return direction, key


def _has_utc_value(moment: datetime) -> bool:
    # A time whose offset carries it past the year 1 or 9999 has no UTC value to compare.
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _key(row: dict) -> tuple[datetime, int]:
    return row["created_at"], row["id"]
