"""The CPD record, the report link and a one-to-one's agreed actions in the reader's language:
every word the record lays out (the NMC's and Social Work England's headings, roles, statuses,
its sentences and counts) goes through the reader's gettext, and in the pseudo-locale en-XA no
English is left on the CPD page, in its Markdown or in the report link's words. No server."""

from __future__ import annotations

import re
import tempfile

from fastapi.testclient import TestClient

from app.config import AppSettings
from app.facilitation import cpd
from app.main import create_app
from app.pages import i18n
from app.pages.templates import render_block
from tests.test_cpd_core import closed_meeting

REFLECTION = {"description": "Handover went badly.", "feelings": "Anxious.", "evaluation": "",
              "analysis": "Rushed.", "conclusion": "Ask earlier.", "action_plan": "Pause first."}
WRITTEN = ("Handover went badly.", "Anxious.", "Rushed.", "Ask earlier.", "Pause first.",
           "Write up the near miss", "Phone the hospice")




def entry(minutes: int | None = None) -> dict:
    made = {**cpd.entries_at_close(closed_meeting())["m0"], "reflection": REFLECTION}
    return made if minutes is None else {**made, "minutes": minutes}


def english_left(text: str) -> list[str]:
    """Runs of plain English words (three or more ASCII letters) outside what the member wrote."""
    for written in WRITTEN:
        text = text.replace(written, "")
    return re.findall(r"\b[A-Za-z]{3,}(?:\s+[A-Za-z]{3,})+\b", text)


def test_every_word_the_record_lays_out_goes_through_the_readers_gettext() -> None:
    seen: list[str] = []

    def _(message: str) -> str:
        seen.append(message)
        return f"<{message}>"

    def ngettext(one: str, many: str, n: int) -> str:
        seen.append(one)
        return f"<{one if n == 1 else many}>"

    rec = cpd.record_of([entry()], _, ngettext)
    laid = rec["entries"][0]
    assert [h["heading"] for h in laid["nmc"]] == [f"<{h}>" for _k, h in cpd.NMC_HEADINGS]
    assert [h["heading"] for h in laid["swe"]] == [f"<{h}>" for _k, h in cpd.SWE_HEADINGS]
    assert laid["role_words"] == "<member>" and laid["role"] == "member"  # the key stays for programs
    assert laid["reviewed"][0]["status_words"] == "<done>"
    assert rec["themes"] == [f"<{t}>" for t in cpd.NMC_THEMES.values()]
    md = cpd.to_markdown(rec, _, ngettext)
    for line in md.splitlines():
        if line and not line.startswith("|---") and not any(w in line for w in WRITTEN):
            # a line that carries a format's title is Markdown-escaped whole: its marks read &lt; &gt;
            assert "<" in line or "&lt;" in line, f"not translated: {line!r}"
    assert "<In all: <1 meeting>, <30 minutes>.>" in md
    assert "<A reflective practice group (<Check-in and check-out>), 30 minutes, as a member.>" in str(laid["nmc"])


def test_a_count_of_one_is_singular_in_english() -> None:
    rec = cpd.record_of([entry(minutes=1)])
    assert rec["entries"][0]["nmc"][0]["paragraphs"][0] == \
        "A reflective practice group (Check-in and check-out), 1 minute, as a member."
    assert "In all: 1 meeting, 1 minute." in cpd.to_markdown(rec)
    two = cpd.to_markdown(cpd.record_of([entry(), {**entry(), "id": "other", "at": 99.0}]))
    assert "In all: 2 meetings, 60 minutes." in two


def test_no_english_is_left_on_the_cpd_page_or_in_its_markdown_in_the_pseudo_locale(pseudo: None) -> None:
    words = i18n.translations("en-XA")
    unwritten = {**entry(), "id": "later", "at": 99.0, "reflection": None}  # every heading "Not written."
    rec = cpd.record_of([entry(), unwritten], words.gettext, words.ngettext)
    page = render_block("cpd.html", "content", lang="en-XA", shell=False, c=rec)
    shown = re.sub(r"<[^>]+>", " ", page)
    assert "[Ṁý ÇÞÐ ŕéçöŕð" in shown or "Ṁý" in shown
    assert english_left(shown) == [], english_left(shown)
    md = cpd.to_markdown(rec, words.gettext, words.ngettext)
    assert english_left(md) == [], english_left(md)
    empty = render_block("cpd.html", "content", lang="en-XA", shell=False, c=cpd.record_of([], words.gettext))
    assert english_left(re.sub(r"<[^>]+>", " ", empty)) == []


def test_the_cpd_and_record_shells_show_no_english_in_the_pseudo_locale(pseudo: None) -> None:
    with TestClient(create_app(AppSettings(data_dir=tempfile.mkdtemp(), sessions_db="off"))) as client:
        for path in ("/cpd/somegroup?lang=en-XA", "/group/somegroup?lang=en-XA"):
            page = client.get(path).text
            assert '<html lang="en-XA"' in page
            body = re.sub(r"<script.*?</script>", " ", page.split("<body", 1)[1].split(">", 1)[1], flags=re.S)
            nav = body.split("</nav>", 1)[0]  # the tools: buttons, the report link, the hidden sentences
            shown = re.sub(r"<[^>]+>", " ", nav)
            assert english_left(shown) == [], (path, english_left(shown))
        english = client.get("/group/somegroup", headers={"accept-language": "en"}).text
        assert "Create a report link" in english and "Revoke the report link" in english
