"""The template's own texts (its name, slot and field labels, help, settings titles and
descriptions, option labels, flow names) in the page's language.

A template document may carry `translations: {language: {English text: translation}}`
(docs/i18n.md). A text is looked up in the active language, then in its base language
(`de-at`, then `de`); a text without a translation stays as the template wrote it, so a
template that translates nothing reads exactly as before. The service's own texts go through
Django's catalogues, not this.
"""

from django.utils import translation


def template_text(translations: dict | None, text: str) -> str:
    """`text` in the active language, from the template's `translations`."""
    if not text or not translations:
        return text
    language = (translation.get_language() or "").lower()
    for code in dict.fromkeys((language, language.split("-")[0])):
        table = translations.get(code)
        if table and text in table:
            return table[text]
    return text
