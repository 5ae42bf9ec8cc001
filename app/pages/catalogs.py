"""The catalogs' upkeep: ``scripts/i18n extract | update | check | init <language> | pseudo``.

- ``extract``: every message of the templates, the pages' code, the format files and the
  core's word tables (babel.cfg) into app/locale/messages.pot, sorted, without line numbers (so
  two branches that add messages rarely conflict).
- ``update``: every app/locale/<language>/LC_MESSAGES/messages.po brought in line with the .pot
  (new messages untranslated, gone ones dropped).
- ``check``: the .pot is what extraction gives now (no new, no stale msgid), and each shipped
  language has every message translated, none fuzzy, none obsolete. Incomplete languages are
  listed; they fail the check only with ``--strict`` (or TP_I18N_STRICT=1).
- ``init <language>``: a new, empty catalog for a language (docs/translating.md).
- ``pseudo``: the pseudo-locales as .po files under build/pseudo-locale/, to read.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from app.pages.i18n import LOCALE_DIR, POT, PSEUDO, SOURCE, stray_percent, tag
from app.pages.pseudo import pseudo_catalog

# The checkout: extraction reads its sources as babel.cfg names them, from here. A catalogs'
# chore for a source tree; the installed app only reads the catalogs (app.resources).
ROOT = Path(__file__).resolve().parents[2]
PROJECT = "Talking Piece"
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # the header's dates stay put: no diff on every extract


def extracted() -> Catalog:
    """What extraction gives now."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(ROOT / "babel.cfg"))
    catalog = Catalog(project=PROJECT, creation_date=FIXED_DATE, revision_date=FIXED_DATE,
                      msgid_bugs_address="", copyright_holder="", fuzzy=False)
    cwd = os.getcwd()
    sys.path.insert(0, str(ROOT))
    try:
        os.chdir(ROOT)
        for filename, lineno, message, comments, context in extract_from_dir(
                ".", method_map, options_map, keywords={"_": None, "N_": None, "gettext": None,
                                                        "ngettext": (1, 2), "pgettext": ((1, "c"), 2)},
                comment_tags=("Translators:",), strip_comment_tags=True):
            catalog.add(message, None, [(filename, None)], auto_comments=comments, context=context)
    finally:
        os.chdir(cwd)
        sys.path.remove(str(ROOT))
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, sort_output=True, include_lineno=False, ignore_obsolete=True, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def catalog_paths() -> dict[str, Path]:
    """The shipped languages' catalogs, by language tag (English is the source: no catalog)."""
    return {tag(p.parent.parent.name): p for p in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po"))
            if tag(p.parent.parent.name) != SOURCE}


def ids(catalog: Catalog) -> set[tuple[str | tuple[str, ...], str | None]]:
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context) for m in catalog if m.id}


def extract() -> Path:
    _write(extracted(), POT)
    return POT


def update() -> list[Path]:
    template = _read(POT)
    done = []
    for code, path in catalog_paths().items():
        catalog = _read(path, code.replace("-", "_"))
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write(catalog, path)
        done.append(path)
    return done


def init(code: str) -> Path:
    code = tag(code)
    path = LOCALE_DIR / code.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    if path.exists():
        raise SystemExit(f"{path} exists already: translate it, or run scripts/i18n update")
    catalog = Catalog(locale=code.replace("-", "_"), project=PROJECT, creation_date=FIXED_DATE,
                      revision_date=FIXED_DATE, fuzzy=False)
    catalog.update(_read(POT), no_fuzzy_matching=True)
    _write(catalog, path)
    return path


@dataclass
class Language:
    code: str
    total: int = 0
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)      # in the catalog, not in the .pot
    missing: list[str] = field(default_factory=list)    # in the .pot, not in the catalog
    bad_placeholders: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.untranslated or self.fuzzy or self.obsolete or self.stale or self.missing
                    or self.bad_placeholders)

    def line(self) -> str:
        if self.complete:
            return f"{self.code}: complete ({self.total} messages)"
        parts = [f"{len(v)} {k}" for k, v in (("untranslated", self.untranslated), ("fuzzy", self.fuzzy),
                                                ("obsolete", self.obsolete), ("not in the .pot", self.stale),
                                                ("missing", self.missing),
                                                ("with wrong placeholders", self.bad_placeholders)) if v]
        return f"{self.code}: INCOMPLETE, " + ", ".join(parts) + f" of {self.total}"


def _placeholders(text: str) -> set[str]:
    import re
    return set(re.findall(r"%\([a-z_]+\)[sd]", text))


def language_report(code: str, path: Path, template: Catalog) -> Language:
    catalog = _read(path, code.replace("-", "_"))
    report = Language(code, total=len([m for m in template if m.id]))
    wanted, have = ids(template), ids(catalog)
    report.missing = sorted(str(i[0]) for i in wanted - have)
    report.stale = sorted(str(i[0]) for i in have - wanted)
    report.obsolete = sorted(str(m.id) for m in catalog.obsolete.values())
    for message in catalog:
        if not message.id:
            continue
        name = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy:
            report.fuzzy.append(name)
        if not all(strings):
            report.untranslated.append(name)
        elif any(_placeholders(s) - _placeholders("".join(message.id if isinstance(message.id, tuple) else [message.id]))
                 or stray_percent(s) for s in strings):
            report.bad_placeholders.append(name)
    return report


def check(strict: bool = False) -> tuple[bool, list[str]]:
    """(passed, lines to print)."""
    lines: list[str] = []
    now, template = extracted(), _read(POT)
    new, gone = ids(now) - ids(template), ids(template) - ids(now)
    ok = not new and not gone
    if new:
        lines.append(f"messages.pot is out of date: {len(new)} new message(s), e.g. {sorted(map(str, new))[:3]}")
    if gone:
        lines.append(f"messages.pot is out of date: {len(gone)} stale message(s), e.g. {sorted(map(str, gone))[:3]}")
    if not new and not gone:
        lines.append(f"messages.pot is up to date ({len(ids(template))} messages)")
    if not ok:
        lines.append("run scripts/i18n extract, then scripts/i18n update")
    for code, path in catalog_paths().items():
        report = language_report(code, path, template)
        lines.append(report.line())
        if report.bad_placeholders or (strict and not report.complete):
            ok = False
    return ok, lines


def pseudo() -> list[Path]:
    out = []
    for code, locale in PSEUDO.items():
        path = ROOT / "build" / "pseudo-locale" / code / "LC_MESSAGES" / "messages.po"
        _write(pseudo_catalog(code, POT, locale), path)
        out.append(path)
    return out


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "extract":
        print(f"wrote {extract().relative_to(ROOT)}")
    elif command == "update":
        for path in update():
            print(f"updated {path.relative_to(ROOT)}")
    elif command == "init" and len(argv) == 2:
        print(f"wrote {init(argv[1]).relative_to(ROOT)}: translate it, then scripts/i18n check")
    elif command == "check":
        strict = "--strict" in argv or os.environ.get("TP_I18N_STRICT", "") in {"1", "true", "yes"}
        ok, lines = check(strict)
        print("\n".join(lines))
        return 0 if ok else 1
    elif command == "pseudo":
        for path in pseudo():
            print(f"wrote {path.relative_to(ROOT)}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
