"""The formats the product ships, as data files validated on load.

Each format is a TOML file beside this module (one per format) so that facilitators and
the people who plan formats can read and change timings without reading Python.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache
from importlib import resources

from pydantic import ValidationError

from .errors import Invalid
from .models import MAX_PHASE_S, FormatSpec, PhaseSpec

DEFAULT_FORMAT = "check-in-out"


def parse_format(text: str) -> FormatSpec:
    """Parse one format file; raise ``Invalid`` naming what is wrong (see docs/formats.md)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Invalid(f"invalid format file: not valid TOML ({exc})", "bad_format_file") from None
    try:
        spec = FormatSpec.model_validate(data)
    except ValidationError as exc:
        raise Invalid(f"invalid format file: {_describe(exc, data)}", "bad_format_file") from None
    except ValueError as exc:
        raise Invalid(f"invalid format file: {exc}", "bad_format_file") from None
    ids = [p.id for p in spec.phases]
    if not ids:
        raise Invalid(f"format {spec.id!r} has no phases", "bad_format_file")
    if len(set(ids)) != len(ids):
        raise Invalid(f"format {spec.id!r} repeats a phase id", "bad_format_file")
    _within_limits(spec)
    for p in spec.phases:
        both = set(p.listens_only) & set(p.answers)
        if both:
            raise Invalid(f"invalid format file: phase {p.id!r} has the {sorted(both)[0]} both listen only and answer",
                          "bad_format_file")
    if spec.breakouts is not None and not any(p.breakout for p in spec.phases):
        raise Invalid("invalid format file: [breakouts] needs at least one phase with breakout = true",
                      "bad_format_file")
    if spec.evaluation and not any(p.purpose == "check-out" for p in spec.phases):
        raise Invalid("invalid format file: evaluation needs a phase whose purpose is \"check-out\" (it is answered there)",
                      "bad_format_file")
    return spec



def is_one_to_one(spec: FormatSpec) -> bool:
    """A format for two people (supervision, mentoring, a peer-feedback pair)."""
    return spec.max_participants == 2


def check_statements(statements: Sequence[str]) -> list[str]:
    """A group's own evaluation statements, held to the format files' rules (1-8, each 1-200 characters)."""
    probe = FormatSpec(id="probe", title="probe", phases=(PhaseSpec(id="c", title="c", kind="round", duration_s=1,
                                                                    purpose="check-out"),))
    return list(with_statements(probe, statements).evaluation)


def with_statements(spec: FormatSpec, statements: Sequence[str] | None) -> FormatSpec:
    """The format with a group's own evaluation statements in place of the file's (None keeps
    the file's). A format without a check-out phase has nowhere to ask them, and keeps none."""
    if statements is None:
        return spec
    if not any(p.purpose == "check-out" for p in spec.phases):
        return spec.model_copy(update={"evaluation": ()})
    try:
        return FormatSpec.model_validate({**spec.model_dump(), "evaluation": list(statements)})
    except ValidationError as exc:
        raise Invalid(f"invalid statements: {exc.errors(include_url=False, include_input=False)[0]['msg']}",
                      "bad_statements") from None


MAX_FORMAT_PHASES = 50
# What a format may show: its texts (ids, titles, prompts, statements) together, at their size
# in a page or a frame. Every view carries them, and they count in the session's content
# ceiling (``engine.content_bytes``), so a file cannot make every frame of the room huge.
MAX_FORMAT_SHOWN_BYTES = 32 * 1024
_ESCAPED = "&<>\"'\\"  # a page or a frame writes each of these as up to 6 bytes (&amp; &#34; \")


def _texts(spec: FormatSpec) -> Iterator[str]:
    yield spec.id
    yield spec.title
    yield from spec.evaluation
    for phase in spec.phases:
        yield phase.id
        yield phase.title
        yield phase.prompt


def shown_size(text: str) -> int:
    """At most how many bytes ``text`` takes each time a page or a frame shows it: UTF-8, each
    character that is escaped counted at its longest escape (a name of 60 ``&`` is 300 bytes
    on a page). The one measure of every size the content ceiling counts."""
    size = len(text.encode()) + 5 * sum(text.count(ch) for ch in _ESCAPED)
    if not text.isprintable():  # control characters: a JSON frame writes them as \u0001
        size += 5 * sum(1 for ch in text if not ch.isprintable())
    return size


@lru_cache(maxsize=256)
def shown_bytes(spec: FormatSpec) -> int:
    """At most how many bytes the format's texts take in a page or a frame: UTF-8, each
    character that is escaped counted at its longest escape."""
    return sum(shown_size(text) for text in _texts(spec))


def _within_limits(spec: FormatSpec) -> None:
    """Custom files come from facilitators: keep what a screen must show to a sane size."""
    if len(spec.phases) > MAX_FORMAT_PHASES:
        raise Invalid(f"a format has at most {MAX_FORMAT_PHASES} phases", "bad_format_file")
    for where, text, limit in [("id", spec.id, 64), ("title", spec.title, 120), ("summary", spec.summary, 1000)] + [
            (f"phase {p.id[:64]!r} {k}", v, n) for p in spec.phases for k, v, n in (("id", p.id, 64), ("title", p.title, 120))]:
        if not text.strip() and where != "summary":
            raise Invalid(f"invalid format file: {where} is empty", "bad_format_file")
        if len(text) > limit:
            raise Invalid(f"invalid format file: {where} is longer than {limit} characters", "bad_format_file")
    shown = shown_bytes(spec)
    if shown > MAX_FORMAT_SHOWN_BYTES:
        raise Invalid(f"invalid format file: its texts take {-(-shown // 1024)} KB on a screen, more than the "
                      f"{MAX_FORMAT_SHOWN_BYTES // 1024} KB a format may show: use fewer or shorter phases, "
                      "prompts or statements", "bad_format_file")


@cache
def builtin_formats() -> dict[str, FormatSpec]:
    folder = resources.files(__package__).joinpath("formats")
    specs = [parse_format(f.read_text("utf-8")) for f in folder.iterdir() if f.name.endswith(".toml")]
    ordered = sorted(specs, key=lambda s: (s.id != DEFAULT_FORMAT, s.title))
    return {s.id: s for s in ordered}


def format_with_durations(format_id: str | None, durations: dict[str, int] | None) -> FormatSpec:
    """The chosen format with the facilitator's adjusted phase durations applied."""
    formats = builtin_formats()
    spec = formats.get(format_id or DEFAULT_FORMAT)
    if spec is None:
        raise Invalid(f"unknown format {format_id!r}; known: {', '.join(formats)}", "unknown_format")
    durations = durations or {}
    unknown = set(durations) - {p.id for p in spec.phases}
    if unknown:
        raise Invalid(f"unknown phase id(s) for {spec.id}: {', '.join(sorted(unknown))}", "no_such_phase")
    try:
        phases = tuple(
            PhaseSpec.model_validate({**p.model_dump(), "duration_s": durations.get(p.id, p.duration_s)})
            for p in spec.phases
        )
    except ValueError as exc:
        raise Invalid(f"invalid duration: {exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}",
                      "bad_duration") from None
    return spec.model_copy(update={"phases": phases})


def _describe(exc: ValidationError, data: object) -> str:
    """One line per problem, naming the phase by its id where it has one:
    ``phases[2] (id "questioning").duration_s: Input should be greater than or equal to 1``."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:5]:
        loc = err["loc"]
        where = ".".join(str(x) for x in loc) or "format"
        if len(loc) >= 2 and loc[0] == "phases" and isinstance(loc[1], int):
            phases = data.get("phases") if isinstance(data, dict) else None
            phase = phases[loc[1]] if isinstance(phases, list) and loc[1] < len(phases) else None
            named = f' (id "{phase["id"]}")' if isinstance(phase, dict) and isinstance(phase.get("id"), str) else ""
            where = f"phases[{loc[1]}]{named}" + "".join(f".{x}" for x in loc[2:])
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def customise(spec: FormatSpec, picks: Sequence[tuple[str, int | None]]) -> FormatSpec:
    """The format with its phases reordered, skipped (left out) and re-timed, before starting.

    ``picks`` lists ``(phase_id, duration_s or None)`` in the wanted order; a phase left out
    is skipped; None keeps the phase's duration.
    """
    by_id = {p.id: p for p in spec.phases}
    ids = [pid for pid, _ in picks]
    unknown = [pid for pid in ids if pid not in by_id]
    if unknown:
        raise Invalid(f"unknown phase id(s) for {spec.id}: {', '.join(unknown)}; phases: {', '.join(by_id)}",
                      "no_such_phase")
    if len(set(ids)) != len(ids):
        raise Invalid("a phase may appear only once in the list", "phase_repeated")
    if not ids:
        raise Invalid("keep at least one phase", "no_phases")
    try:
        phases = tuple(
            PhaseSpec.model_validate({**by_id[pid].model_dump(), "duration_s": by_id[pid].duration_s if d is None else d})
            for pid, d in picks
        )
    except ValidationError as exc:
        raise Invalid(f"invalid duration: {exc.errors()[0]['msg']}", "duration_out_of_range",
                      hours=MAX_PHASE_S // 3600) from None
    return spec.model_copy(update={"phases": phases})


def resolve_format(format_id: str | None, durations: dict[str, int] | None, format_toml: str | None = None,
                   picks: Sequence[tuple[str, int | None]] | None = None) -> FormatSpec:
    """What a new session runs: a built-in (or a custom file), re-timed, reordered, skipped."""
    if format_toml is not None:
        if format_id is not None:
            raise Invalid("give either format (a built-in id) or format_toml (a custom file), not both", "two_formats")
        spec = parse_format(format_toml)
        if durations:
            spec = customise(spec, [(p.id, durations.get(p.id)) for p in spec.phases])
            unknown = set(durations) - {p.id for p in spec.phases}
            if unknown:
                raise Invalid(f"unknown phase id(s) for {spec.id}: {', '.join(sorted(unknown))}", "no_such_phase")
    else:
        spec = format_with_durations(format_id, durations)
    return customise(spec, picks) if picks is not None else spec
