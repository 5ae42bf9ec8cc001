"""A recurring group's rhythm: when it meets, the next date, and the calendar file members keep.

The rules, all here:

- a schedule is weekly or monthly (``every``), every ``interval`` weeks or months, on a
  weekday (monthly: its ``nth`` in the month, 1 to 4, or -1 for the last), at a local time,
  for some minutes, in a named IANA time zone, from a first date on; the local time stays put
  across daylight saving changes (the zone's rules, via ``zoneinfo``);
- a one-off change moves one date's meeting to another local date and time, or cancels it;
- the next meeting is the first one starting after a given moment (a session of the group
  asks from 12 hours after it was created, so the meeting being held is not "next");
- the calendar file (RFC 5545) holds the rule, the moves (a VEVENT with RECURRENCE-ID each)
  and cancellations (EXDATE), the zone's offsets (a VTIMEZONE), a fixed summary, and nothing
  else: no member, no name of anyone, no content of any meeting.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .errors import Invalid

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_MOVES = 24
HORIZON = 400  # occurrences looked at when searching for the next one


class Move(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    date: date  # the local date the rule puts a meeting on
    to: datetime | None = None  # the local date and time it moves to; None: cancelled


class Schedule(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")  # read as JSON: dates as ISO text, numbers as numbers

    every: Literal["week", "month"]
    interval: int = 1
    weekday: Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    nth: int | None = None  # monthly: 1..4, or -1 for the last
    time: str  # "HH:MM", local
    minutes: int = 90
    tz: str
    starts: date
    moves: list[Move] = []

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: int) -> int:
        if not 1 <= v <= 12:
            raise ValueError("interval: from 1 to 12")
        return v

    @field_validator("minutes")
    @classmethod
    def _minutes(cls, v: int) -> int:
        if not 10 <= v <= 600:
            raise ValueError("minutes: from 10 to 600")
        return v

    @field_validator("time")
    @classmethod
    def _time(cls, v: str) -> str:
        try:
            parsed = datetime.strptime(v, "%H:%M")
        except ValueError:
            raise ValueError("time: HH:MM, e.g. 14:00") from None
        return parsed.strftime("%H:%M")

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        if len(v) > 64 or v not in available_timezones():
            raise ValueError("tz: an IANA time zone, e.g. Europe/London")
        return v

    @model_validator(mode="after")
    def _shape(self) -> "Schedule":
        if self.every == "month" and self.nth not in (1, 2, 3, 4, -1):
            raise ValueError("nth: 1, 2, 3, 4 or -1 (the last) for a monthly schedule")
        if self.every == "week" and self.nth is not None:
            raise ValueError("nth: only for a monthly schedule")
        if len(self.moves) > MAX_MOVES:
            raise ValueError(f"moves: at most {MAX_MOVES}")
        return self


def check(data: dict[str, Any]) -> Schedule:
    try:
        return Schedule.model_validate_json(json.dumps(data))
    except ValidationError as e:
        first = e.errors()[0]
        said = first.get("ctx", {}).get("error")  # our own validators' words
        where = ".".join(str(part) for part in first["loc"]) or "schedule"
        text = str(said) if said else first["msg"]
        raise Invalid(text if ":" in text.split(" ")[0] else f"{where}: {text}", "bad_schedule",
                      field=where.split(".")[0]) from None
    except (ValueError, ZoneInfoNotFoundError):
        raise Invalid("schedule: not a schedule this page can keep", "bad_schedule") from None


def _zone(s: Schedule) -> ZoneInfo:
    return ZoneInfo(s.tz)


def _local_time(s: Schedule) -> time:
    return datetime.strptime(s.time, "%H:%M").time()


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def rule_dates(s: Schedule, count: int = HORIZON):
    """The dates the rule gives, in order, from ``starts`` on (before any move)."""
    wd = DAYS.index(s.weekday)
    if s.every == "week":
        d = s.starts + timedelta(days=(wd - s.starts.weekday()) % 7)
        for _ in range(count):
            yield d
            d += timedelta(weeks=s.interval)
        return
    assert s.nth is not None
    y, m, n = s.starts.year, s.starts.month, 0
    while n < count:
        d = _nth_weekday(y, m, wd, s.nth)
        if d >= s.starts:
            yield d
            n += 1
        m += s.interval
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1


def first_date(s: Schedule) -> date:
    return next(iter(rule_dates(s, 1)))


def occurrences(s: Schedule, count: int = HORIZON) -> list[tuple[datetime, date]]:
    """(start as an aware local datetime, the rule's date) of each meeting, moves applied, in order."""
    zone, at = _zone(s), _local_time(s)
    moved = {m.date: m.to for m in s.moves}
    out = []
    for d in rule_dates(s, count):
        if d in moved:
            to = moved[d]
            if to is None:
                continue
            out.append((to.replace(tzinfo=zone), d))
        else:
            out.append((datetime.combine(d, at, tzinfo=zone), d))
    return sorted(out)


def next_meeting(s: Schedule, after: float) -> float | None:
    """Epoch seconds of the first meeting starting after ``after`` (moves applied), however long
    ago the schedule started."""
    zone, at = _zone(s), _local_time(s)
    moved = {m.date: m.to for m in s.moves}
    best = min((t for t in (to.replace(tzinfo=zone).timestamp() for to in moved.values() if to is not None)
                if t > after), default=None)
    for d in rule_dates(s, 10**6):  # lazily: it stops at the first meeting after ``after``
        if d in moved:
            continue
        t = datetime.combine(d, at, tzinfo=zone).timestamp()
        if t > after:
            return t if best is None else min(t, best)
        if best is not None and t > best:
            break
    return best


def move(s: Schedule, on: date, to: datetime | None) -> Schedule:
    """A one-off change: the meeting the rule puts on ``on`` moves to ``to`` (local), or is cancelled."""
    if on not in set(rule_dates(s)):
        raise Invalid("date: the schedule has no meeting on that date", "no_meeting_that_day")
    moves = [m for m in s.moves if m.date != on] + [Move(date=on, to=to.replace(tzinfo=None) if to else None)]
    return check({**s.model_dump(mode="json"),
                  "moves": [m.model_dump(mode="json") for m in sorted(moves, key=lambda m: m.date)]})


def view(s: Schedule | None, now: float) -> dict[str, Any] | None:
    if s is None:
        return None
    nxt = next_meeting(s, now)
    local = datetime.fromtimestamp(nxt, _zone(s)).strftime("%Y-%m-%d %H:%M") if nxt is not None else None
    return {**s.model_dump(mode="json"), "next_at": nxt, "next_local": local}


# ---------------------------------------------------------------- the calendar file (RFC 5545)

def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(raw):
        end = min(len(raw), start + limit)
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(raw[start:end].decode())
        start, limit = end, 74
    return "\r\n ".join(parts)


def _local(dt: datetime) -> str:
    return dt.strftime("%Y%m%dT%H%M%S")


def _offset(td: timedelta | None) -> str:
    seconds = int((td or timedelta()).total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}{seconds % 3600 // 60:02d}"


def _transitions(zone: ZoneInfo, first: int, last: int) -> list[datetime]:
    """Each UTC instant in the years ``first``..``last`` at which the zone's offset changes."""
    found = []
    t = datetime(first, 1, 1, tzinfo=timezone.utc)
    end = datetime(last + 1, 1, 1, tzinfo=timezone.utc)
    step = timedelta(days=7)
    while t < end:
        u = t + step
        if t.astimezone(zone).utcoffset() != u.astimezone(zone).utcoffset():
            lo, hi = t, u
            while hi - lo > timedelta(minutes=1):  # to the minute: zones change on the quarter hour at worst
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(second=0, microsecond=0))
        t = u
    return found


def _vtimezone(s: Schedule, first: int, last: int) -> list[str]:
    zone = _zone(s)
    start = datetime(first, 1, 1, tzinfo=timezone.utc).astimezone(zone)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{s.tz}"]

    def observance(at_local: datetime, before: timedelta | None, after: datetime) -> list[str]:
        kind = "DAYLIGHT" if after.dst() else "STANDARD"
        return [f"BEGIN:{kind}", f"DTSTART:{_local(at_local)}", f"TZOFFSETFROM:{_offset(before)}",
                f"TZOFFSETTO:{_offset(after.utcoffset())}", f"TZNAME:{_escape(after.tzname() or s.tz)}",
                f"END:{kind}"]

    lines += observance(datetime(1970, 1, 1), start.utcoffset(), start)
    for instant in _transitions(zone, first, last):
        before = (instant - timedelta(minutes=1)).astimezone(zone)
        after = instant.astimezone(zone)
        # DTSTART of an observance is the local time in the offset in force before it
        lines += observance((instant + before.utcoffset()).replace(tzinfo=None), before.utcoffset(), after)
    return lines + ["END:VTIMEZONE"]


def summary(_: Any = None) -> str:
    """What each meeting is called in a member's calendar: the same for every group, naming nobody."""
    return _("Reflective practice group") if _ is not None else "Reflective practice group"


def calendar(s: Schedule, group_id: str, summary: str, now: float) -> str:
    """The group's meetings as an RFC 5545 calendar: one VEVENT with the rule, one per moved meeting."""
    zone, at = _zone(s), _local_time(s)
    first = datetime.combine(first_date(s), at)
    uid = hashlib.sha256(f"talking-piece calendar|{group_id}".encode()).hexdigest()[:32] + "@talking-piece"
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    day = s.weekday if s.every == "week" else f"{s.nth}{s.weekday}"
    rule = f"RRULE:FREQ={'WEEKLY' if s.every == 'week' else 'MONTHLY'};INTERVAL={s.interval};BYDAY={day}"
    tzid = f"TZID={s.tz}"
    last_year = max([first.year + 10] + [m.to.year for m in s.moves if m.to is not None])
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Talking Piece//Group rhythm//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", *_vtimezone(s, first.year - 1, last_year)]
    event = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}", f"DTSTART;{tzid}:{_local(first)}",
             f"DURATION:PT{s.minutes}M", rule, f"SUMMARY:{_escape(summary)}", "TRANSP:OPAQUE"]
    cancelled = [m.date for m in s.moves if m.to is None]
    if cancelled:
        event.append(f"EXDATE;{tzid}:" + ",".join(_local(datetime.combine(d, at)) for d in cancelled))
    lines += event + ["END:VEVENT"]
    for m in s.moves:
        if m.to is None:
            continue
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp}",
                  f"RECURRENCE-ID;{tzid}:{_local(datetime.combine(m.date, at))}",
                  f"DTSTART;{tzid}:{_local(m.to)}", f"DURATION:PT{s.minutes}M", f"SUMMARY:{_escape(summary)}",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    del zone
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
