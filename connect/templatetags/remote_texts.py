"""`{{ text|remote_text }}`: words the page did not write, as the apps wrote them.

integrator.io's and the target apps' messages (a ping's refusal, a record's error) are
English whatever the page's language. Marked with their own `lang`, a screen reader on a German
page reads them with English pronunciation rather than German, and a browser's translator
knows what to translate.
"""

from django import template
from django.utils.html import format_html

register = template.Library()

# The language the apps' messages come in: integrator.io answers in English.
REMOTE_TEXT_LANGUAGE = "en"


@register.filter
def remote_text(text: str) -> str:
    if not text:
        return ""
    return format_html('<span lang="{}">{}</span>', REMOTE_TEXT_LANGUAGE, text)
