"""Change lists that take no filter, from their address, on a value their pages mask.

Django's admin filters a change list by any lookup on the model's own fields that the
address names (`?url__contains=…`, `?secret_salt__startswith=…`), not only by the list's
own filters: a local field is always allowed (`ModelAdmin.lookup_allowed`). Whoever may view
the list (the viewer role) would then learn, one character at a time from the count of rows
found, a value its pages mask (a webhook endpoint's URL) or never show (a salt, a
ciphertext). A lookup on a field named in `masked_fields` is refused instead: Django answers
400, as for a lookup across a relation it does not allow.
"""

from __future__ import annotations

from django.db.models.constants import LOOKUP_SEP


class MaskedFieldLookups:
    """Mix in before ModelAdmin; name the model's fields in `masked_fields`."""

    masked_fields: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split(LOOKUP_SEP, 1)[0] in self.masked_fields:
            return False
        return super().lookup_allowed(lookup, value, request)
