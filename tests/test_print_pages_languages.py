"""The print pages (summary, reflection, the group's record, the CPD record) open in every
shipped language over the real server, in both store modes, once people have spoken: each
answers 200 in the language asked, with none of the catalog's English sentences on it."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from app.pages.catalogs import _read, catalog_paths
from tests.support.server import ServerProcess
from tests.test_groups_http import Room, auth, new_group

LANGUAGES = sorted(catalog_paths())


@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def english_sentences(code: str) -> list[str]:
    """The catalog's English messages of three words or more that ``code`` words differently."""
    found = []
    for message in _read(catalog_paths()[code], locale=code):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for english in ids:
            plain = re.sub(r"%\([a-z_]+\)[sd]|<[^>]*>", "\x00", english)
            for part in plain.split("\x00"):
                if len(re.findall(r"[A-Za-z]{2,}", part)) >= 3 and all(part not in s for s in strings):
                    found.append(part.strip())
    return found


def shown(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&#34;", '"')


def test_every_print_page_opens_in_every_shipped_language(http: httpx.Client) -> None:
    group = new_group(http, "Ward")
    created = http.post(f"/api/groups/{group['group_id']}/sessions", headers=auth(group["group_key"]),
                        json={"title": "Ward", "format": "action-learning-set"})
    room = Room(http, created.json())
    codes = {name: room.join(name)["member_code"] for name in ("Ana", "Ben", "")}
    room.send({"type": "start"})
    room.send({"type": "give_turn", "participant_id": room.pid("Ana")})
    time.sleep(0.3)  # the floor time the summary's share-of-voice sentence counts
    room.send({"type": "yield_turn"}, "Ana")
    room.send({"type": "add_action", "text": "Zz", "due": "2026-12-20"}, "Ana")
    saved = http.put(f"/api/sessions/{room.code}/reflection", headers=auth(room.people["Ana"]["token"]),
                     json={"description": "Zz", "confirmed": True})
    assert saved.status_code == 204, saved.text
    room.send({"type": "close"})

    pages = {
        "summary": (f"/api/sessions/{room.code}/summary.html", room.created["facilitator_token"]),
        "my summary": (f"/api/sessions/{room.code}/summary.html", room.people["Ana"]["token"]),
        "reflection": (f"/api/sessions/{room.code}/reflection.html", room.people["Ana"]["token"]),
        "record": (f"/api/groups/{group['group_id']}/record.html", group["group_key"]),
        "cpd": (f"/api/groups/{group['group_id']}/cpd.html", codes["Ana"]),
    }
    for lang in LANGUAGES:
        english = english_sentences(lang)
        for name, (path, key) in pages.items():
            for part in ("", "content"):
                answer = http.get(path, params={"lang": lang, "part": part} if part else {"lang": lang},
                                  headers=auth(key))
                assert answer.status_code == 200, (lang, name, part, answer.status_code, answer.text[:300])
                if not part:
                    assert f'<html lang="{lang}"' in answer.text, (lang, name)
                text = shown(answer.text)
                left = [sentence for sentence in english if sentence in text]
                assert left == [], (lang, name, left)
