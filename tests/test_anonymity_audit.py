"""The anonymity audit: a whole session with questions, feedback and votes,
in every store mode, with everything anyone could read captured:

- every frame every role's socket received (facilitator, screen, each participant),
- every HTTP response (views, acks, summaries),
- every server log line at debug level written meanwhile,
- the stored state: in Redis mode every key under the suite's prefix and every message on
  the session's pub/sub channel; in memory mode every row of the sessions file the server
  writes its sessions through to.

Then nothing may tie an item to its author: no participant id, name, token or token hash in
any object that holds an item; no log line that names both a participant and an item or a
submission; revealed items in an order that is not the order they were written; and a
submission or a vote makes no version of its own, the counts moving later, at a fold that
changes nothing else (no timestamp, no counter, no flag on the author that would single out
who wrote when).

Correlation, too (SECURITY.md, threat model): phones wake, act and sleep in turn while an
observer watches the facilitator's frames, and when they arrive, and who taps their phone;
their best guesses of each author are right no more often than chance. Every mark a store or
pub/sub reader could try to recompute (votes, wellbeing, consent) is tried, and the
remembered acks are checked for receipts. The wellbeing spread, once shown, moves only by a
showing of several answers. Each check also catches its leak when planted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import random
import re
import secrets
import threading
import time
from typing import Any

import httpx
import pytest

from app.config import AppSettings
from app.facilitation.commands import parse_command
from app.realtime.runtime import build_runtime
from app.realtime.service import Caller, marking_key
from tests.conftest import STORE_MODES, store_id
from tests.support.client import Api, LiveClient, all_see, close_all
from tests.support.server import ServerProcess
from tests.support.stored import store_dump

NAMES = ["Zephyrine", "Quillon", "Marisol", "Thaddeus", "Oriane"]
STORED_ITEM_FIELDS = {"id", "kind", "text", "revealed", "hidden", "receipt_hash", "voter_hashes", "stage",
                      "votes_staged", "votes_shown", "retracted"}
ITEM_WORDS = re.compile(r"item|submit|vote|question|feedback|reveal|retract", re.I)


def marker() -> str:
    """A random word (letters only: digits could look like an identifier the guard asks about)."""
    return "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(12))


class RecordingApi(Api):
    """An Api that keeps every response it got."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.responses: list[str] = []

    def request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        answer = super().request(method, path, token, **kwargs)
        self.responses.append(answer.text)
        return answer


class Audit:
    """What the test knows (who wrote what) and everything it captured."""

    def __init__(self) -> None:
        self.authors: dict[str, str] = {}  # item text -> author's participant id
        self.written: list[str] = []  # item texts in the order they were submitted
        self.identity: dict[str, list[str]] = {}  # participant id -> [id, name, token, sha256(token)]
        self.blobs: list[tuple[str, str]] = []  # (where, text)
        self.quiet_acks: list[tuple[int, int]] = []  # (facilitator's version before, ack's version) per anonymous act
        self.facilitator_versions: set[int] = set()  # versions the facilitator's own commands made

    def person(self, pid: str, name: str, token: str) -> None:
        self.identity[pid] = [pid, name, token, hashlib.sha256(token.encode()).hexdigest()]

    def marks_of(self, pid: str) -> list[str]:
        return self.identity[pid]


def objects_holding(tree: Any, needle: str) -> list[Any]:
    """Every dict or list in a JSON tree that holds ``needle`` as a direct value."""
    found = []
    if isinstance(tree, dict):
        if needle in tree.values():
            found.append(tree)
        for value in tree.values():
            found += objects_holding(value, needle)
    elif isinstance(tree, list):
        if needle in tree:
            found.append(tree)
        for value in tree:
            found += objects_holding(value, needle)
    return found


def parsed(text: str) -> Any:
    """JSON found in a blob: the blob itself, or JSON strings nested in it (Redis hashes hold JSON)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return unwrap(value)


def unwrap(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return unwrap(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def item_ids(view: dict[str, Any], audit: Audit) -> dict[str, str]:
    """Revealed item ids -> their author (through the text, which only the test links)."""
    return {i["id"]: audit.authors[i["text"]] for i in view["items"] if i["text"] in audit.authors}


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def redis_channel_recorder(server: ServerProcess, request: pytest.FixtureRequest, code: str,
                           sink: list[str]) -> threading.Event | None:
    """In Redis mode, record every message on the session's pub/sub channel until stopped."""
    if getattr(server, "mode", "memory") != "redis":
        return None
    client = request.getfixturevalue("redis_server").client()
    pubsub = client.pubsub()
    pubsub.psubscribe(f"{server.env.get('REDIS_PREFIX', 'tp:')}*{code}*")
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "pmessage":
                sink.append(str(message["data"]))
        pubsub.close()
        client.close()

    threading.Thread(target=run, daemon=True).start()
    return stop


# The checks, as functions of what was captured, so that they can be shown to catch a
# planted leak (test_the_audit_catches_a_planted_leak) as well as pass a clean session.

COUNTER_KEYS = {"pending", "items", "wellbeing", "proposals"}


def state_frames(client: LiveClient) -> list[dict[str, Any]]:
    return [f for f in client.frames if f["type"] == "state"]


def counters(view: dict[str, Any]) -> Any:
    return (view["pending"], [(i["id"], i["votes"]) for i in view["items"]],
            [(t["phase_id"], t["answered"], t["distribution"]) for t in view.get("wellbeing", [])],
            [(p["id"], p["agreed"], p["objected"], p["answered"]) for p in view.get("proposals", [])])


def check_counts_move_alone(frames: list[dict[str, Any]], own_versions: set[int], who: str) -> None:
    """Between consecutive states, a change of the anonymous counts comes with nothing else
    (except in a version the facilitator's own command made: a reveal moves pending into items)."""
    for a, b in zip(frames, frames[1:]):
        before, after = a["view"], b["view"]
        if counters(before) == counters(after) or b["version"] in own_versions:
            continue
        changed = changed_keys(before, after) - {"version", "me"} - COUNTER_KEYS
        assert not changed, f"{who}: counts moved in version {b['version']} together with {sorted(changed)}"
        assert [i["id"] for i in before["items"]] == [i["id"] for i in after["items"]], (who, b["version"])
        for old, new in zip(before["items"], after["items"]):
            assert set(changed_keys(old, new)) <= {"votes"}, (who, b["version"], old, new)


def check_acts_are_quiet(audit: Audit, facilitator: LiveClient) -> None:
    """No anonymous act was acknowledged with a version of its own: its ack names a version
    that stood already, or a fold's (a version in which only counts moved)."""
    by_version = {f["version"]: f["view"] for f in state_frames(facilitator)}
    ordered = sorted(by_version)
    for seen, acked in audit.quiet_acks:
        if acked <= seen:
            continue
        assert acked in by_version, f"an anonymous act made version {acked}, which nobody was sent"
        earlier = [v for v in ordered if v < acked]
        before = by_version[earlier[-1]] if earlier else None
        assert before is not None and tallies_only(before, by_version[acked]), \
            f"version {acked} came with an anonymous act and changed more than counts"


def tallies_only(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return not (changed_keys(before, after) - {"version", "me"} - COUNTER_KEYS)

def check_no_item_beside_its_author(audit: Audit, final: dict[str, Any]) -> None:
    # 1. No object that holds an item holds anything of its author.
    for where, text in audit.blobs:
        tree = parsed(text)
        for item_text, author in audit.authors.items():
            item_id = next(x["id"] for x in final["items"] if x["text"] == item_text)
            holders = objects_holding(tree, item_text) + objects_holding(tree, item_id) if tree is not None else []
            for holder in holders:
                if isinstance(holder, list):
                    continue  # a list of items (or of ids): the items' own dicts are checked
                blob = json.dumps(holder)
                for mark in audit.marks_of(author):
                    assert mark not in blob, f"{where}: item {item_text!r} sits beside its author's {mark!r}"
            if tree is None:  # not JSON (a log line is checked below): no item beside its author at all
                assert item_text not in text or not any(m in text for m in audit.marks_of(author)), where


def check_item_fields(audit: Audit) -> None:
    # 2. Items in views carry exactly the contract's fields, nothing about time or people.
    for where, text in audit.blobs:
        tree = parsed(text)
        for holder in objects_holding(tree, "question") + objects_holding(tree, "feedback"):
            if isinstance(holder, dict) and "text" in holder and holder.get("text") in audit.authors:
                if where.startswith(("frame", "http")):
                    assert set(holder) == {"id", "kind", "text", "votes"}, (where, holder)
                else:  # the stored record: salted hashes only, no time, no author (see models.Item)
                    assert set(holder) <= STORED_ITEM_FIELDS, (where, holder)


def check_log(audit: Audit, log_lines: list[str], by_id: dict[str, str]) -> None:
    # 5. The log says nothing about who wrote or voted for what.
    for line in log_lines:
        for item_text in audit.authors:
            # a frame logged at debug level shows its text cut in the middle: look for each end too
            for piece in {item_text, item_text[:14], item_text[-14:]}:
                assert piece not in line, f"an item's text was logged: {line}"
        for pid, marks in audit.identity.items():
            assert marks[2] not in line and marks[3] not in line, f"a token was logged: {line}"
            if any(mark in line for mark in marks[:2]):
                assert not ITEM_WORDS.search(line), f"a log line ties a participant to items: {line}"
        for item_id in by_id:
            if item_id in line:
                assert not any(m in line for marks in audit.identity.values() for m in marks), line


def test_nothing_ties_an_item_to_its_author(server: ServerProcess, request: pytest.FixtureRequest) -> None:
    audit_a_session(server, request)


@pytest.fixture(scope="module")
def json_log_server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(env={"REDIS_URL": "", "LOG_FORMAT": "json"},
                         log_path=tmp_path_factory.mktemp("audit-json") / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


def test_nothing_ties_an_item_to_its_author_in_json_log_lines(json_log_server: ServerProcess,
                                                               request: pytest.FixtureRequest) -> None:
    """The same audit with LOG_FORMAT=json: every line is a JSON object, read for the same leaks."""
    audit_a_session(json_log_server, request)


def audit_a_session(server: ServerProcess, request: pytest.FixtureRequest) -> None:
    audit = Audit()
    log_start = server.log_path.stat().st_size if server.log_path and server.log_path.exists() else 0
    api = RecordingApi(server.base_url)
    created = api.create_session(title="Audit: Tuesday supervision")
    code, fac, screen = created["code"], created["facilitator_token"], created["screen_token"]
    people = []
    for name in NAMES:
        joined = api.join(code, name)
        audit.person(joined["participant_id"], name, joined["token"])
        people.append(joined)
    published: list[str] = []
    stop_recording = redis_channel_recorder(server, request, code, published)
    if stop_recording is not None:
        import time; time.sleep(0.2)  # the subscription is in place before anything is written

    async def scenario() -> dict[str, LiveClient]:
        sockets = {"facilitator": await LiveClient.connect(server.ws_base, code, fac),
                   "screen": await LiveClient.connect(server.ws_base, code, screen)}
        for p in people:
            sockets[p["participant_id"]] = await LiveClient.connect(server.ws_base, code, p["token"])
        everyone = list(sockets.values())
        await all_see(everyone, lambda v: all(p["connected"] for p in v["participants"]))  # presence settled first
        await sockets["facilitator"].apply({"type": "start"})
        # Each writes questions and feedback, some over the socket and some over HTTP, interleaved.
        for round_no in range(2):
            for n, p in enumerate(people):
                for kind in ("question", "feedback"):
                    text = f"{kind} {marker()}"
                    audit.authors[text] = p["participant_id"]
                    audit.written.append(text)
                    command = {"type": "submit_item", "kind": kind, "text": text}
                    seen = sockets["facilitator"].version
                    if (n + round_no) % 2:
                        ack = await sockets[p["participant_id"]].apply(command)
                    else:
                        ack = await asyncio.to_thread(api.ok, code, p["token"], command)
                    audit.quiet_acks.append((seen, ack["version"]))
                    await all_see(everyone, lambda v, version=ack["version"]: v["version"] >= version)
        for kind in ("question", "feedback"):  # counted at folds; then revealed
            await sockets["facilitator"].wait_for_state(lambda v, kind=kind: v["pending"][kind] == len(people) * 2)
            ack = await sockets["facilitator"].apply({"type": "reveal_items", "kind": kind})
            audit.facilitator_versions.add(ack["version"])
            await all_see(everyone, lambda v, version=ack["version"]: v["version"] >= version)
        revealed = sockets["facilitator"].view["items"]
        assert len(revealed) == len(audit.written)
        # Everyone votes for two items (not their own: they know which those are; the server must not).
        for n, p in enumerate(people):
            for item in (revealed[n], revealed[-1 - n]):
                seen = sockets["facilitator"].version
                ack = await sockets[p["participant_id"]].apply({"type": "vote_item", "item_id": item["id"]})
                audit.quiet_acks.append((seen, ack["version"]))
                await all_see(everyone, lambda v, version=ack["version"]: v["version"] >= version)
        await sockets["facilitator"].wait_for_state(lambda v: sum(i["votes"] for i in v["items"]) == 2 * len(people))
        for p in people[:2]:  # actions are attributed by design; they must not leak item authorship
            await sockets[p["participant_id"]].apply({"type": "add_action", "text": f"action {marker()}"})
        await asyncio.sleep(0.3)
        await close_all(everyone)
        return sockets

    sockets = asyncio.run(scenario())
    for who in ["facilitator", "screen", *audit.identity]:
        for view_token in ([fac] if who == "facilitator" else [screen] if who == "screen" else
                           [audit.identity[who][2]]):
            api.view(code, view_token)
            api.request("GET", f"/api/sessions/{code}/summary", view_token)
            api.request("GET", f"/api/sessions/{code}/summary.md", view_token)
    api.close()
    if stop_recording is not None:
        stop_recording.set()

    # ------------------------------------------------------------ gather every capture
    for who, client in sockets.items():
        for frame in client.frames:
            audit.blobs.append((f"frame to {who}", json.dumps(frame)))
    audit.blobs += [("http response", text) for text in api.responses]
    audit.blobs += [("pub/sub message", text) for text in published]
    dump = store_dump(server, request)
    audit.blobs += [(f"stored {key}", value) for key, value in dump.items() if code in key or code in value]
    log_text = server.log_path.read_bytes()[log_start:].decode("utf-8", "replace") if server.log_path else ""
    log_lines = log_text.splitlines()
    assert any("DEBUG" in line for line in log_lines) or not log_lines  # debug level was on
    if server.env.get("LOG_FORMAT") == "json":
        assert all(isinstance(json.loads(line), dict) for line in log_lines if line.strip())

    # The captures are not empty: every role's socket saw states, and in Redis mode the record
    # and the channel were read.
    assert all(sum(f["type"] == "state" for f in c.frames) >= 5 for c in sockets.values())
    assert len(api.responses) > 20 and log_lines
    if getattr(server, "mode", "memory") == "redis":
        assert published and any('"record"' in v for v in dump.values())
    else:
        assert any(key == f"sessions:{code}" for key in dump)  # the sessions file

    final = sockets["facilitator"].view
    by_id = item_ids(final, audit)
    assert len(by_id) == len(audit.written)

    check_no_item_beside_its_author(audit, final)  # 1
    check_item_fields(audit)  # 2

    # 3. Revealed items do not come in the order they were written, per kind or overall.
    for kind in ("question", "feedback"):
        shown = [i["text"] for i in final["items"] if i["kind"] == kind]
        written = [t for t in audit.written if t.startswith(kind)]
        assert sorted(shown) == sorted(written)
        assert shown != written and shown != written[::-1], f"{kind}s are shown in the order they were written"
        authors_in_order = [audit.authors[t] for t in shown]
        assert authors_in_order != [audit.authors[t] for t in written]

    # 4. A submission or a vote makes no version of its own (it is acknowledged with a version
    #    that already stood, or a fold's); counts move only at folds, and a fold changes nothing
    #    but counts in anybody's view: no participant's entry, no timestamp, no flag.
    check_acts_are_quiet(audit, sockets["facilitator"])
    for who, client in sockets.items():
        check_counts_move_alone(state_frames(client), audit.facilitator_versions, who)

    check_log(audit, log_lines, by_id)  # 5

    # 6. Stored state (Redis): the session's record holds items in no per-author order either.
    for key, value in dump.items():
        if code not in key:
            continue
        tree = parsed(value)
        record = tree.get("record") if isinstance(tree, dict) else None
        if isinstance(record, dict):
            stored = [i["text"] for i in record["state"]["items"]]
            assert stored != audit.written, "the store keeps items in the order they were written"
            for item in record["state"]["items"]:
                blob = json.dumps(item)
                for mark in audit.marks_of(audit.authors[item["text"]]):
                    assert mark not in blob, (key, item)


# ---------------------------------------------------------------- the audit audited

TOKENS = {"p1": "tok-" + "a" * 28, "p2": "tok-" + "b" * 28}
WRITTEN = {"question: what did the first visit teach you?": "p1", "feedback: the pause before answering helped": "p2"}
FINAL = {"items": [{"id": "it1", "kind": "question", "text": "question: what did the first visit teach you?", "votes": 1},
                   {"id": "it2", "kind": "feedback", "text": "feedback: the pause before answering helped", "votes": 0}],
         "participants": [{"id": "p1", "name": "Zephyrine"}, {"id": "p2", "name": "Quillon"}]}
SHA1 = hashlib.sha256(TOKENS["p1"].encode()).hexdigest()


def captured(frames: list[Any], log: list[str]) -> tuple[Audit, list[str]]:
    audit = Audit()
    audit.person("p1", "Zephyrine", TOKENS["p1"])
    audit.person("p2", "Quillon", TOKENS["p2"])
    for text, author in WRITTEN.items():
        audit.authors[text] = author
        audit.written.append(text)
    audit.blobs = [(where, json.dumps(value)) for where, value in frames]
    return audit, log


def run_checks(audit: Audit, log: list[str]) -> None:
    check_no_item_beside_its_author(audit, FINAL)
    check_item_fields(audit)
    check_log(audit, log, item_ids(FINAL, audit))


CLEAN = [("frame facilitator", {"type": "state", "version": 9, "view": FINAL}),
         ("http GET view", FINAL),
         ("redis tp:session", {"record": json.dumps({"state": {"items": [
             {"id": "it1", "kind": "question", "text": "question: what did the first visit teach you?",
              "revealed": True, "hidden": False, "receipt_hash": "9f" * 16, "voter_hashes": ["1c" * 16]}]}})})]
CLEAN_LOG = ["INFO talkingpiece.sessions: session ABCDEF created (check-in-out)",
             "INFO uvicorn: 'WebSocket /api/sessions/ABCDEF/live?token=[redacted]' [accepted]"]


def test_the_audit_passes_a_clean_capture() -> None:
    run_checks(*captured(CLEAN, CLEAN_LOG))


def item(n: int, **extra: Any) -> dict[str, Any]:
    return {**FINAL["items"][n], **extra}


PLANTED = {
    "an author id on an item": ([("frame phone", {"view": {"items": [item(0, author="p1")]}})], []),
    "an author name beside an item id": ([("frame screen", {"votes": [{"item_id": "it2", "by": "Quillon"}]})], []),
    "a submission time on an item": ([("frame facilitator", {"view": {"items": [item(1, submitted_at=1795400000.5)]}})], []),
    "the author's token hash in the store": ([("redis tp:session", {"record": json.dumps(
        {"state": {"items": [{**item(0), "receipt_hash": SHA1}]}})})], []),
    "a log line naming the writer": ([], ["DEBUG talkingpiece: Zephyrine submitted a question"]),
    "an item's text in the log": ([], ["INFO talkingpiece: new item 'question: what did the first visit teach you?'"]),
    "a token in the log": ([], [f"INFO uvicorn: WebSocket /live/ABCDEF?token={TOKENS['p2']}"]),
}


@pytest.mark.parametrize("plant", list(PLANTED))
def test_the_audit_catches_a_planted_leak(plant: str) -> None:
    frames, log = PLANTED[plant]
    with pytest.raises(AssertionError):
        run_checks(*captured(CLEAN + frames, CLEAN_LOG + log))


# ---------------------------------------------------------------- correlation
# An observer who sees every frame the facilitator gets, and when, and who in the room just
# tapped their phone, guesses each author. Phones wake, act and sleep in turn, the way a
# phone in a pocket sends what its outbox holds. Each trial has one author, chosen at random
# among the phones that wake; the guesses must be right no more often than chance.

PHONES = 4
TRIALS = 12
# Slower folds than the suite's, and a presence debounce longer than a wake: as in production
# (6 s folds, 15 s to show someone connected), scaled down so the test takes seconds.
CORRELATION_ENV = {"TALLY_INTERVAL_S": "0.6", "PRESENCE_ON_S": "2", "PRESENCE_OFF_S": "0.5"}


def guess_by_entries(frames: list[tuple[float, dict[str, Any]]], moved_at: int) -> str | None:
    """The person whose own entry in ``participants`` changed last, at or before the version
    in which the counter moved."""
    guess = None
    for (_, a), (_, b) in zip(frames, frames[1:]):
        if b["version"] > moved_at:
            break
        old = {p["id"]: p for p in a["view"]["participants"]}
        for p in b["view"]["participants"]:
            if old.get(p["id"]) != p:
                guess = p["id"]
    return guess


def guess_by_taps(taps: list[tuple[float, str]], moved_at: float) -> str | None:
    """The person the room last saw tap their phone before the counter moved."""
    before = [who for when, who in taps if when <= moved_at]
    return before[-1] if before else None


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def check_at_chance(right: int, trials: int, people: int, what: str) -> None:
    """Right no more often than chance: a fair mechanism fails this less than once in a thousand runs."""
    p = binomial_tail(right, trials, 1 / people)
    assert p >= 0.001, f"{what}: {right} of {trials} authors guessed (chance is 1 in {people}; p = {p:.2g})"


def score(trials: list[dict[str, Any]], frames: list[tuple[float, dict[str, Any]]]) -> tuple[int, int]:
    """(right by entries, right by taps) over the trials: each names its author, taps and counter."""
    by_entries = by_taps = 0
    for trial in trials:
        moved = next(((t, f) for (t, f), (_, before) in zip(frames[1:], frames)
                      if f["version"] > trial["from_version"] and trial["counter"](f["view"]) > trial["counter"](before["view"])),
                     None)
        assert moved is not None, "the counter never moved"
        when, frame = moved
        by_entries += guess_by_entries(frames, frame["version"]) == trial["author"]
        by_taps += guess_by_taps(trial["taps"], when) == trial["author"]
    return by_entries, by_taps


def check_correlation(trials: list[dict[str, Any]], frames: list[tuple[float, dict[str, Any]]]) -> None:
    by_entries, by_taps = score(trials, frames)
    check_at_chance(by_entries, len(trials), PHONES, "whose entry changed last")
    check_at_chance(by_taps, len(trials), PHONES, "who tapped last")


@pytest.fixture(scope="module", params=STORE_MODES, ids=store_id)
def batching_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from tests.conftest import server_env
    env = {**server_env(request.param, request), **CORRELATION_ENV}
    if request.param == "redis":
        env["REDIS_PREFIX"] = "tp-audit:"
    proc = ServerProcess(env=env, log_path=tmp_path_factory.mktemp("audit") / "server.log").start()
    proc.mode = request.param  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        proc.stop()


def test_an_observer_of_frames_and_taps_guesses_authors_no_better_than_chance(batching_server: ServerProcess) -> None:
    server = batching_server
    rng = random.Random()
    api = Api(server.base_url)
    created = api.create_session(title="Audit: who wrote that?")
    code, fac = created["code"], created["facilitator_token"]
    people = [api.join(code, f"{name} {n}") for n, name in enumerate(NAMES[:PHONES])]
    ids = [p["participant_id"] for p in people]
    api.ok(code, fac, {"type": "start"})
    for n, p in enumerate(people):  # items to vote for, written before anyone watches
        api.ok(code, p["token"], {"type": "submit_item", "kind": "question", "text": f"question {marker()}"})
    api.view_when(code, fac, lambda v: v["pending"]["question"] == PHONES)
    items = [i["id"] for i in api.ok(code, fac, {"type": "reveal_items", "kind": "question"}) and
             api.view(code, fac)["items"]]
    voted: set[tuple[str, str]] = set()

    async def scenario() -> tuple[list[dict[str, Any]], list[tuple[float, dict[str, Any]]]]:
        # Everyone was in the room with their phone awake at the start, then put it away.
        phones = [await LiveClient.connect(server.ws_base, code, p["token"]) for p in people]
        await all_see(phones, lambda v: all(p["connected"] for p in v["participants"]))
        await close_all(phones)
        api.view_when(code, fac, lambda v: not any(p["connected"] for p in v["participants"]))
        watcher = await LiveClient.connect(server.ws_base, code, fac)
        frames: list[tuple[float, dict[str, Any]]] = [(time.monotonic(), watcher.state)]

        async def watch() -> None:
            while True:
                frame = await watcher.next_frame(timeout=120)
                if frame["type"] == "state":
                    frames.append((time.monotonic(), frame))

        reader = asyncio.get_running_loop().create_task(watch())
        trials = []
        try:
            for t in range(TRIALS):
                kind = "submit" if t % 2 == 0 else "vote"
                item = items[(t // 2) % len(items)]
                eligible = [n for n in range(PHONES) if kind == "submit" or (ids[n], item) not in voted]
                author = rng.choice(eligible)
                if kind == "submit":
                    command = {"type": "submit_item", "kind": "feedback", "text": f"feedback {marker()}"}
                    counter = lambda v: v["pending"]["feedback"]
                else:
                    command, _ = {"type": "vote_item", "item_id": item}, voted.add((ids[author], item))
                    counter = lambda v, item=item: next(i["votes"] for i in v["items"] if i["id"] == item)
                trial = {"author": ids[author], "counter": counter, "taps": [], "from_version": frames[-1][1]["version"]}
                start = counter(frames[-1][1]["view"])
                for n in rng.sample(range(PHONES), PHONES):  # each phone wakes, taps, sleeps
                    phone = await LiveClient.connect(server.ws_base, code, people[n]["token"])
                    trial["taps"].append((time.monotonic(), ids[n]))
                    if n == author:
                        assert (await phone.send_command(command))["type"] == "ack"
                    else:
                        await phone.probe()
                    await phone.close()
                trials.append(trial)
                for _ in range(200):  # until the facilitator's stream shows the count moved
                    if counter(frames[-1][1]["view"]) > start:
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(rng.uniform(0.1, 0.4))
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await watcher.close()
        return trials, frames

    trials, frames = asyncio.run(scenario())
    api.close()
    # Nobody's wake showed: no participant's entry changed while the phones woke and slept.
    first = frames[0][1]["view"]["participants"]
    assert all(f["view"]["participants"] == first for _, f in frames), "a phone that woke to send was shown"
    check_correlation(trials, frames)


# ---------------------------------------------------------------- markers

def mark_candidates(record: dict[str, Any]) -> set[str]:
    """Every mark an attacker could compute from a stored session: its salt, code, ids, names and
    token hashes, with every derivation the code has used or might (SHA-256 of the parts, HMAC
    keyed by any of them, and the participant's marking key as if any of them were the token)."""
    state = record["state"]
    people = [(p["id"], p["name"], p["token_hash"]) for p in state["participants"]]
    things = ([("vote", i["id"]) for i in state["items"]] + [("wellbeing", p["id"]) for p in state["format"]["phases"]]
              + [("consent", p["id"]) for p in state.get("proposals", [])])
    secrets_ = [state["salt"], state["facilitator_token_hash"], state["screen_token_hash"]]
    found = set()
    for pid, name, token_hash in people:
        for kind, thing in things:
            for parts in ((state["salt"], kind, thing, pid), (pid, kind, thing), (token_hash, kind, thing),
                          (state["salt"], kind, state["code"], thing, pid)):
                found.add(hashlib.sha256("\x1f".join(parts).encode()).hexdigest())
            message = "\x1f".join((kind, state["code"], thing)).encode()
            for key in (pid, name, token_hash, *secrets_):
                found.add(hmac.new(key.encode(), message, hashlib.sha256).hexdigest())
                found.add(hmac.new(marking_key(key, state["code"]).encode(), message, hashlib.sha256).hexdigest())
    return found


def stored_marks(record: dict[str, Any]) -> set[str]:
    state = record["state"]
    return ({m for i in state["items"] for m in i["voter_hashes"]} | {m for t in state["wellbeing"] for m in t["answered"]}
            | {m for p in state.get("proposals", []) for m in p["answered"]})


def records_in(blobs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    found = []
    for _, text in blobs:
        tree = parsed(text)
        for holder in [tree, *(tree.values() if isinstance(tree, dict) else [])]:
            if isinstance(holder, dict) and isinstance(holder.get("state"), dict) and "participants" in holder["state"]:
                found.append(holder)
    return found


def check_marks_not_recomputable(blobs: list[tuple[str, str]], tokens: list[str]) -> None:
    records = records_in(blobs)
    assert records, "no stored session record was captured"
    for record in records:
        marks = stored_marks(record)
        assert not marks & mark_candidates(record), "a vote, wellbeing or consent mark is recomputable from the store"
    for where, text in blobs:
        for token in tokens:
            assert token not in text, f"{where}: a participant's token is stored or published"


def check_no_secret_in_acks(blobs: list[tuple[str, str]], secrets_: list[str]) -> None:
    """Receipts (and item ids, which a remembered ack would tie to the sender's command) appear
    nowhere stored or published but in the items themselves."""
    for record in records_in(blobs):
        for key, ack in record.get("acks", {}).items():
            assert set(ack) == {"sealed"}, f"a remembered ack is kept in the clear: {ack}"
    for where, text in blobs:  # Redis keeps each ack in a field of the session's hash of its own
        tree = parsed(text)
        for field, ack in (tree.items() if isinstance(tree, dict) else ()):
            if field.startswith("k:"):
                ack = unwrap(ack)
                assert isinstance(ack, dict) and set(ack) == {"sealed"}, f"{where}: an ack is kept in the clear: {ack}"
    for where, text in blobs:
        for secret in secrets_:
            assert secret not in text, f"{where}: a receipt is stored or published"


def test_no_marker_can_be_recomputed_from_what_is_stored_or_published(
        request: pytest.FixtureRequest, tmp_path: Any) -> None:
    """In both store modes, in this process: everything the store holds and everything the
    broker publishes, after votes, wellbeing answers, consent and submissions."""
    for mode in ("memory", "redis"):
        asyncio.run(marks_scenario(mode, request, tmp_path))


async def marks_scenario(mode: str, request: pytest.FixtureRequest, tmp_path: Any) -> None:
    settings = AppSettings(redis_url=None, tally_interval_s=0.1, presence_on_s=0, presence_off_s=0,
                           groups_db=str(tmp_path / "g.db"))
    if mode == "redis":
        settings = settings.model_copy(update={"redis_url": request.getfixturevalue("redis_server").url,
                                               "redis_prefix": f"tp-marks-{secrets.token_hex(3)}:",
                                               "limits_secret": secrets.token_hex(32)})
    rt = await build_runtime(settings)
    published: list[str] = []
    try:
        service = rt.service
        created = await service.create_session("Audit: marks", "check-in-out", None)
        code = created.code
        people = [await service.join(code, name) for name in NAMES]

        async def caller_of(token: str) -> Caller:
            return (await service.authenticate(code, token))[1]

        raw = None
        if mode == "redis":
            raw = rt.redis.pubsub()
            await raw.psubscribe(f"{settings.redis_prefix}*")
        async with rt.broker.subscribe(code, lambda state: published.append(state.model_dump_json()), lambda *_: None):
            fac = created.facilitator_token
            await service.execute(await caller_of(fac), parse_command({"type": "start"}))
            receipts, first_acks = [], {}
            for n, p in enumerate(people):
                await service.execute(await caller_of(p.token), parse_command({"type": "rate_wellbeing", "score": 1 + n % 5}))
                ack = await service.execute(await caller_of(p.token), parse_command(
                    {"type": "submit_item", "kind": "question", "text": f"question {marker()}"}), f"q-{n}")
                receipts.append(ack["receipt"])
                first_acks[n] = ack
            # A resent submit gets its first ack back, receipt and all, from the sealed cache.
            for n, p in enumerate(people):
                again = await service.execute(await caller_of(p.token), parse_command(
                    {"type": "submit_item", "kind": "question", "text": "another"}), f"q-{n}")
                assert again == first_acks[n]
            await until(lambda: service.load(code), lambda s: sum(i.stage == 2 for i in s.items) == len(people))
            await service.execute(await caller_of(fac), parse_command({"type": "reveal_items", "kind": "question"}))
            state = await service.load(code)
            proposal = await service.execute(await caller_of(fac), parse_command(
                {"type": "propose_summary", "kind": "theme", "text": "Rotas"}))
            for n, p in enumerate(people):
                for item in state.items[n:n + 2]:
                    await service.execute(await caller_of(p.token), parse_command({"type": "vote_item", "item_id": item.id}))
                await service.execute(await caller_of(p.token), parse_command(
                    {"type": "consent", "proposal_id": proposal["proposal_id"], "agree": n % 2 == 0}))
            await until(lambda: service.load(code), lambda s: s.flush_at is None)
        blobs = [("published state", text) for text in published]
        record = await rt.store.load(code)
        blobs.append(("stored record", record.model_dump_json()))
        if raw is not None:
            while (message := await raw.get_message(timeout=0.1)) is not None:
                blobs.append(("pub/sub message", str(message.get("data"))))
            await raw.aclose()
            for key in await rt.redis.keys(f"{settings.redis_prefix}*"):
                blobs.append((f"redis {key}", json.dumps(await redis_value(rt.redis, key))))
        tokens = [p.token for p in people]
        check_marks_not_recomputable(blobs, tokens)
        check_no_secret_in_acks(blobs, receipts)
        # The marks are there, and their owners recompute them: the check above would see a leak.
        final = record.state
        for p in people:
            key = marking_key(p.token, code)
            assert hmac.new(key.encode(), "\x1f".join(("wellbeing", code, "check-in")).encode(),
                            hashlib.sha256).hexdigest() in final.wellbeing[0].answered
        assert sum(len(i.voter_hashes) for i in final.items) == 2 * len(people) - 1
    finally:
        await rt.close()


async def redis_value(redis: Any, key: str) -> Any:
    """Whatever a key holds, read as an operator would, whichever kind of value it is."""
    kind = await redis.type(key)
    read = {"hash": redis.hgetall, "zset": lambda k: redis.zrange(k, 0, -1, withscores=True),
            "set": redis.smembers, "list": lambda k: redis.lrange(k, 0, -1), "string": redis.get}[kind]
    value = await read(key)
    return sorted(value) if isinstance(value, set) else value


async def until(load: Any, predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate(await load()):
        assert time.monotonic() < deadline, "the folds never caught up"
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------- the spread, once

def check_spread_moves_only_in_batches(frames: list[dict[str, Any]], threshold: int) -> None:
    """Once shown, a wellbeing spread changes only by a showing of at least ``threshold`` new answers."""
    for a, b in zip(frames, frames[1:]):
        old = {t["phase_id"]: t["distribution"] for t in a["view"]["wellbeing"]}
        for t in b["view"]["wellbeing"]:
            before, after = old.get(t["phase_id"]), t["distribution"]
            if before is not None and after != before:
                assert after is not None and sum(after) - sum(before) >= threshold, \
                    f"the spread moved by {sum(after or []) - sum(before)} answer(s) in version {b['version']}"


def test_the_wellbeing_spread_is_shown_once_and_later_answers_do_not_move_it(server: ServerProcess) -> None:
    async def scenario() -> list[dict[str, Any]]:
        api = Api(server.base_url)
        created = api.create_session(title="Audit: how are we", format="check-in-out")
        code, fac = created["code"], created["facilitator_token"]
        people = [api.join(code, f"{name} w") for name in NAMES]
        watcher = await LiveClient.connect(server.ws_base, code, fac)
        await watcher.apply({"type": "start"})
        for n, p in enumerate(people[:3]):
            api.ok(code, p["token"], {"type": "rate_wellbeing", "score": n + 1})
        await watcher.wait_for_state(lambda v: bool(v["wellbeing"]) and v["wellbeing"][0]["answered"] == 3)
        await watcher.apply({"type": "show_wellbeing"})
        assert watcher.view["wellbeing"][0]["distribution"] == [1, 1, 1, 0, 0]
        for n, p in enumerate(people[3:]):  # answers after the showing, one at a time
            api.ok(code, p["token"], {"type": "rate_wellbeing", "score": 5})
            await watcher.wait_for_state(lambda v, k=n: v["wellbeing"][0]["answered"] == 4 + k)
        refused = api.command(code, fac, {"type": "show_wellbeing"})
        assert refused.status_code == 409  # two new answers are too few to show again
        await watcher.apply({"type": "next_phase"})  # nor does the phase's end move it by two
        assert watcher.view["wellbeing"][0]["distribution"] == [1, 1, 1, 0, 0]
        await watcher.close()
        api.close()
        return state_frames(watcher)

    frames = asyncio.run(scenario())
    check_spread_moves_only_in_batches(frames, 3)


# ---------------------------------------------------------------- the new checks audited

def synthetic_trials(leak: str) -> tuple[list[dict[str, Any]], list[tuple[float, dict[str, Any]]]]:
    """A facilitator's stream with one of the old leaks: the author's phone shows as connected
    just before the count moves, or the count moves the moment the author taps."""
    rng = random.Random(7)
    ids = [f"p{n}" for n in range(PHONES)]
    people = [{"id": pid, "connected": False} for pid in ids]
    frames: list[tuple[float, dict[str, Any]]] = []
    version, now, count = 1, 0.0, 0

    def emit() -> None:
        nonlocal version
        view = {"version": version, "participants": [dict(p) for p in people], "pending": {"question": count}}
        frames.append((now, {"type": "state", "version": version, "view": view}))
        version += 1

    emit()
    trials = []
    for _ in range(TRIALS):
        author = rng.randrange(PHONES)
        order = rng.sample(range(PHONES), PHONES)
        trial = {"author": ids[author], "counter": lambda v: v["pending"]["question"], "taps": [],
                 "from_version": version - 1}
        for n in order:
            now += 0.1
            trial["taps"].append((now, ids[n]))
            if n == author and leak == "presence":  # the wake shows; the count follows later
                people[n]["connected"] = True
                emit()
            elif n == author:  # the count moves at once
                count += 1
                now += 0.01
                emit()
        if leak == "presence":
            now += 1.0
            count += 1
            emit()
            people[author]["connected"] = False
            now += 1.0
            emit()
        trials.append(trial)
        now += 1.0
    return trials, frames


def planted_record(**state: Any) -> list[tuple[str, str]]:
    base = {"code": "ABCDEF", "salt": "s4lt", "facilitator_token_hash": "ff", "screen_token_hash": "ee",
            "participants": [{"id": "p1", "name": "Zephyrine", "token_hash": SHA1}],
            "format": {"phases": [{"id": "check-in"}]}, "items": [], "wellbeing": [], "proposals": []}
    return [("redis tp:s:ABCDEF", json.dumps({"record": json.dumps({"state": {**base, **state}, "acks": {}})}))]


OLD_VOTE_MARK = hashlib.sha256("\x1f".join(("s4lt", "vote", "it1", "p1")).encode()).hexdigest()
RECEIPT = "rcpt-" + "r" * 20

PLANTED_CORRELATION = {
    "a counter moving just after its author shows as connected": lambda: check_correlation(*synthetic_trials("presence")),
    "a counter moving the moment its author taps": lambda: check_correlation(*synthetic_trials("tap")),
    "a vote mark salted with what the store holds": lambda: check_marks_not_recomputable(planted_record(items=[
        {"id": "it1", "voter_hashes": [OLD_VOTE_MARK]}]), []),
    "a wellbeing mark keyed with a token hash": lambda: check_marks_not_recomputable(planted_record(wellbeing=[
        {"phase_id": "check-in", "answered": [hmac.new(SHA1.encode(), "wellbeing\x1fABCDEF\x1fcheck-in".encode(),
                                                        hashlib.sha256).hexdigest()]}]), []),
    "a receipt in the remembered acks": lambda: check_no_secret_in_acks([("redis tp:s:ABCDEF", json.dumps({
        "record": json.dumps({"state": {"participants": []}, "acks": {"k1": {"version": 4, "item_id": "it1",
                                                                             "receipt": RECEIPT}}})}))], [RECEIPT]),
    "an ack kept in the clear in a field of its own": lambda: check_no_secret_in_acks([("redis tp:s:ABCDEF", json.dumps({
        "k:k1": json.dumps({"version": 4, "item_id": "it1"})}))], []),
    "a spread that moves by one answer": lambda: check_spread_moves_only_in_batches([
        {"version": 5, "view": {"wellbeing": [{"phase_id": "check-in", "distribution": [1, 1, 1, 0, 0]}]}},
        {"version": 6, "view": {"wellbeing": [{"phase_id": "check-in", "distribution": [1, 1, 1, 0, 1]}]}}], 3),
}


def test_the_correlation_checks_pass_a_clean_capture() -> None:
    check_marks_not_recomputable(planted_record(items=[{"id": "it1", "voter_hashes": ["ab" * 32]}]), [TOKENS["p1"]])
    check_no_secret_in_acks(planted_record(), [RECEIPT])
    check_spread_moves_only_in_batches([
        {"version": 5, "view": {"wellbeing": [{"phase_id": "check-in", "distribution": None}]}},
        {"version": 6, "view": {"wellbeing": [{"phase_id": "check-in", "distribution": [1, 1, 1, 0, 0]}]}}], 3)
    check_at_chance(3, TRIALS, PHONES, "a fair guess")


@pytest.mark.parametrize("plant", list(PLANTED_CORRELATION))
def test_the_audit_catches_a_planted_correlation(plant: str) -> None:
    with pytest.raises(AssertionError):
        PLANTED_CORRELATION[plant]()
