"""`{{ text|template_text:template.translations }}`: a template's own text in the page's
language (connect/template_texts.py); `{{ text|in_its_language }}`: a text shown inside
`<span lang="en">` when it is not in the page's language (one the template left English on a
German page), as is, escaped, otherwise. Only in an element's content: an attribute cannot
hold the span."""

from django import template

from connect.template_texts import template_text as _template_text
from connect.template_texts import text_html, text_language

register = template.Library()


@register.filter
def template_text(text: str, translations: dict | None) -> str:
    return _template_text(translations, text)


@register.filter
def in_its_language(text: str) -> str:
    return text_html(text)


@register.filter(name="text_language")
def text_language_filter(text: str) -> str:
    return text_language(text)
