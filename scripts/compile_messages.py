"""Compile every `locale/*/LC_MESSAGES/*.po` into its `.mo`, in pure Python (polib).

Django's `compilemessages` needs GNU gettext's `msgfmt`, which a fresh machine may not have;
the compiled catalogues are committed so that a clone works as it is, and `make messages`
runs this after `makemessages`. tests/connect/test_i18n.py fails when a `.mo` no longer says
what its `.po` says.

Usage: python scripts/compile_messages.py [--check]
  --check  compile nothing; exit 1 and name the catalogues whose .mo is out of date
"""

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogue_entries(catalogue) -> dict:
    """What a catalogue translates: {(context, msgid, msgid_plural): translation(s)}.

    Fuzzy and untranslated entries are left out, as msgfmt leaves them out of a .mo.
    """
    entries = {}
    for entry in catalogue:
        if entry.obsolete or "fuzzy" in entry.flags:
            continue
        if entry.msgid_plural:
            forms = tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural))
            if not all(forms):
                continue
            entries[(entry.msgctxt, entry.msgid, entry.msgid_plural)] = forms
        elif entry.msgstr:
            entries[(entry.msgctxt, entry.msgid, "")] = entry.msgstr
    return entries


def po_files() -> list[Path]:
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def is_current(po_path: Path) -> bool:
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return False
    return catalogue_entries(polib.pofile(str(po_path))) == catalogue_entries(
        polib.mofile(str(mo_path))
    )


def compile_all() -> list[Path]:
    written = []
    for po_path in po_files():
        catalogue = polib.pofile(str(po_path))
        # msgfmt leaves fuzzy entries out; so must we, or a guess would reach the pages.
        for entry in catalogue:
            if "fuzzy" in entry.flags and entry.msgid:
                entry.msgstr = ""
                entry.msgstr_plural = {k: "" for k in entry.msgstr_plural}
        catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
        written.append(po_path.with_suffix(".mo"))
    return written


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = [p for p in po_files() if not is_current(p)]
        for path in stale:
            print(f"{path.relative_to(LOCALE_DIR.parent)}: its .mo is out of date")
        return 1 if stale else 0
    for path in compile_all():
        print(f"compiled {path.relative_to(LOCALE_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
