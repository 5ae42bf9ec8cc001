"""The pages' live regions, what each one is rendered from, and rendering each once per audience.

A live region is a named template block (web/templates/). Each declares its inputs: paths into
the page model (``"floor"``, ``"v.round"``, ``"my.actions"``; ``"v.round?"`` where only whether
there is one matters, ``"present[id,name]"`` where only those keys of a list's items are
shown), in two kinds.

- ``shared``: read from the *audience's* model, which is the same for everyone who sees the
  same scope (the room, or one breakout group) in the same role and language. It is built
  once per state and audience from the shared view alone, with no viewer in it
  (``audience_model``), so nothing one person may see alone can reach it.
- ``own``: read from the viewer's own part of the model (``view.viewer_own``): a word asked for, a
  wellbeing question due, my actions. Declared only where a region shows something of the
  viewer, and kept to values most viewers share ("not asked, not due"), so that a room of
  thirty phones falls into a handful of kinds.

What differs from phone to phone at every turn (my turn, up next, may I pass, my hand and place
in the queue, my votes, my focus) is no input at all of the regions phones share (the glance,
the hand, the items, the status line): they are rendered once per audience with every phone's
variant in them as ``<t-when data-when="next !answering">`` parts, and each phone gets its own
data alone in its small ``viewer`` region (``view.viewer_flags``: ``data-is``, ``data-focus``,
``data-queue``, ``data-undo``, its name). web/static/js/viewer.js keeps the parts whose words that
data meets and fills in the rest; ``apply_viewer`` is the same rule, for the tests. So a turn
change renders the room's glance once, and the ``viewer`` region of the few phones whose moment
changed.

A region is rendered from its declared inputs and nothing else (``picked``): a template that
reads anything undeclared fails to render (the environment's undefined is strict), so what a
region shows can only change when its inputs do. The HTML is kept per region and audience
(``Regions``) under the shared inputs' values, and under each distinct set of own values seen
since: a new state renders a region again only for the audience whose shared inputs changed,
and then once per distinct own values, never once per socket. Phones alike in every own value
share one list of renderings (app/live/htmx.py), so a socket costs its own model and values,
not a lookup per region. The console and the screen, one
per room, are audiences of their own: they too render only the regions whose inputs changed.
"""

from __future__ import annotations

import functools
import logging
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jinja2

from app.pages.i18n import SOURCE
from app.pages.markup import escape
from app.pages.names import guests_named
from app.pages.safety import safety_model
from app.pages.templates import keeping, render_block
from app.pages.view import clock_region, viewer_region

log = logging.getLogger("talkingpiece.pages")


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    shared: tuple[str, ...]
    own: tuple[str, ...] = ()
    own_split: tuple[tuple[str, str], ...] = ()  # ``own`` as (key, key inside it or ""), read per viewer
    # A shared input without which the region reads nothing of the viewer (a phone's group
    # card outside breakouts): while it is empty, every viewer of the audience gets one rendering.
    only_if: str = ""
    # A region that is a few attributes, built in code rather than a template block (the page's
    # block writes it through the same function): what every audience renders at every change.
    build: Callable[[dict[str, Any]], str] | None = None


def _r(name: str, shared: str = "", own: str = "", only_if: str = "",
       build: Callable[[dict[str, Any]], str] | None = None) -> Region:
    paths = tuple(own.split())
    assert not any(p.endswith(("?", "]")) for p in paths), "a viewer's own inputs are taken whole"
    return Region(name, tuple(shared.split()), paths, tuple((h, t) for h, _, t in (p.partition(".") for p in paths)),
                  only_if, build)


# The live regions of each page, by role: its template and its regions with their inputs.
REGIONS: dict[str, tuple[str, tuple[Region, ...]]] = {
    "facilitator": ("console.html", (
        _r("clock", "server_time v.version", build=clock_region),
        _r("status", "purpose status status_label"),
        _r("timeline", "status timeline"),
        _r("floor", "erase_at floor next_step paused phase present status suggested", "me.role my"),
        _r("controls", "breakouts.running floor? paused phase.count phase.number present[id] presenter_speaking "
                       "previous_phase safety.can_set_presenter safety.presenter status suggested v.round?", "me.may_close me.may_erase"),
        _r("round", "round"),
        _r("queue", "people[id,connected,phoneless] queue v.round?"),
        _r("voice", "voice"),
        _r("people", "floor.id people present safety.can_set_presenter safety.presenter status v.locked v.round?",
           "me.removed me.waiting"),
        _r("items", "one_to_one pending revealed status threshold"),
        _r("actions", "actions"),
        _r("safety", "safety.can_set_presenter safety.evaluation safety.presenter safety.wellbeing",
           "safety.word_requests"),
        _r("carried", "", "me.floor_carried"),
        _r("meeting", "status v.group v.group_plan", "me.floor_brought"),
        _r("propose", "one_to_one"),
        _r("proposals", "status v.code v.items v.proposals"),
        _r("breakouts", "breakouts paused status suggested"),
        # A console's own seat: the lead's, a co-facilitator's or a peer's.
        _r("cofacilitation", "present[id,name] status v.group v.participants[id,name,present]", "me"),
    )),
    "participant": ("phone.html", (
        _r("clock", "server_time v.version", build=clock_region),
        # The phone's own data, which web/static/js/viewer.js applies to the regions every phone shares.
        _r("viewer", "", "focus my.id my.is my.name my.queue_position my.undo_until", build=viewer_region),
        _r("status", "anonymous_writing phase.id phase.prompt phase.title status status_label"),
        _r("facilitating", "status v.code", "me.facilitating"),
        _r("glance", "erase_at floor paused phase present server_time status"),
        _r("listening", "status", "safety.listening"),
        _r("hand", "one_to_one status"),
        _r("wellbeing", "status", "my.wellbeing_due"),
        _r("evaluation", "safety.evaluation status", "my.evaluation_due"),
        _r("word", "", "my.present safety.requested_word"),
        _r("items", "pending revealed status"),
        _r("actnote", "one_to_one"),
        _r("myactions", "", "me.member my.actions"),
        _r("meeting", "status v.group v.group_plan", "me.brought", only_if="v.group"),
        _r("carried", "status v.group", "me.carried me.reviewing", only_if="v.group"),
        _r("carry", "status v.actions v.group", "me.carry_action_ids me.member me.participant_id", only_if="v.group"),
        _r("consent", "status v.code v.proposals", "me.consent_answered my.present"),
        # The phone's own group: "you are in Group 2 with Ana and Ben" names the others.
        _r("breakout", "breakouts.mine breakouts.notice paused status", "me.participant_id", only_if="breakouts.mine"),
    )),
    "screen": ("screen.html", (
        _r("clock", "server_time v.version", build=clock_region),
        _r("status", "paused phase.count phase.ends_at phase.number phase.overtime phase.title status status_label"),
        _r("stage", "actions erase_at floor paused pending phase present purpose queue revealed screen_focus",
           "me.role my"),
        _r("order", "queue round screen_focus status"),
        _r("items", "revealed screen_focus status"),
        _r("wellbeing", "safety.wellbeing_now status"),
        _r("evaluation", "safety.evaluation"),
        _r("carried", "status", "me.floor_carried"),
        _r("meeting", "status v.group v.group_plan", "me.floor_brought"),
        _r("breakouts", "breakouts paused status"),
    )),
}

VIEWER = "viewer"  # a phone's own data (web/static/js/viewer.js): rendered for each phone alone
NAMES = {role: tuple(r.name for r in regions) for role, (_, regions) in REGIONS.items()}

MISSING = object()


def audience_model(room: dict[str, Any], shared: dict[str, Any], role: str) -> dict[str, Any]:
    """What every viewer of one scope in one role is shown alike: the room's page model, the
    shared view (``v``, without anyone's ``me``) and the room's safety as that role sees it."""
    named = guests_named(shared)  # a guest's name in the reader's language, as on every page
    return {**room, "v": named, "safety": safety_model({**named, "me": {"role": role}})}


@functools.cache  # the paths are the regions' declarations: a few dozen strings
def _parse(path: str) -> tuple[str, str, str]:
    """``"v.round?"`` -> (``v``, ``round``, ``?``): a path, and how much of its value is an input."""
    shape = ""
    if path.endswith("?"):
        path, shape = path[:-1], "?"
    elif path.endswith("]"):
        path, _, keys = path[:-1].partition("[")
        shape = keys
    head, _, tail = path.partition(".")
    return head, tail, shape


def _shaped(value: Any, shape: str) -> Any:
    """Only what a region reads of a value: ``?`` its truth (the region tests whether there is
    one), ``[id,name]`` a list's items with those keys alone (the region lists who is there,
    not how long each has spoken)."""
    if not shape or value is MISSING:
        return value
    if shape == "?":
        return bool(value)
    if type(value) is not list:
        return value
    keys = shape.split(",")
    return [{k: item[k] for k in keys if k in item} for item in value]


def _value(model: dict[str, Any], path: str) -> Any:
    head, tail, shape = _parse(path)
    value = model.get(head, MISSING)
    if tail and type(value) is dict:
        value = value.get(tail, MISSING)
    return _shaped(value, shape)


def _put(model: dict[str, Any], path: str, source: dict[str, Any]) -> None:
    head, tail, shape = _parse(path)
    whole = source.get(head, MISSING)
    if whole is MISSING:
        return
    if not tail or type(whole) is not dict:
        model[head] = whole if tail else _shaped(whole, shape)
        return
    value = whole.get(tail, MISSING)
    if value is MISSING:
        model.setdefault(head, {})
        return
    part = model.get(head)
    value = _shaped(value, shape)
    model[head] = {**part, tail: value} if type(part) is dict else {tail: value}


def reads_viewer(region: Region, audience: dict[str, Any]) -> bool:
    """Whether the region reads anything of the viewer for this audience (``only_if``)."""
    return not region.only_if or bool(_value(audience, region.only_if))


def picked(region: Region, audience: dict[str, Any], viewer: dict[str, Any] | None) -> dict[str, Any]:
    """The model a region is rendered from: its declared inputs and nothing else (own values,
    read from the viewer's model, over the audience's)."""
    model: dict[str, Any] = {}
    for path in region.shared:
        _put(model, path, audience)
    if viewer is not None and reads_viewer(region, audience):
        for path in region.own:
            _put(model, path, viewer)
    return model


def every_input(model: dict[str, Any], regions: tuple[Region, ...]) -> list[tuple[Any, ...]]:
    """Each region's shared inputs, compared with the values it was last rendered for: once per
    state and audience, each path read once for all the regions (``status`` is an input of
    most). Kept as they are (no string made of them: the console's people list, for every
    socket that connects), so equal means equal as Python compares them; a path's values keep
    one type from one state to the next, so ``1 == True`` never stands for a change. A list
    read in part (``present[id,name]``) is kept as each item's values of those keys, a tuple:
    equal exactly when what the region is given of it (``_shaped``) is."""
    reads, picks, _, _ = _plan(regions)
    values = []
    for head, tail, shape, keys, missing in reads:  # ``_value``, written out: a hundred paths a change
        value = model.get(head, MISSING)
        if tail and type(value) is dict:
            value = value.get(tail, MISSING)
        if keys and type(value) is list:  # what ``_shaped`` keeps of each item, as a tuple: equal when it is
            value = [tuple(map(item.get, keys, missing)) for item in value]
        elif shape:
            value = _shaped(value, shape)
        values.append(value)
    return [pick(values) for pick in picks]


Pick = Callable[[list[Any]], tuple[Any, ...]]
Read = tuple[str, str, str, tuple[str, ...], tuple[object, ...]]  # head, tail, shape, a list's keys, MISSING each


class Plan(NamedTuple):
    """What a page's regions read, worked out once per page, not at every change."""

    reads: tuple[Read, ...]  # the distinct shared paths, parsed
    picks: tuple[Pick, ...]  # for each region, where its shared inputs are among them
    conditions: tuple[str, ...]  # the distinct ``only_if`` paths
    own: dict[tuple[bool, ...], tuple[tuple[str, str], ...]]  # ``own_paths`` per answer of the conditions


def _plan(regions: tuple[Region, ...]) -> Plan:
    found = _PLANS.get(id(regions))
    if found is not None and found[0] is regions:
        return found[1]
    paths = tuple(dict.fromkeys(p for region in regions for p in region.shared))
    where = {p: i for i, p in enumerate(paths)}
    picks: list[Pick] = []
    for region in regions:
        at = [where[p] for p in region.shared]
        picks.append(operator.itemgetter(*at) if len(at) > 1 else  # type: ignore[arg-type]
                     (lambda values, i=at[0]: (values[i],)) if at else (lambda values: ()))
    reads: list[Read] = []
    for head, tail, shape in map(_parse, paths):
        keys = tuple(shape.split(",")) if shape and shape != "?" else ()
        reads.append((head, tail, shape, keys, (MISSING,) * len(keys)))
    plan = Plan(tuple(reads), tuple(picks), tuple(dict.fromkeys(r.only_if for r in regions if r.only_if)), {})
    _PLANS[id(regions)] = (regions, plan)  # the regions held, so that their id stays theirs
    return plan


_PLANS: dict[int, tuple[tuple[Region, ...], Plan]] = {}  # one per page (REGIONS), or per test's own


def own_paths(regions: tuple[Region, ...], audience: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The viewer's own paths that the audience's regions read (a region with ``only_if`` only
    while its condition holds), distinct and split: the key every phone's renderings are
    shared by. The same few answers at every change, so each is worked out once per page."""
    plan = _plan(regions)
    answers = tuple(bool(_value(audience, c)) for c in plan.conditions)
    found = plan.own.get(answers)
    if found is None:
        holds = dict(zip(plan.conditions, answers))
        found = plan.own[answers] = tuple(dict.fromkeys(
            p for r in regions if r.name != VIEWER and (not r.only_if or holds[r.only_if]) for p in r.own_split))
    return found


def own_inputs(model: dict[str, Any], paths: tuple[tuple[str, str], ...]) -> str:
    """The inputs of a viewer's own paths, already split: read for every socket, so kept lean."""
    values = []
    for head, tail in paths:
        value = model.get(head, MISSING)
        values.append(value.get(tail, MISSING) if tail and type(value) is dict else value)
    return repr(values)


class Leaf:
    """One rendering: its digest always, and its HTML while it may be wanted again (a socket
    that arrives later, or a phone whose own values come back to these) without costing a
    socket's worth of memory per phone: see ``Regions.settle``.

    The HTML is kept as the UTF-8 a socket writes: encoded once for every socket it goes to (a
    region with one "…" in it is text Python keeps two bytes a character, which each socket
    would otherwise encode again), and half the memory."""

    __slots__ = ("data", "digest", "used")

    def __init__(self, html: str, version: int) -> None:
        self.data: bytes | None = html.encode()
        self.digest = hash(self.data)  # what a socket remembers of what it was sent
        self.used = version


# A region kept for more distinct own values than this is one a phone sees alone (its own
# actions, its votes): once a state has been offered to every socket, its renderings keep
# only their digests, so the worker holds no copy of each phone's HTML between changes.
KINDS_KEPT = 8


class Kept:
    """One region for one audience: the shared inputs it was rendered for, and a rendering per
    distinct own values seen since."""

    __slots__ = ("by_own", "shared")

    def __init__(self, shared: tuple[Any, ...]) -> None:
        self.shared = shared
        self.by_own: dict[str, Leaf] = {}


class Regions:
    """One session's rendered regions on this worker, per (role, scope, language, region)."""

    __slots__ = ("kept", "parts", "version")

    def __init__(self) -> None:
        self.kept: dict[tuple[Any, ...], dict[str, Kept]] = {}  # per audience, per region
        self.parts: dict[str, Any] = {}  # parts of regions kept between renderings (templates.kept)
        self.version = -1

    def leaves(self, template: str, regions: tuple[Region, ...], audience_key: tuple[Any, ...],
               shared_keys: list[tuple[Any, ...]], audience: dict[str, Any], viewer: dict[str, Any] | None,
               version: int, lang: str = SOURCE) -> list[Leaf | None]:
        """Each region for this viewer, rendered only if no viewer of the audience with the same
        own values has had it since its shared inputs last changed; None for a phone's own
        data (``VIEWER``), which each socket builds for itself."""
        if version > self.version:
            self.version = version
        here = self.kept.get(audience_key)
        if here is None:
            here = self.kept[audience_key] = {}
        found: list[Leaf | None] = []
        with keeping(self.parts):
            for region, shared_key in zip(regions, shared_keys):
                if region.name == VIEWER:
                    found.append(None)
                    continue
                kept = here.get(region.name)
                if kept is None or kept.shared != shared_key:
                    kept = here[region.name] = Kept(shared_key)
                mine = viewer if region.own and viewer is not None and reads_viewer(region, audience) else None
                own = own_inputs(mine, region.own_split) if mine is not None else ""
                leaf = kept.by_own.get(own)
                if leaf is None:
                    leaf = kept.by_own[own] = Leaf(self.render(template, region, audience, mine, lang), version)
                leaf.used = version
                found.append(leaf)
        return found

    def data(self, leaf: Leaf, template: str, region: Region, audience: dict[str, Any],
             viewer: dict[str, Any] | None, lang: str = SOURCE) -> bytes:
        """The leaf's HTML as UTF-8, rendered again from the same inputs if it was let go."""
        if leaf.data is None:
            with keeping(self.parts):
                leaf.data = self.render(template, region, audience, viewer, lang).encode()
        return leaf.data

    def html(self, leaf: Leaf, template: str, region: Region, audience: dict[str, Any],
             viewer: dict[str, Any] | None, lang: str = SOURCE) -> str:
        """The leaf's HTML (a page rendered whole, from the regions kept)."""
        return self.data(leaf, template, region, audience, viewer, lang).decode()

    @staticmethod
    def render(template: str, region: Region, audience: dict[str, Any], viewer: dict[str, Any] | None,
               lang: str = SOURCE) -> str:
        if region.build is not None:
            return str(region.build(picked(region, audience, viewer)))
        try:
            return render_block(template, region.name, lang=lang, m=picked(region, audience, viewer))
        except jinja2.UndefinedError:
            # The template read an input its region does not declare (REGIONS is to be put
            # right). Shown anyway from everything the audience shares and the viewer's
            # declared values: possibly late to change, never anything of another viewer.
            log.exception("region %s of %s reads an input it does not declare", region.name, template)
            whole = dict(audience)
            if viewer is not None and reads_viewer(region, audience):
                for path in region.own:
                    _put(whole, path, viewer)
            return render_block(template, region.name, lang=lang, m=whole)

    def settle(self) -> None:
        """The newest state has been offered to every socket: forget the renderings it did not
        use, and the HTML of regions that are a phone's own (the sockets have it; a digest
        says it is unchanged, and it is rendered again if another socket asks for it)."""
        for kept in (kept for here in self.kept.values() for kept in here.values()):
            if len(kept.by_own) > 1:
                kept.by_own = {own: leaf for own, leaf in kept.by_own.items() if leaf.used >= self.version}
            if len(kept.by_own) > KINDS_KEPT:
                for leaf in kept.by_own.values():
                    leaf.data = None


YOU_ARE = '<span class="you-are" data-you-are></span>'
PART = re.compile(r'<t-when data-when="([^"]*)">|</t-when>')
DATA = re.compile(r' data-([a-z-]+)="([^"]*)"')
GLANCE = '<section id="glance" class="glance" data-my-turn="0" data-up-next="0"'


def holds(condition: str, flags: set[str]) -> bool:
    """``"next !answering"``: every word is one of the phone's flags, every ``!word`` is not."""
    return all((word[1:] not in flags) if word[0] == "!" else (word in flags) for word in condition.split())


def chosen(html: str, flags: set[str]) -> str:
    """The HTML without the ``<t-when>`` parts whose condition the phone's flags do not meet
    (a part inside a dropped part goes with it)."""
    out: list[str] = []
    at, depth, dropping = 0, 0, 0  # dropping: the depth of the part being dropped, 0 for none
    for match in PART.finditer(html):
        if not dropping:
            out.append(html[at:match.start()])
        at = match.end()
        if match.group(1) is not None:
            depth += 1
            if not dropping:
                if holds(match.group(1), flags):
                    out.append(match.group(0))
                else:
                    dropping = depth
        else:
            if not dropping:
                out.append(match.group(0))
            elif dropping == depth:
                dropping = 0
            depth -= 1
    if not dropping:
        out.append(html[at:])
    return "".join(out)


def apply_viewer(regions: dict[str, str], you_are: str) -> dict[str, str]:
    """What a phone shows once web/static/js/viewer.js has applied its own data (the ``viewer``
    region's data-*) to the regions it shares with the room: the same rule, for the tests.
    ``you_are`` is the page's words for "you are %(name)s" (the script's ``you_are``)."""
    viewer = regions.get("viewer")
    if not viewer:
        return regions
    data = {key: unescape(value) for key, value in DATA.findall(viewer)}
    flags = set(data.get("is", "").split())
    shown = {name: chosen(html, flags) if "<t-when" in html else html for name, html in regions.items()}
    glance = shown.get("glance")
    if glance is not None:  # the script sets these on the glance, whatever else came in the frame
        classes = "glance" + (" mine" if "turn" in flags else "") + (" next" if "next" in flags else "") + (
            " quiet" if "quiet" in flags else "")
        shown["glance"] = glance.replace(GLANCE, f'<section id="glance" class="{classes}" data-my-turn='
                                                 f'"{1 if "turn" in flags else 0}" data-up-next="{1 if "next" in flags else 0}"')
    for name, html in shown.items():
        html = html.replace("<span data-my-queue></span>", f"<span data-my-queue>{escape(data.get('queue', ''))}</span>")
        shown[name] = html.replace('data-hide-at="" data-my-undo', f'data-hide-at="{escape(data.get("undo", ""))}" data-my-undo')
    status = shown.get("status")
    if status is not None:
        status = status.replace(' data-focus=""', f' data-focus="{escape(data.get("focus", ""))}"', 1)
        name = data.get("name", "")
        if name:
            text = escape(" · " + you_are.replace("%(name)s", name))  # the script sets it as text
            status = status.replace(YOU_ARE, YOU_ARE.replace("></span>", f">{text}</span>"))
        shown["status"] = status
    return shown


def unescape(text: str) -> str:
    """An attribute's value as the page reads it (the templates escape what they write)."""
    return (text.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&amp;", "&"))
