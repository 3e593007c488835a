"""`{{ moment|datetime_zoned }}`: a date and time as the end customer's pages show them, in the
page's language with the time zone named ("5. März 2026 14:30 UTC", docs/i18n.md), so that a
reader in another zone knows which hour is meant; `{{ seconds|duration_words }}`: how long
something took, in hours, minutes and seconds as they apply."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import date
from django.utils.translation import ngettext

register = template.Library()


@register.filter(expects_localtime=True)
def datetime_zoned(value) -> str:
    if not value:
        return ""
    # The same words as the credential form's "checked" tooltip: DATETIME_FORMAT, then `e`.
    return f"{date(value, 'DATETIME_FORMAT')} {date(value, 'e')}"


@register.filter
def duration_words(seconds) -> str:
    """`{{ seconds|duration_words }}`: how long a run took, as a person says it ("4 seconds",
    "2 minutes 30 seconds", "2 hours 1 minute"), in the page's language. Seconds alone read
    "7,265 seconds" for a run of two hours: a number to work out. Past a minute the seconds
    still say something; past an hour they do not, and are left out."""
    if seconds is None or seconds == "":
        return ""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        parts = [_hours(hours), _minutes(minutes) if minutes else ""]
    elif minutes:
        parts = [_minutes(minutes), _seconds(seconds) if seconds else ""]
    else:
        parts = [_seconds(seconds)]
    return " ".join(part for part in parts if part)


def _seconds(count: int) -> str:
    return ngettext("%(shown)s second", "%(shown)s seconds", count) % {"shown": intcomma(count)}


def _minutes(count: int) -> str:
    return ngettext("%(shown)s minute", "%(shown)s minutes", count) % {"shown": intcomma(count)}


def _hours(count: int) -> str:
    return ngettext("%(shown)s hour", "%(shown)s hours", count) % {"shown": intcomma(count)}
