"""The anonymity audit (issue 5, part 4): a whole session with questions, feedback and votes,
in every store mode, with everything anyone could read captured:

- every frame every role's socket received (facilitator, screen, each participant),
- every HTTP response (views, acks, summaries),
- every server log line at debug level written meanwhile,
- the stored state: in Redis mode every key under the suite's prefix and every message on
  the session's pub/sub channel; in memory mode the store is only reachable through the API,
  which the frames and responses above already cover.

Then nothing may tie an item to its author: no participant id, name, token or token hash in
any object that holds an item; no log line that names both a participant and an item or a
submission; revealed items in an order that is not the order they were written; and a
submission or a vote changes nothing in anybody else's view but the counts (no timestamp,
no counter, no flag on the author that would single out who wrote when).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import threading
from typing import Any

import httpx
import pytest

from tests.support.client import Api, LiveClient, all_see, close_all
from tests.support.server import ServerProcess
from tests.support.stored import redis_dump

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
            assert item_text not in line, f"an item's text was logged: {line}"
        for pid, marks in audit.identity.items():
            assert marks[2] not in line and marks[3] not in line, f"a token was logged: {line}"
            if any(mark in line for mark in marks[:2]):
                assert not ITEM_WORDS.search(line), f"a log line ties a participant to items: {line}"
        for item_id in by_id:
            if item_id in line:
                assert not any(m in line for marks in audit.identity.values() for m in marks), line


def test_nothing_ties_an_item_to_its_author(server: ServerProcess, request: pytest.FixtureRequest) -> None:
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
    dump = redis_dump(server, request) or {}
    audit.blobs += [(f"redis {key}", value) for key, value in dump.items() if code in key or code in value]
    log_text = server.log_path.read_bytes()[log_start:].decode("utf-8", "replace") if server.log_path else ""
    log_lines = log_text.splitlines()
    assert any("DEBUG" in line for line in log_lines) or not log_lines  # debug level was on

    # The captures are not empty: every role's socket saw states, and in Redis mode the record
    # and the channel were read.
    assert all(sum(f["type"] == "state" for f in c.frames) >= 5 for c in sockets.values())
    assert len(api.responses) > 20 and log_lines
    if getattr(server, "mode", "memory") == "redis":
        assert published and any('"record"' in v for v in dump.values())

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
