"""`{{ moment|datetime_zoned }}`: a date and time as the end customer's pages show them, in the
page's language with the time zone named ("5. März 2026 14:30 UTC", docs/i18n.md), so that a
reader in another zone knows which hour is meant."""

from django import template
from django.template.defaultfilters import date

register = template.Library()


@register.filter(expects_localtime=True)
def datetime_zoned(value) -> str:
    if not value:
        return ""
    # The same words as the credential form's "checked" tooltip: DATETIME_FORMAT, then `e`.
    return f"{date(value, 'DATETIME_FORMAT')} {date(value, 'e')}"
