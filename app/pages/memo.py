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

A ``Memo`` lasts for one session on one worker and keeps two generations: the regions of
the newest version and those of the version before. A region whose inputs did not change
is found in the older one and carried over, so only what changed is rendered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from app.pages.templates import render_block

log = logging.getLogger("talkingpiece.pages")

ITEM, LEN, BOOL, IN, ALL = "item", "len", "bool", "in", "all"  # how a read looked at a dict
MISSING = ("missing",)  # the key was not there (the template saw Undefined)
DICT = ("dict",)        # a dict is there; what is read inside it is recorded read by read
DICT_METHODS = frozenset(n for n in dir(dict) if not n.startswith("__")) - {"get", "items", "keys", "values"}

Probe = tuple[tuple[Any, ...], str, Any]  # (path of keys from the model, how, key or None)


class Uncacheable(Exception):
    """A value of a type whose equality does not promise the same rendering."""


def canon(value: Any) -> Any:
    """A hashable stand-in for ``value``, equal only for values a template renders alike."""
    t = type(value)
    if t is str or t is int or value is None:
        return value
    if t is bool:
        return ("b", value)
    if t is float:
        return ("f", repr(value))  # repr tells 0.0 from -0.0
    if t is list:
        return ("l", *map(canon, value))
    if t is dict:
        return ("d", *((canon(k), canon(v)) for k, v in value.items()))
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


class Leaf:
    __slots__ = ("html", "reads")

    def __init__(self, html: str, reads: list[tuple[Probe, Any]]) -> None:
        self.html = html
        self.reads = reads


class Node:
    __slots__ = ("probe", "branches")

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.branches: dict[Any, Node | Leaf] = {}


Tree = Node | Leaf | None


def find(tree: Tree, model: dict[str, Any], seen: Seen) -> Leaf | None:
    node = tree
    try:
        while type(node) is Node:
            node = node.branches.get(read(model, node.probe, seen))
    except (Uncacheable, LookupError, TypeError):
        return None
    return node  # a Leaf, or None where the model took a branch not seen yet


def grow(tree: Tree, leaf: Leaf) -> Tree:
    """``tree`` with a path to ``leaf`` (unchanged if the reads contradict it: they cannot, but then no harm)."""
    reads = leaf.reads
    if not reads:
        return leaf  # the region reads nothing of the model
    if type(tree) is not Node:
        tree = Node(reads[0][0])
    node: Node = tree
    for i, (probe, value) in enumerate(reads):
        if node.probe != probe:
            return tree
        if i == len(reads) - 1:
            node.branches[value] = leaf
            break
        following = node.branches.get(value)
        if following is None:
            following = node.branches[value] = Node(reads[i + 1][0])
        elif type(following) is not Node:
            return tree
        node = following
    return tree


class Memo:
    """One session's rendered regions on this worker, for its newest version and the one before."""

    __slots__ = ("version", "current", "previous")

    def __init__(self) -> None:
        self.version = -1
        self.current: dict[tuple[str, str], Tree] = {}
        self.previous: dict[tuple[str, str], Tree] = {}

    def render(self, template: str, block: str, model: dict[str, Any], version: int, seen: Seen) -> str:
        """The region's HTML for ``model``; ``seen`` lives as long as the models of one state."""
        if version > self.version:
            self.version, self.previous, self.current = version, self.current, {}
        key = (template, block)
        leaf = find(self.current.get(key), model, seen)
        if leaf is None:
            leaf = find(self.previous.get(key), model, seen)
            if leaf is None:
                leaf = render_traced(template, block, model)
                if leaf is None:
                    return render_block(template, block, m=model)
            self.current[key] = grow(self.current.get(key), leaf)
        return leaf.html


def render_traced(template: str, block: str, model: dict[str, Any]) -> Leaf | None:
    """Render once, recording the reads; None when this rendering cannot be keyed by them."""
    trace = Trace()
    try:
        html = render_block(template, block, m=Traced(model, (), trace))
    except Exception:  # e.g. a filter that wants a real dict: render it plainly, unmemoised
        log.debug("region %s of %s is rendered without its memo", block, template, exc_info=True)
        return None
    return Leaf(html, trace.reads) if trace.ok else None
