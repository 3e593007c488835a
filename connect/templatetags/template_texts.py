"""`{{ text|template_text:template.translations }}`: a template's own text in the page's
language (connect/template_texts.py)."""

from django import template

from connect.template_texts import template_text as _template_text

register = template.Library()


@register.filter
def template_text(text: str, translations: dict | None) -> str:
    return _template_text(translations, text)
