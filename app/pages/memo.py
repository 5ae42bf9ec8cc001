"""Rendering a live region once per distinct input, not once per socket.

A region (a named template block) is a function of the page model. Most regions read only
what every viewer in the same situation shares (the floor, the round, the revealed items;
"not speaking, hand down, not next"), a few read who the viewer is. Which parts of the
model a region reads is whatever its template happened to read, so it is recorded rather
than declared: the block renders against a ``Traced`` view of the model that notes each
read and the value it found. Rendering again with a model that gives the same values to
the same reads, in the same order, makes the same HTML, so the recorded reads are the
region's key.

The reads of one region are kept as a decision tree (``Node``): each node is one read, its
branches the values seen. Looking a viewer up walks the tree reading their model, and
either ends at the HTML (no rendering) or falls off a branch (render once, traced, and add
the branch). Values are compared by type and value (``1``, ``1.0`` and ``True`` render
differently, so they are different values); anything of a type not known here is not
memoised at all.

The language is part of the key: each language has its own trees, so a region is rendered
once per language and distinct input.

A ``Memo`` lasts for one session on one worker and keeps what the newest version showed.
A region whose inputs did not change since is found there, so only what changed is
rendered; once a new version has been offered to every socket, what it no longer shows
is forgotten (``settle``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

from app.pages.i18n import SOURCE
from app.pages.templates import ITEM_FIRST, render_block

log = logging.getLogger("talkingpiece.pages")

ITEM, LEN, BOOL, IN, ALL = "item", "len", "bool", "in", "all"  # how a read looked at a dict
MISSING = ("missing",)  # the key was not there (the template saw Undefined)
DICT = ("dict",)        # a dict is there; what is read inside it is recorded read by read
DICT_METHODS = frozenset(n for n in dir(dict) if not n.startswith("__")) - {"get", "items", "keys", "values"}

Probe = tuple[tuple[Any, ...], str, Any]  # (path of keys from the model, how, key or None)
TRUE, FALSE = ("b", True), ("b", False)


class Uncacheable(Exception):
    """A value of a type whose equality does not promise the same rendering."""


def canon(value: Any) -> Any:
    """A hashable stand-in for ``value``, equal only for values a template renders alike."""
    t = type(value)
    if t is str or t is int or value is None:
        return value
    if t is bool:
        return TRUE if value else FALSE
    if t is float:
        return ("f", repr(value))  # repr tells 0.0 from -0.0
    if t is list:
        return ("l", *map(canon, value))
    if t is dict:
        return ("d", *chain.from_iterable((canon(k), canon(v)) for k, v in value.items()))
    if t is tuple:
        return ("t", *map(canon, value))
    if t is set or t is frozenset:
        return ("s", *map(canon, value))  # in iteration order: a template may iterate it
    raise Uncacheable(t.__name__)


Seen = dict[int, tuple[Any, Any]]  # id(container) -> (the container, kept alive so the id is not reused; canon)
SCALARS = (str, int, float, bool, type(None))


def canon_of(value: Any, seen: Seen) -> Any:
    """``canon``, once per container object: viewers' models share most of theirs."""
    if type(value) in SCALARS:
        return canon(value)
    hit = seen.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    c = canon(value)
    seen[id(value)] = (value, c)
    return c


def read(model: dict[str, Any], probe: Probe, seen: Seen) -> Any:
    """What ``probe`` finds in ``model`` (the same as ``Traced`` recorded for its own model)."""
    path, how, key = probe
    d = model
    for k in path:
        d = d[k]
    if how == ITEM:
        value = d.get(key, MISSING)
        return DICT if type(value) is dict else value if value is MISSING else canon_of(value, seen)
    if how == BOOL:
        return bool(d)
    if how == LEN:
        return len(d)
    if how == IN:
        return key in d
    return canon_of(d, seen)


class Trace:
    __slots__ = ("reads", "seen", "ok")

    def __init__(self) -> None:
        self.reads: list[tuple[Probe, Any]] = []
        self.seen: set[Probe] = set()
        self.ok = True

    def note(self, probe: Probe, value: Any) -> None:
        if probe not in self.seen:  # the same read of the same model finds the same value
            self.seen.add(probe)
            self.reads.append((probe, value))


class Traced:
    """A dict as a template sees it (items, attributes, dict methods), noting every read."""

    __slots__ = ("_tp_dict", "_tp_path", "_tp_trace", "_tp_read")
    __hash__ = None  # type: ignore[assignment]  # as unhashable as the dict

    def __init__(self, d: dict[str, Any], path: tuple[Any, ...], trace: Trace) -> None:
        self._tp_dict = d
        self._tp_path = path
        self._tp_trace = trace
        self._tp_read: dict[Any, Any] = {}  # key -> what reading it gave (a loop reads the same key often)

    def _whole(self) -> dict[str, Any]:
        try:
            self._tp_trace.note((self._tp_path, ALL, None), canon(self._tp_dict))
        except Uncacheable:
            self._tp_trace.ok = False
        return self._tp_dict

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._tp_read[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable key: nothing to key a read by
            self._tp_trace.ok = False
            raise
        trace, d = self._tp_trace, self._tp_dict
        try:
            value = d[key]
        except KeyError:
            trace.note((self._tp_path, ITEM, key), MISSING)
            raise
        if type(value) is dict:
            trace.note((self._tp_path, ITEM, key), DICT)
            value = Traced(value, (*self._tp_path, key), trace)
        else:
            try:
                trace.note((self._tp_path, ITEM, key), canon(value))
            except Uncacheable:
                trace.ok = False
        self._tp_read[key] = value
        return value

    def __getattr__(self, name: str) -> Any:
        # jinja's ``d.name`` prefers a dict's attribute (``d.pop`` is the method) to its item.
        if name in DICT_METHODS:
            return getattr(self._whole(), name)
        raise AttributeError(name)

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def items(self) -> Any:
        return self._whole().items()

    def keys(self) -> Any:
        return self._whole().keys()

    def values(self) -> Any:
        return self._whole().values()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._whole())

    def __len__(self) -> int:
        n = len(self._tp_dict)
        self._tp_trace.note((self._tp_path, LEN, None), n)
        return n

    def __bool__(self) -> bool:
        b = bool(self._tp_dict)
        self._tp_trace.note((self._tp_path, BOOL, None), b)
        return b

    def __contains__(self, key: Any) -> bool:
        try:
            found = key in self._tp_dict
        except TypeError:
            self._tp_trace.ok = False
            raise
        self._tp_trace.note((self._tp_path, IN, key), found)
        return found

    def __eq__(self, other: object) -> bool:
        return self._whole() == (other._whole() if isinstance(other, Traced) else other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __str__(self) -> str:
        return str(self._whole())

    __repr__ = __str__


Mapping.register(Traced)  # jinja's ``is mapping`` and ``|items`` treat it as the dict it stands for
ITEM_FIRST.add(Traced)  # ``m.name`` is its item, as for the dict


class Leaf:
    """A region's rendering: its digest always, its HTML until the state has been offered to
    every socket (then only a socket that arrives later needs it, and it is rendered again)."""

    __slots__ = ("html", "digest", "used")

    def __init__(self, html: str) -> None:
        self.html: str | None = html
        self.digest = hash(html)  # str's own hash: what a socket remembers of what it was sent
        self.used = -1  # the newest version that showed it


EMPTY = ("empty",)


class Node:
    """One read, and what follows each value it has given. Mostly a single branch: kept
    without a dict until a second value turns up (memory is per session, for hours)."""

    __slots__ = ("probe", "value", "child", "branches")

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.value: Any = EMPTY
        self.child: Node | Leaf | None = None
        self.branches: dict[Any, Node | Leaf] | None = None

    def get(self, value: Any) -> Node | Leaf | None:
        if self.branches is not None:
            return self.branches.get(value)
        return self.child if self.value is not EMPTY and self.value == value else None

    def put(self, value: Any, child: Node | Leaf) -> None:
        if self.branches is not None:
            self.branches[value] = child
        elif self.value is EMPTY or self.value == value:
            self.value, self.child = value, child
        else:
            assert self.child is not None
            self.branches = {self.value: self.child, value: child}
            self.value, self.child = EMPTY, None


Tree = Node | Leaf | None


def find(tree: Tree, model: dict[str, Any], seen: Seen) -> Leaf | None:
    node = tree
    try:
        while type(node) is Node:
            node = node.get(read(model, node.probe, seen))
    except (Uncacheable, LookupError, TypeError):
        return None
    return node  # a Leaf, or None where the model took a branch not seen yet


def grow(tree: Tree, reads: list[tuple[Probe, Any]], leaf: Leaf) -> Tree:
    """``tree`` with a path to ``leaf`` (unchanged if the reads contradict it: they cannot, but then no harm)."""
    if not reads:
        return leaf  # the region reads nothing of the model
    if type(tree) is not Node:
        tree = Node(reads[0][0])
    node: Node = tree
    last = len(reads) - 1
    for i, (probe, value) in enumerate(reads):
        if node.probe != probe:
            return tree
        if i == last:
            node.put(value, leaf)
            break
        following = node.get(value)
        if following is None:
            following = Node(reads[i + 1][0])
            node.put(value, following)
        elif type(following) is not Node:
            return tree
        node = following
    return tree


def prune(tree: Tree, since: int) -> Tree:
    """``tree`` without the leaves no version since ``since`` showed (None when nothing is left)."""
    if type(tree) is Leaf:
        return tree if tree.used >= since else None
    if type(tree) is not Node:
        return None
    if tree.branches is None:
        child = prune(tree.child, since)
        if child is None:
            return None
        tree.child = child
        return tree
    kept = {value: c for value, c in ((v, prune(c, since)) for v, c in tree.branches.items()) if c is not None}
    if not kept:
        return None
    if len(kept) == 1:
        (tree.value, tree.child), = kept.items()
        tree.branches = None
    else:
        tree.branches = kept
    return tree


class Memo:
    """One session's rendered regions on this worker: what the newest version showed, and
    what is rendered for the next one until it has been offered to every socket."""

    __slots__ = ("version", "trees", "grown", "filled")

    def __init__(self) -> None:
        self.version = -1
        self.trees: dict[tuple[str, str, str], Tree] = {}
        self.grown: set[tuple[str, str, str]] = set()  # trees with a new leaf since the last settle
        self.filled: list[Leaf] = []              # leaves holding their HTML since the last settle

    def render(self, template: str, block: str, model: dict[str, Any], version: int, seen: Seen,
               lang: str = SOURCE) -> Leaf:
        """The region for ``model`` in ``lang`` (its ``html`` may be None: see ``html``); ``seen``
        lives as long as the models of one state. Each language has its own tree: the same
        inputs render once per language."""
        self.version = max(self.version, version)
        key = (template, block, lang)
        tree = self.trees.get(key)
        leaf = find(tree, model, seen)
        if leaf is None:
            made = render_traced(template, block, model, lang)
            if made is None:
                return Leaf(render_block(template, block, lang=lang, m=model))  # kept nowhere
            leaf = Leaf(made[0])
            self.trees[key] = grow(tree, made[1], leaf)
            self.grown.add(key)
            self.filled.append(leaf)
        leaf.used = max(leaf.used, version)
        return leaf

    def html(self, leaf: Leaf, template: str, block: str, model: dict[str, Any], lang: str = SOURCE) -> str:
        """The leaf's HTML, rendered again from ``model`` if it was dropped (``model`` reads the same)."""
        if leaf.html is None:
            leaf.html = render_block(template, block, lang=lang, m=model)
            self.filled.append(leaf)
        return leaf.html

    def settle(self) -> None:
        """The newest state has been offered to every socket: forget what it did not show
        (where something new was shown: elsewhere nothing grew), and the HTML of what it did
        (the sockets have it; a digest tells them it has not changed)."""
        for key in self.grown:
            kept = prune(self.trees.get(key), self.version)
            if kept is None:
                self.trees.pop(key, None)
            else:
                self.trees[key] = kept
        self.grown.clear()
        for leaf in self.filled:
            leaf.html = None
        self.filled.clear()


def render_traced(template: str, block: str, model: dict[str, Any],
                  lang: str = SOURCE) -> tuple[str, list[tuple[Probe, Any]]] | None:
    """Render once, recording the reads: (HTML, reads); None when it cannot be keyed by them."""
    trace = Trace()
    try:
        html = render_block(template, block, lang=lang, m=Traced(model, (), trace))
    except Exception:  # e.g. a filter that wants a real dict: render it plainly, unmemoised
        log.debug("region %s of %s is rendered without its memo", block, template, exc_info=True)
        return None
    return (html, trace.reads) if trace.ok else None
