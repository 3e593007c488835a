"""The template's own texts (its name, slot and field labels, help, settings titles and
descriptions, option labels, flow names) in the page's language.

A template document may carry `translations: {language: {English text: translation}}`
(docs/i18n.md). A text is looked up in the active language, then in its base language
(`de-at`, then `de`); a text without a translation stays as the template wrote it, so a
template that translates nothing reads exactly as before. The service's own texts go through
Django's catalogues, not this.

A text left as written on a page in another language is English inside, say, a German page:
it comes back marked (`TemplateText.lang`), and the pages show it inside `lang="en"` (the
`in_its_language` filter, connect/templatetags/template_texts.py), as they show the apps' own
words, so that a screen reader reads it with English pronunciation. A sentence written in
Python around such a text keeps the mark too (`sentence_html`).
"""

from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

# The language templates are written in (their `translations` are keyed by its texts).
TEMPLATE_LANGUAGE = "en"


class TemplateText(str):
    """A template's text as the page shows it. `lang`: its language when that is not the
    page's (a text the template did not translate, on a German page); "" otherwise.

    A `str`, so it goes wherever the plain text went (form labels, choices, sentences);
    only what keeps the object (not a sentence it is formatted into) keeps the mark."""

    lang = ""

    def with_text(self, text: str) -> str:
        """`text` (this one, its placeholders filled) with this one's mark."""
        return _marked(text, self.lang)


def _marked(text: str, lang: str) -> str:
    if not lang or not text:
        return text
    marked = TemplateText(text)
    marked.lang = lang
    return marked


def text_language(text: str) -> str:
    """The language a shown text is marked with ("" when it is the page's)."""
    return getattr(text, "lang", "") or ""


def text_html(text: str) -> SafeString:
    """`text` as HTML: escaped, inside `<span lang="en">` when it is marked."""
    language = text_language(text)
    if not language:
        return conditional_escape(text)
    return format_html('<span lang="{}">{}</span>', language, text)


def sentence_html(sentence: str, **texts: str) -> SafeString:
    """One of our sentences (`{app}` placeholders, in the page's language) filled with
    template texts, as HTML: the sentence escaped, each text marked in its language as
    `text_html` marks it, so that a label the template left English inside a German
    sentence is read as English, and the rest as German."""
    return format_html(
        conditional_escape(str(sentence)), **{name: text_html(t) for name, t in texts.items()}
    )


def template_text(translations: dict | None, text: str) -> str:
    """`text` in the active language, from the template's `translations`; as written (and
    marked English, on a page in another language) where they have none."""
    if not text:
        return text
    language = (translation.get_language() or "").lower()
    base = language.split("-")[0]
    for code in dict.fromkeys((language, base)):
        table = (translations or {}).get(code)
        if table and text in table:
            return table[text]
    return _marked(text, "" if base in ("", TEMPLATE_LANGUAGE) else TEMPLATE_LANGUAGE)
