"""Markup and format strings in every free text a session, a format file and a group carry.

Whatever a person or a file writes is text wherever it goes: a form, an image with a
handler, a script, a template expression and printf-style ``%`` in a custom format's titles
and prompts, its evaluation statements, a group's name and statements, the session's title,
people's names, items, actions, proposals, evaluation notes, a co-facilitator's name and a
private reflection come out as the characters written, never as elements, and never break a
page. A session with all of them runs through every phase (and breakouts, a second meeting
of the group with carried actions, and closing) on a real server, in both store modes, and
every page, every region pushed over the pages' socket (``/live/{code}``), every print page
in every shipped language, the Markdown downloads and the CSV are checked:

- no element, attribute or script from data: the injected tags all carry ``data-injected``
  and an ``on…`` handler, and a parse of the output (``html.parser``) finds neither;
- no 500 and no region left out: a ``%`` in a phase title is a percent sign
  ("Discussion (100% honest)" shows as written);
- the Markdown renders the written text literally (no HTML, no link from data);
- no CSV cell a spreadsheet would run as a formula, even behind a byte order mark, a
  zero-width space or a full-width equals sign.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import websockets
from jinja2 import TemplateSyntaxError
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from app.live.htmx import PAGES
from app.pages.i18n import shipped, speaking, translations
from app.pages.markup import escape as page_escape
from app.pages.templates import filled, templates
from app.resources import LOCALE, TEMPLATES
from tests.support.client import Api, bearer
from tests.support.server import ServerProcess

# Every injected element carries data-injected: an element with it in any output came from data.
FORM = '<form data-injected hx-post="/api/sessions" hx-trigger="load"><input name="text"></form>'
IMG = '<img data-injected src=x onerror="alert(1)">'
SCRIPT = "<script data-injected>alert(2)</script>"
SVG = '<svg data-injected onload="alert(3)">'
TEMPLATE = "{{7*7}}{% raw %}"
PERCENT = "%s %(x)s %d 100%"
MARKDOWN = "[a](javascript:alert(4)) *b* `c` | d"
PIECES = [IMG, PERCENT, SCRIPT, TEMPLATE, FORM, SVG, MARKDOWN]
HONEST = "Discussion (100% honest)"


def gettext_in(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def text(label: str, limit: int, lead: str = "") -> str:
    """``lead``, a label to find it by, and as many of the pieces as ``limit`` allows."""
    out = f"{lead}{label}"
    for piece in PIECES:
        if len(out) + 1 + len(piece) <= limit:
            out += " " + piece
    return out


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


# Statements with a formula behind an invisible or full-width character, for the CSV.
STATEMENTS = [text("S1", 200, "\ufeff=HYPERLINK(\"http://x\") "), text("S2", 200, "\uff1d1+1 "),
              text("S3", 200, "\u200b@SUM(1) ")]
FORMAT_STATEMENTS = [text("F1", 200, "\uff0b1 "), text("F2", 200, "\uff20A1 "), text("F3", 200, "\uff0d2 ")]
PHASES = [  # (id, title, kind, purpose, extra)
    ("check-in", text("P1", 120), "round", "check-in", "wellbeing = true\nreview_actions = true\n"),
    ('w"><img data-injected src=x onerror=alert(5)>%s', text("P2", 120), "writing", "feedback", ""),
    ("discuss", HONEST, "queue", "discussion", ""),
    ("pairs", text("P4", 120), "queue", "discussion", "breakout = true\n"),
    ("plans", text("P5", 120), "writing", "actions", ""),
    ("check-out", text("P6", 120), "round", "check-out", "wellbeing = true\n"),
]


def format_toml(statements: list[str]) -> str:
    lines = [f"id = {toml_string(text('ID', 64))}", f"title = {toml_string(text('FT', 120, chr(0xFF1D)))}",
             f"summary = {toml_string(text('FS', 1000))}",
             f"evaluation = [{', '.join(toml_string(s) for s in statements)}]", "",
             "[breakouts]", "size = 2", ""]
    for n, (pid, title, kind, purpose, extra) in enumerate(PHASES, 1):
        lines += ["[[phases]]", f"id = {toml_string(pid)}", f"title = {toml_string(title)}", f'kind = "{kind}"',
                  f'purpose = "{purpose}"', f"prompt = {toml_string(text(f'Q{n}', 300))}", "duration_s = 600",
                  extra]
    return "\n".join(lines)


# ------------------------------------------------------------------ reading what the server sends

URLS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}  # attributes a browser follows
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Elements(HTMLParser):
    """Every element of a document or fragment, the ids of the outermost ones (a frame's
    regions), and the text of its scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.outermost: list[str | None] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if self._depth == 0:
            self.outermost.append(dict(attrs).get("id"))
        if tag not in VOID:
            self._depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if self._depth == 0:
            self.outermost.append(dict(attrs).get("id"))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False
        if tag not in VOID:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def parsed(html: str) -> Elements:
    found = Elements()
    found.feed(html)
    found.close()
    return found


def assert_inert(html: str, where: str) -> Elements:
    """Nothing in ``html`` is an element, an attribute or a script that data brought."""
    found = parsed(html)
    for tag, attrs in found.tags:
        names = {name for name, _ in attrs}
        assert "data-injected" not in names, (where, tag, attrs)
        assert not {n for n in names if n.startswith("on")}, (where, tag, attrs)
        assert not any(value and "javascript:" in value for name, value in attrs
                       if name in URLS or name.startswith("hx-")), (where, tag, attrs)
    assert not any("alert(" in s for s in found.scripts), (where, found.scripts)
    return found


def shown_text(html: str) -> str:
    return " ".join(parsed(html).text)


async def first_regions(server: ServerProcess, code: str, token: str, lang: str = "en") -> str:
    """What the pages' socket sends a viewer as it opens: every live region of their page."""
    url = f"{server.ws_base}/live/{code}?token={token}&lang={lang}"
    async with websockets.connect(url, open_timeout=5, max_size=None) as ws:
        return str(await asyncio.wait_for(ws.recv(), 5))


class Pushes:
    """A pages' socket held open for the whole session: every region it is pushed."""

    def __init__(self, server: ServerProcess, code: str, token: str, role: str) -> None:
        self.url, self.role, self.frames = f"{server.ws_base}/live/{code}?token={token}", role, []
        self.task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async with websockets.connect(self.url, open_timeout=5, max_size=None) as ws:
            async for frame in ws:
                self.frames.append(str(frame))

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


# ------------------------------------------------------------------ the session

class Run:
    """Everything the server sent while the injected session ran: pages and regions (HTML),
    Markdown files, CSV files, and the statuses of every answer."""

    def __init__(self) -> None:
        self.html: dict[str, str] = {}
        self.regions: dict[str, tuple[str, str]] = {}  # where -> (role, first frame)
        self.pushed: list[tuple[str, str]] = []  # (role, frame)
        self.markdown: dict[str, str] = {}
        self.csv: dict[str, str] = {}
        self.statuses: dict[str, int] = {}

    def get(self, http: httpx.Client, where: str, path: str, token: str | None = None) -> httpx.Response:
        answer = http.get(path, headers=bearer(token))
        self.statuses[where] = answer.status_code
        return answer


async def run_session(server: ServerProcess) -> Run:
    run = Run()
    api = Api(server.base_url)
    http = api.http
    loop = asyncio.get_running_loop()

    async def call(fn: Any, *args: Any) -> Any:  # the blocking client off the loop, so the sockets keep reading
        return await loop.run_in_executor(None, fn, *args)

    async def regions(label: str, code: str, viewers: dict[str, tuple[str, str]]) -> None:
        for who, (role, token) in viewers.items():
            for lang in ("en", "pl"):
                run.regions[f"{label} {who} {lang}"] = (role, await first_regions(server, code, token, lang))

    # A recurring group with its own statements, and a session of it with a custom format.
    group = await call(lambda: api.request("POST", "/api/groups", json={"name": text("G", 120)}).json())
    gid, gkey = group["group_id"], group["group_key"]
    answer = await call(lambda: api.request("PUT", f"/api/groups/{gid}/evaluation", gkey,
                                            json={"statements": STATEMENTS}))
    assert answer.status_code == 200, answer.text
    answer = await call(lambda: api.request("POST", f"/api/groups/{gid}/sessions", gkey,
                                            json={"title": text("T", 120), "format_toml": format_toml(
                                                FORMAT_STATEMENTS)}))
    assert answer.status_code == 201, answer.text
    created = answer.json()
    code, fac, screen = created["code"], created["facilitator_token"], created["screen_token"]
    people = [await call(api.join, code, text(f"N{i}", 60)) for i in range(4)]
    viewers = {"console": ("facilitator", fac), "screen": ("screen", screen),
               **{f"phone{i}": ("participant", p["token"]) for i, p in enumerate(people)}}
    pushes = [Pushes(server, code, token, role) for role, token in viewers.values()]
    for p in pushes:
        p.start()

    def ok(token: str, command: dict[str, Any]) -> dict[str, Any]:
        return api.ok(code, token, command)

    async def send(token: str, command: dict[str, Any]) -> dict[str, Any]:
        return await call(ok, token, command)

    def settled(predicate: Any) -> None:
        api.view_when(code, fac, predicate)

    invited = await send(fac, {"type": "invite_cofacilitator", "name": text("C", 60)})
    viewers["cofacilitator"] = ("facilitator", invited["token"])
    await send(fac, {"type": "set_rota", "participant_ids": [p["participant_id"] for p in people]})
    await regions("lobby", code, viewers)

    # The check-in: a round, the wellbeing scale shown, the prompt.
    await send(fac, {"type": "start"})
    await send(fac, {"type": "start_round", "seconds_per_turn": 60})
    for i, p in enumerate(people):
        await send(p["token"], {"type": "rate_wellbeing", "score": 1 + i})
    await call(settled, lambda v: v["wellbeing"] and v["wellbeing"][0]["answered"] == 4)
    await send(fac, {"type": "show_wellbeing"})
    await regions("check-in", code, viewers)

    # Writing: items revealed and voted on, a word afterwards asked for.
    await send(fac, {"type": "next_phase"})
    for i, p in enumerate(people):
        for kind in ("question", "feedback"):
            await send(p["token"], {"type": "submit_item", "kind": kind, "text": text(f"I{kind[0]}{i}", 1000),
                                    "confirmed": True})
        await send(p["token"], {"type": "request_word"})
    await call(settled, lambda v: v["pending"]["question"] == 4 and v["pending"]["feedback"] == 4)
    await send(fac, {"type": "reveal_items", "kind": "question"})
    await send(fac, {"type": "reveal_items", "kind": "feedback"})
    items = (await call(api.view, code, fac))["items"]
    for p in people:
        await send(p["token"], {"type": "vote_item", "item_id": items[0]["id"]})
    await regions("writing", code, viewers)

    # The discussion whose title has a percent sign: a raised hand, the floor given.
    await send(fac, {"type": "next_phase"})
    await send(people[1]["token"], {"type": "raise_hand"})
    await send(people[2]["token"], {"type": "raise_hand"})
    await send(fac, {"type": "give_turn", "participant_id": people[1]["participant_id"]})
    await regions("discussion", code, viewers)

    # Breakouts in pairs, each pair on its own phase.
    await send(fac, {"type": "next_phase"})
    await send(fac, {"type": "start_breakouts", "size": 2})
    await regions("breakouts", code, viewers)
    await send(fac, {"type": "end_breakouts"})

    # Actions, carried; proposals for the summary, agreed.
    await send(fac, {"type": "goto_phase", "phase_id": "plans"})
    for i, p in enumerate(people):
        added = await send(p["token"], {"type": "add_action", "text": text(f"A{i}", 500), "due": "2031-01-02",
                                        "confirmed": True})
        await send(p["token"], {"type": "carry_action", "action_id": added["action_id"], "carry": True})
    proposals = [await send(fac, {"type": "propose_summary", "kind": kind, "text": text(f"R{kind}", 500),
                                  "confirmed": True}) for kind in ("theme", "change")]
    proposals.append(await send(fac, {"type": "propose_summary", "kind": "item", "item_id": items[1]["id"]}))
    proposals.append(await send(fac, {"type": "propose_summary", "kind": "names"}))
    await regions("proposed", code, viewers)
    for p in people:
        for proposal in proposals:
            await send(p["token"], {"type": "consent", "proposal_id": proposal["proposal_id"], "agree": True})

    # The check-out: the evaluation with a note from everyone, shown.
    await send(fac, {"type": "next_phase"})
    for i, p in enumerate(people):
        await send(p["token"], {"type": "evaluate", "scores": [5, 4, 3], "note": text(f"E{i}", 300),
                                "confirmed": True})
    await call(settled, lambda v: v["evaluation"]["answered"] == 4)
    await send(fac, {"type": "show_evaluation"})
    await regions("check-out", code, viewers)
    reflection = {key: text(f"X{key}", 4000) + "\n# heading\n<p data-injected onclick=x>" for key in
                  ("description", "feelings", "evaluation", "analysis", "conclusion", "action_plan")}
    answer = await call(lambda: api.request("PUT", f"/api/sessions/{code}/reflection", people[0]["token"],
                                            json={**reflection, "confirmed": True}))
    assert answer.status_code == 204, answer.text
    await send(fac, {"type": "close"})
    await regions("closed", code, viewers)

    # The pages, the print pages in every language, and the downloads.
    def pages() -> None:
        for page in ("/", f"/join/{code}", f"/console/{code}", f"/screen/{code}", f"/summary/{code}",
                     f"/reflection/{code}", f"/group/{gid}", f"/cpd/{gid}"):
            run.html[page] = run.get(http, page, page).text
        readers = {"facilitator": fac, **{f"phone{i}": p["token"] for i, p in enumerate(people)}}
        member = f"{people[0]['member_code']}"
        for lang in shipped():
            for who, token in readers.items():
                for part in ("", "&part=content"):
                    where = f"summary {who} {lang}{part}"
                    run.html[where] = run.get(http, where, f"/api/sessions/{code}/summary.html?lang={lang}{part}",
                                              token).text
            run.html[f"reflection {lang}"] = run.get(http, f"reflection {lang}",
                                                     f"/api/sessions/{code}/reflection.html?lang={lang}",
                                                     people[0]["token"]).text
            run.html[f"record {lang}"] = run.get(http, f"record {lang}", f"/api/groups/{gid}/record.html?lang={lang}",
                                                 gkey).text
            run.html[f"cpd {lang}"] = run.get(http, f"cpd {lang}", f"/api/groups/{gid}/cpd.html?lang={lang}",
                                              member).text
            for who, token in readers.items():
                where = f"summary.md {who} {lang}"
                run.markdown[where] = run.get(http, where, f"/api/sessions/{code}/summary.md?lang={lang}", token).text
            run.markdown[f"reflection.md {lang}"] = run.get(
                http, f"reflection.md {lang}", f"/api/sessions/{code}/reflection?download=md&lang={lang}",
                people[0]["token"]).text
            run.markdown[f"cpd.md {lang}"] = run.get(http, f"cpd.md {lang}", f"/api/groups/{gid}/cpd.md?lang={lang}",
                                                     member).text
        run.csv["record.csv"] = run.get(http, "record.csv", f"/api/groups/{gid}/record.csv", gkey).text

    await call(pages)

    # The group's next meeting: the members come back with their codes, and the actions
    # they carried come back with them in the review phase.
    answer = await call(lambda: api.request("POST", f"/api/groups/{gid}/sessions", gkey,
                                            json={"title": text("T2", 120), "format_toml": format_toml(
                                                FORMAT_STATEMENTS)}))
    assert answer.status_code == 201, answer.text
    again = answer.json()
    back = [await call(lambda p=p: api.request("POST", f"/api/sessions/{again['code']}/participants",
                                               json={"name": text("M", 60), "member_code": p["member_code"]}).json())
            for p in people]
    await call(api.ok, again["code"], again["facilitator_token"], {"type": "start"})
    await call(api.ok, again["code"], again["facilitator_token"], {"type": "start_round", "seconds_per_turn": 60})
    await regions("carried", again["code"], {"console": ("facilitator", again["facilitator_token"]),
                                             "screen": ("screen", again["screen_token"]),
                                             "phone0": ("participant", back[0]["token"]),
                                             "phone1": ("participant", back[1]["token"])})

    for p in pushes:
        await p.stop()
        run.pushed += [(p.role, frame) for frame in p.frames]
    api.close()
    return run


@pytest.fixture(scope="module")
def injected(server: ServerProcess) -> Iterator[tuple[ServerProcess, Run, int]]:
    logged = server.log_path.stat().st_size if server.log_path else 0
    yield server, asyncio.run(run_session(server)), logged


# ------------------------------------------------------------------ the checks

def test_no_answer_is_a_server_error(injected: tuple[ServerProcess, Run, int]) -> None:
    server, run, logged = injected
    assert {where: status for where, status in run.statuses.items() if status != 200} == {}
    if server.log_path:  # and no region failed to render on the way
        with server.log_path.open("rb") as log:
            log.seek(logged)
            written = log.read().decode(errors="replace")
        assert "Traceback" not in written and "rendering the" not in written, written[-3000:]


def test_every_page_and_print_page_shows_data_as_text(injected: tuple[ServerProcess, Run, int]) -> None:
    _, run, _ = injected
    for where, html in run.html.items():
        assert_inert(html, where)
    for lang in shipped():  # the print pages were rendered with the data in them
        shown = shown_text(run.html[f"summary phone0 {lang}"])
        assert HONEST in shown and "{{7*7}}" in shown and PERCENT in shown, lang
        assert "<script data-injected>" in shown  # the tag, as text
        assert "S1" in shown_text(run.html[f"record {lang}"])  # the group's statements, in its record
        assert text("T", 120) in shown_text(run.html[f"record {lang}"])  # and each meeting's title, as written
    assert "Evenness" in shown_text(run.html["summary facilitator en"])  # the share of voice, once people spoke


def test_every_region_is_whole_and_shows_data_as_text(injected: tuple[ServerProcess, Run, int]) -> None:
    _, run, _ = injected
    assert run.regions and run.pushed
    for where, (role, frame) in run.regions.items():
        found = assert_inert(frame, where)
        regions = PAGES[role][1]  # every region of the page, each one element with its id: none failed
        assert len(found.outermost) == len(regions) and all(found.outermost), (where, found.outermost)
    for role, frame in run.pushed:
        assert_inert(frame, f"pushed to the {role}")
    console = shown_text(run.regions["discussion console en"][1])
    assert HONEST in console and "{{7*7}}" in console  # a % in a title is a percent sign
    assert "P2" in shown_text(run.regions["writing screen en"][1])
    assert "S2" in shown_text(run.regions["check-out screen en"][1])  # the statements as the room sees them
    assert "E1" in shown_text(run.regions["check-out screen en"][1])  # and the notes
    assert "A0" in shown_text(run.regions["carried screen en"][1])  # the actions carried in


def test_the_markdown_downloads_render_data_as_written(injected: tuple[ServerProcess, Run, int]) -> None:
    _, run, _ = injected
    md = MarkdownIt("commonmark").enable("table")
    for where, source in run.markdown.items():
        assert "<script" not in source and "<img" not in source and "<form" not in source, where
        html = md.render(source)
        found = assert_inert(html, where)
        assert "a" not in {tag for tag, _ in found.tags}, where  # no link from data
        shown = " ".join(found.text)
        if where.startswith("summary.md"):
            assert IMG in shown and "*b* `c` | d" in shown and HONEST in shown, where  # literally, as written
    assert "# heading" in " ".join(parsed(md.render(run.markdown["reflection.md en"])).text)


def first_acted_on(cell: str) -> str:
    """The first character of a cell that a spreadsheet acts on (invisible ones skipped)."""
    for ch in cell:
        if ch in "\t\r":
            return ch
        if not (ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc")):
            return unicodedata.normalize("NFKC", ch)
    return ""


def test_no_csv_cell_is_a_formula(injected: tuple[ServerProcess, Run, int]) -> None:
    _, run, _ = injected
    rows = list(csv.reader(io.StringIO(run.csv["record.csv"])))
    cells = [cell for row in rows for cell in row]
    assert any("S1" in cell for cell in cells) and any("FT" in cell for cell in cells)
    assert text("T", 120) in cells  # the meeting's title, whole
    for cell in cells:
        assert first_acted_on(cell) not in {"=", "+", "-", "@", "\t", "\r"}, cell
    for statement in STATEMENTS:
        assert "'" + statement in cells  # the text kept whole, marked as text


# ------------------------------------------------------------------ by construction

@pytest.mark.parametrize("source", [
    "{{ _(title) }}", "{{ gettext(m.phase.prompt) }}", "{{ ngettext(one, 'many', n) }}",
    "{{ pgettext(where, 'word') }}", "{% trans title=_(p.title) %}{{ title }}{% endtrans %}",
    "{{ title | safe }}", "{% autoescape false %}{{ title }}{% endautoescape %}", "{{ 'Check-in' | translated }}",
    "{{ title | format(1) }}", "{{ title % 1 }}",
    "{% trans share=v.evenness | number(2), count=v.people %}{{ count }} person{% pluralize %}{{ count }} people"
    "{% endtrans %}",  # the plural would be chosen by "0,87" (in Welsh, Polish, French: a 500)
])
def test_a_template_that_could_make_data_markup_does_not_compile(source: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        templates.from_string(source)


@pytest.mark.parametrize("source", [
    "<form ws-send class=\"stack\"><textarea name=\"text\"></textarea></form>",
    "<form id=\"journal\" data-code=\"{{ code }}\"{% if locked %} hidden{% endif %}>",
])
def test_a_form_that_would_put_what_was_typed_in_the_address_does_not_compile(source: str) -> None:
    # Tapped before the page's script runs, a form with neither method nor action is sent by
    # the browser as a GET to the page itself: a question or a journal entry in the URL.
    with pytest.raises(TemplateSyntaxError, match="dialog"):
        templates.from_string(source)
    fixed = source.replace("<form", '<form method="dialog"')
    assert 'method="dialog"' in templates.from_string(fixed).render(code="AB", locked=True)


def test_data_is_escaped_and_never_a_format_string_while_the_products_own_words_are_markup() -> None:
    page = templates.from_string(
        "{{ title | translated }}|{{ _('<strong>%(name)s</strong> would like a word afterwards', name=title) }}"
        "|{% trans name=title %}<strong>{{ name }}</strong> would like a word afterwards{% endtrans %}"
        "|{{ phase | translated }}")
    with speaking("cy"):
        out = page.render(title=f"{IMG} {PERCENT}", phase="Check-in")
    mine, given, block, shipped_title = out.split("|")
    assert mine == escape(f"{IMG} {PERCENT}")  # data: escaped, its % left alone
    for filled in (given, block):  # the product's words keep their markup; the value in them is escaped
        assert "<strong>" in filled and escape(f"{IMG} {PERCENT}") in filled and IMG not in filled
    assert shipped_title == escape(gettext_in("cy", "Check-in")) != "Check-in"  # a shipped title, translated


def test_a_lone_percent_sign_in_a_message_of_a_template_does_not_compile() -> None:
    with pytest.raises(TemplateSyntaxError):
        templates.from_string("{{ _('Discussion (100% honest)') }}")
    assert templates.from_string("{{ _('Discussion (100%% honest)') }}").render() == HONEST


class _Html:
    """An object that says it is markup (``__html__``), as a chart or a button is."""

    def __html__(self) -> str:
        return "<b>as it says</b>"


class _Shown:
    def __str__(self) -> str:
        return f"{IMG} & <i>"


@pytest.mark.parametrize("value", [
    IMG, PERCENT, "", "Ana & Ben's \"team\"", "\u00e9\u0142 <>&'\"", Markup("<b>kept</b>"), Markup(""),
    7, -3, 2.5, float("inf"), True, None, _Html(), _Shown(), Markup("<i>x</i>") + IMG, type("S", (str,), {})(IMG),
])
def test_every_value_a_page_writes_is_escaped_as_markupsafe_escapes_it(value: Any) -> None:
    """The pages escape with their own, quicker function (app.pages.markup): it writes what
    markupsafe's would, in a template's ``{{ value }}`` as in code."""
    ours = page_escape(value)
    assert type(ours) is Markup and ours == escape(value)
    assert templates.from_string("{{ v }}").render(v=value) == str(escape(value))
    assert templates.get_template("console.html").root_render_func.__globals__["escape"] is page_escape


def test_every_placeholder_of_the_products_words_is_filled_as_text() -> None:
    """A message's values are filled in as escaped text (``templates.filled``): every
    placeholder in the templates and the catalogs is ``%(name)s``, and a filled message is
    what markupsafe's ``Markup(message) % values`` makes, hostile values included."""
    sources = [p.read_text(encoding="utf-8") for p in (*TEMPLATES.glob("*.html"), *LOCALE.rglob("*.po"), LOCALE / "messages.pot")]
    placeholders = [m for text in sources for m in re.findall(r"%\([a-z_]+\)[^s]", text)]
    assert sum(len(re.findall(r"%\([a-z_]+\)s", text)) for text in sources) > 1000 and placeholders == []
    for values in ({"name": IMG}, {"name": PERCENT, "n": 3}, {"name": Markup("<b>kept</b>"), "n": 2.5},
                   {"name": _Html(), "n": None}, {"name": _Shown(), "n": True}):
        message = "<strong>%(name)s</strong> (%(n)s) 100%% honest" if "n" in values else "<em>%(name)s</em>"
        ours = filled(message, dict(values))
        assert type(ours) is Markup and ours == Markup(message) % values
    assert filled("%(count)d left", {"count": 3}) == "3 left"  # another kind of placeholder: markupsafe's way
