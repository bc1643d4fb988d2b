"""Every user-facing string is extracted and translated into English (no fuzzy, no empty entry)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "app" / "locales" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "pgettext": ((1, "c"), 2)}
METHOD_MAP = [("app/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]


def source_messages() -> set[str]:
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords=KEYWORDS, options_map={"templates/**.txt": {"autoescape": "false"}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_english_catalogue_is_complete() -> None:
    with PO_FILE.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    missing = sorted(m for m in source_messages() if m not in catalog or not catalog[m].string)
    untranslated = sorted(
        str(m.id) for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    )
    fuzzy = sorted(str(m.id) for m in catalog if m.id and m.fuzzy)
    assert not missing, f"{len(missing)} strings are not in the English catalogue (run `make messages`): {missing[:20]}"
    assert not untranslated, f"{len(untranslated)} untranslated entries: {untranslated[:20]}"
    assert not fuzzy, f"fuzzy entries: {fuzzy[:20]}"
