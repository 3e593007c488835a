"""The translation catalogues of the end customer's pages are complete and compiled.

- Every text marked for translation in those pages (their templates, the Python of `connect`,
  the app-refusal sentences of tenants.remote_reasons and the settings messages of
  tenants.settings_messages) has a translation in every
  catalogue under locale/, neither empty nor fuzzy. The texts are read from the sources here,
  in Python (no GNU gettext needed), the way Django looks them up when it renders.
- No visible text in those templates is left unmarked (outside translation tags).
- Each committed `.mo` says what its `.po` says (`make messages` compiles them).
- A translation keeps its msgid's placeholders.
"""

import ast
import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import Engine
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils.translation import trim_whitespace

ROOT = Path(settings.BASE_DIR)
LOCALE_DIR = ROOT / "locale"
# What end customers see. New connect pages and modules are covered as they are added.
TEMPLATES = sorted(
    [
        ROOT / "templates" / "base.html",
        ROOT / "templates" / "unavailable.html",
        *(ROOT / "templates" / "connect").rglob("*.html"),
    ]
)
PYTHON = sorted(
    [
        *(ROOT / "connect").rglob("*.py"),
        ROOT / "tenants" / "remote_reasons.py",
        ROOT / "tenants" / "settings_messages.py",
    ]
)
TRANSLATED_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
HOW_TO_FIX = (
    "Run `make messages` (it adds new texts to locale/<lang>/LC_MESSAGES/django.po), write "
    "their translations there (German: formal, 'Sie'), remove any '#, fuzzy' mark after "
    "checking the entry, and run `make messages` again to compile the .mo (docs/i18n.md)."
)

_GETTEXT = {
    "gettext": (0, None, None),
    "gettext_lazy": (0, None, None),
    "gettext_noop": (0, None, None),
    "_": (0, None, None),
    "ngettext": (0, 1, None),
    "ngettext_lazy": (0, 1, None),
    "pgettext": (1, None, 0),
    "pgettext_lazy": (1, None, 0),
    "npgettext": (1, 2, 0),
    "npgettext_lazy": (1, 2, 0),
}


def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def python_messages(path: Path) -> set[tuple[str | None, str, str]]:
    """(context, msgid, msgid_plural) of every gettext call with literal arguments."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in _GETTEXT:
            continue
        singular, plural, context = _GETTEXT[name]
        args = [_literal(a) for a in node.args]
        if len(args) <= singular or args[singular] is None:
            continue
        found.add(
            (
                args[context] if context is not None else None,
                args[singular],
                args[plural] if plural is not None and len(args) > plural else "",
            )
        )
    return found


def _context(node) -> str | None:
    return node.message_context.var if node.message_context is not None else None


def template_messages(path: Path) -> set[tuple[str | None, str, str]]:
    """The msgids Django looks up when it renders the template's translation tags."""
    template = Engine.get_default().from_string(path.read_text())
    found = set()
    for node in template.nodelist.get_nodes_by_type(TranslateNode):
        literal = node.filter_expression.var.literal
        if isinstance(literal, str):
            # As Variable._resolve passes it to gettext.
            found.add((_context(node), literal.replace("%", "%%"), ""))
    for node in template.nodelist.get_nodes_by_type(BlockTranslateNode):
        singular, _vars = node.render_token_list(node.singular)
        plural = node.render_token_list(node.plural)[0] if node.plural else ""
        if node.trimmed:
            singular, plural = trim_whitespace(singular), trim_whitespace(plural)
        found.add((_context(node), singular, plural))
    return found


def source_messages() -> dict[tuple[str | None, str, str], str]:
    """Every message of the end customer's pages, with the first file that uses it."""
    messages: dict = {}
    for path in TEMPLATES:
        for message in template_messages(path):
            messages.setdefault(message, str(path.relative_to(ROOT)))
    for path in PYTHON:
        for message in python_messages(path):
            messages.setdefault(message, str(path.relative_to(ROOT)))
    return messages


def _translated(entry) -> bool:
    if entry.obsolete or "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def test_the_sources_are_read():
    """The extraction itself finds what it must (else the completeness test proves nothing)."""
    messages = source_messages()

    assert (None, "Connect your apps", "") in messages
    assert ("connection checked at", "Checked", "") in messages
    assert (None, "Connect %(app)s", "") in messages
    assert (
        None,
        "%(done)s of %(total)s app connected",
        "%(done)s of %(total)s apps connected",
    ) in messages
    assert (None, "Setting up your integration stopped at “%(step)s”.", "") in messages
    assert (None, "{app} did not accept these details.", "") in messages
    assert len(messages) > 100


def untranslated(po_path: Path, messages: dict) -> list[str]:
    """One line per message the catalogue does not translate: where it is used, the msgid,
    its context, and whether the entry is absent, empty or fuzzy."""
    entries = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(po_path))}
    missing = []
    for (context, msgid, plural), where in sorted(messages.items(), key=lambda item: item[1]):
        entry = entries.get((context, msgid))
        if entry is not None and _translated(entry) and (not plural or entry.msgid_plural):
            continue
        state = "absent" if entry is None else "fuzzy" if "fuzzy" in entry.flags else "empty"
        label = f"{msgid!r}" + (f" [context {context!r}]" if context else "")
        missing.append(f"  {where}: {label} ({state})")
    return missing


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_text_of_the_pages_is_translated(language):
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    assert po_path.exists(), f"{po_path.relative_to(ROOT)} is missing. {HOW_TO_FIX}"

    missing = untranslated(po_path, source_messages())

    assert not missing, (
        f"{len(missing)} text(s) of the end customer's pages have no {language} translation "
        f"in {po_path.relative_to(ROOT)}:\n" + "\n".join(missing) + "\n" + HOW_TO_FIX
    )


def test_an_untranslated_text_is_named_with_where_it_is_used(tmp_path):
    catalogue = polib.POFile()
    catalogue.append(polib.POEntry(msgid="Cancel", msgstr="Abbrechen"))
    catalogue.append(polib.POEntry(msgid="Continue", msgstr="Weiter", flags=["fuzzy"]))
    catalogue.append(polib.POEntry(msgid="Checked", msgctxt="connection checked at"))
    catalogue.save(str(tmp_path / "django.po"))
    messages = {
        (None, "Cancel", ""): "templates/connect/_slot.html",
        (None, "Continue", ""): "templates/connect/form.html",
        ("connection checked at", "Checked", ""): "templates/connect/_slot.html",
        (None, "Runs", ""): "templates/connect/portal/runs.html",
    }

    assert untranslated(tmp_path / "django.po", messages) == [
        "  templates/connect/_slot.html: 'Checked' [context 'connection checked at'] (empty)",
        "  templates/connect/form.html: 'Continue' (fuzzy)",
        "  templates/connect/portal/runs.html: 'Runs' (absent)",
    ]


class _VisibleText(HTMLParser):
    """Text a person sees or hears, in a template whose tags were replaced by a mark."""

    ATTRIBUTES = {"aria-label", "title", "alt", "placeholder", "value", "data-busy-label"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            wanted = name in self.ATTRIBUTES or name.startswith("data-text-")
            # An input's value is data (a token, a slot key), not a text of the page; so is a
            # button's, which is submitted but never shown (its content is what it says).
            if wanted and value and tag not in ("input", "button"):
                self._check(f'{tag}[{name}]="{value}"', value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data.strip(), data)

    def _check(self, shown, text):
        if re.search(r"[^\W\d_]{2,}", text.replace(_MARK, " ")):
            self.found.append(shown)


_MARK = "\u2063"  # invisible separator: stands for what the template language renders
_BLOCK_TRANSLATE = re.compile(
    r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S
)
_TAGS = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)


def unmarked_texts(path: Path) -> list[str]:
    source = _BLOCK_TRANSLATE.sub(_MARK, path.read_text())
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", source, flags=re.S)
    parser = _VisibleText()
    parser.feed(_TAGS.sub(_MARK, source))
    return parser.found


def test_unmarked_text_is_found():
    """The check below can fail: it finds plain text and a plain attribute."""
    probe = ROOT / "var" / "i18n-probe.html"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(
        '{% load i18n %}<p title="Plain title">{% translate "Marked" %}</p><p>Plain text</p>'
        "<p>{% blocktranslate %}Also {{ marked }}{% endblocktranslate %} · {{ value }}</p>"
    )
    try:
        assert unmarked_texts(probe) == ['p[title]="Plain title"', "Plain text"]
    finally:
        probe.unlink()


def test_no_visible_text_of_the_pages_is_left_unmarked():
    unmarked = {
        str(path.relative_to(ROOT)): texts for path in TEMPLATES if (texts := unmarked_texts(path))
    }

    assert not unmarked, (
        "Text that end customers see must be inside {% translate %} or {% blocktranslate %} "
        f"(and then translated, see test_every_text_of_the_pages_is_translated): {unmarked}"
    )


def _compile_script():
    spec = importlib.util.spec_from_file_location(
        "compile_messages", ROOT / "scripts" / "compile_messages.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_compiled_catalogue_matches_its_source():
    compiler = _compile_script()
    po_files = compiler.po_files()

    stale = [str(p.relative_to(ROOT)) for p in po_files if not compiler.is_current(p)]

    assert {p.parent.parent.name for p in po_files} >= set(TRANSLATED_LANGUAGES)
    assert not stale, (
        f"The compiled .mo of {stale} no longer matches its .po: run `make messages` "
        "(or `python scripts/compile_messages.py`) and commit the .mo."
    )


def test_a_stale_compiled_catalogue_is_noticed(tmp_path):
    compiler = _compile_script()
    po_path = tmp_path / "django.po"
    catalogue = polib.POFile()
    catalogue.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    catalogue.append(polib.POEntry(msgid="Cancel", msgstr="Abbrechen"))
    catalogue.save(str(po_path))
    catalogue.save_as_mofile(str(tmp_path / "django.mo"))
    assert compiler.is_current(po_path)

    catalogue[0].msgstr = "Abbruch"
    catalogue.save(str(po_path))

    assert not compiler.is_current(po_path)


_PLACEHOLDERS = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_translations_keep_their_placeholders(language):
    catalogue = polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))
    wrong = []
    for entry in catalogue.translated_entries():
        expected = sorted(set(_PLACEHOLDERS.findall(entry.msgid)))
        for text in [entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values():
            if sorted(set(_PLACEHOLDERS.findall(text))) != expected:
                wrong.append((entry.msgid, text))

    assert wrong == []
