"""The catalogs in CI: messages.pot is what extraction gives now, and each shipped language
is complete (scripts/i18n check; docs/translating.md).

Every shipped language (every catalog file present) has every message translated, none
fuzzy, none obsolete: a page that shows a person English in the middle of their own language
fails here. Placeholders a translation drops or invents fail it too: such a page would break.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.pages import catalogs
from app.pages.i18n import POT

def test_the_template_has_every_message_and_nothing_stale() -> None:
    now, kept = catalogs.ids(catalogs.extracted()), catalogs.ids(catalogs._read(POT))
    new, stale = sorted(map(str, now - kept)), sorted(map(str, kept - now))
    assert not new and not stale, (f"run scripts/i18n extract && scripts/i18n update: "
                                   f"new {new[:5]}, stale {stale[:5]}")
    assert len(kept) > 500  # the templates, scripts' words, pages, formats and the core's tables


def test_the_template_covers_the_formats_the_core_and_the_scripts() -> None:
    kept = {str(i[0]) for i in catalogs.ids(catalogs._read(POT))}
    for msgid in ("Balint group", "How are you arriving today?",  # a format's title and a prompt
                  "What happened?", "a phone number", "still going",  # the core's word tables
                  "Reconnecting…", "Share of voice: %(people)s", "Not started"):  # scripts, pages, model
        assert msgid in kept, msgid


@pytest.mark.parametrize("code", sorted(catalogs.catalog_paths()))
def test_each_shipped_language_is_complete(code: str) -> None:
    report = catalogs.language_report(code, catalogs.catalog_paths()[code], catalogs._read(POT))
    assert not report.missing and not report.stale and not report.bad_placeholders, report.line()
    assert report.complete, report.line()


def test_the_check_passes_and_names_every_shipped_language() -> None:
    ok, lines = catalogs.check(strict=True)
    assert ok, "\n".join(lines)
    assert {line.split(":")[0] for line in lines[1:]} >= {"cy", "fr", "es", "pl"}


def test_a_translation_with_a_lone_percent_sign_fails_the_check(tmp_path: Path) -> None:
    """The pages fill every message with its values, so "100 %" in one language's words would
    break that language's page alone: the check names it, as it names a wrong placeholder."""
    template = catalogs._read(POT)
    source = catalogs.catalog_paths()["fr"].read_text(encoding="utf-8")
    broken = tmp_path / "messages.po"
    msgid = 'msgid "Share of voice: %(people)s"\nmsgstr "'
    assert msgid in source
    broken.write_text(source.replace(msgid, msgid + "100 % ", 1), encoding="utf-8")
    report = catalogs.language_report("fr", broken, template)
    assert report.bad_placeholders == ["Share of voice: %(people)s"], report.line()
