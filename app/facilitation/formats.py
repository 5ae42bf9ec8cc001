"""The formats the product ships, as data files validated on load.

Each format is a TOML file beside this module (one per format) so that facilitators and
the people who plan formats can read and change timings without reading Python.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from .errors import Invalid
from .models import FormatSpec, PhaseSpec

DEFAULT_FORMAT = "check-in-out"


def parse_format(text: str) -> FormatSpec:
    """Parse one format file; raise ``Invalid`` naming what is wrong."""
    try:
        data = tomllib.loads(text)
        spec = FormatSpec.model_validate(data)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise Invalid(f"invalid format file: {exc}") from None
    ids = [p.id for p in spec.phases]
    if not ids:
        raise Invalid(f"format {spec.id!r} has no phases")
    if len(set(ids)) != len(ids):
        raise Invalid(f"format {spec.id!r} repeats a phase id")
    return spec


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
        raise Invalid(f"unknown format {format_id!r}; known: {', '.join(formats)}")
    durations = durations or {}
    unknown = set(durations) - {p.id for p in spec.phases}
    if unknown:
        raise Invalid(f"unknown phase id(s) for {spec.id}: {', '.join(sorted(unknown))}")
    try:
        phases = tuple(
            PhaseSpec.model_validate({**p.model_dump(), "duration_s": durations.get(p.id, p.duration_s)})
            for p in spec.phases
        )
    except ValueError as exc:
        raise Invalid(f"invalid duration: {exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}") from None
    return spec.model_copy(update={"phases": phases})
