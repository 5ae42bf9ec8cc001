"""The read-only report link over the real server, in both store modes: the group's key
holder creates it, it opens the record's charts and CSV and nothing else, and once revoked
it opens nothing at once."""

from __future__ import annotations

import httpx
import pytest

from tests.support.server import ServerProcess
from tests.test_group_record import meet
from tests.test_groups_http import auth, new_group


@pytest.fixture()
def http(server: ServerProcess):
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def test_a_report_link_reads_the_record_only_until_it_is_revoked(http: httpx.Client) -> None:
    group = new_group(http)
    gid, gkey = group["group_id"], group["group_key"]
    meet(http, group, ("Ana", "Ben", "Cat"), [[4, 5, 4], [5, 5, 4], [3, 4, 5]])
    assert http.get(f"/api/groups/{gid}", headers=auth(gkey)).json()["report_link"] is False

    made = http.post(f"/api/groups/{gid}/report-link", headers=auth(gkey))
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    report = made.json()["report_key"]
    assert made.json()["path"] == f"/group/{gid}#report={report}"
    assert http.get(f"/api/groups/{gid}", headers=auth(gkey)).json()["report_link"] is True

    # The report link opens the record: JSON, CSV and the charts.
    as_reader = auth(report)
    record = http.get(f"/api/groups/{gid}/record", headers=as_reader)
    assert record.status_code == 200 and record.json()["meetings"][0]["attended"] == 3
    csv = http.get(f"/api/groups/{gid}/record.csv", headers=as_reader)
    # The meeting's title, sealed in the store, opens for the report link's reader too.
    assert record.json()["meetings"][0]["title"] == "Monthly meeting"
    assert csv.status_code == 200 and "Monthly meeting" in csv.text and "check" in csv.text.lower()
    page = http.get(f"/api/groups/{gid}/record.html", headers=as_reader)
    assert page.status_code == 200 and "<svg" in page.text and "Monthly meeting" in page.text

    # ...and nothing else: not the group, its options, its sessions, the erase, the link itself.
    assert http.get(f"/api/groups/{gid}", headers=as_reader).status_code == 401
    assert http.put(f"/api/groups/{gid}/options", headers=as_reader,
                    json={"least_heard_first": True}).status_code == 401
    assert http.put(f"/api/groups/{gid}/evaluation", headers=as_reader, json={"statements": None}).status_code == 401
    assert http.post(f"/api/groups/{gid}/sessions", headers=as_reader,
                     json={"title": "t", "format": "check-in-out"}).status_code == 401
    assert http.delete(f"/api/groups/{gid}/record", headers=as_reader).status_code == 401
    assert http.post(f"/api/groups/{gid}/report-link", headers=as_reader).status_code == 401
    assert http.delete(f"/api/groups/{gid}/report-link", headers=as_reader).status_code == 401
    assert http.get(f"/api/groups/{gid}/record", headers=as_reader).json()["meetings"], "nothing was erased"

    # A report link of one group opens no other group's record.
    other = new_group(http, "Another team")
    assert http.get(f"/api/groups/{other['group_id']}/record", headers=as_reader).status_code == 401

    # Making a new link replaces the old one.
    again = http.post(f"/api/groups/{gid}/report-link", headers=auth(gkey)).json()["report_key"]
    assert http.get(f"/api/groups/{gid}/record", headers=as_reader).status_code == 401
    assert http.get(f"/api/groups/{gid}/record", headers=auth(again)).json()["meetings"][0]["title"] == "Monthly meeting"

    # Revoked: refused at once, everywhere; the group key still opens everything.
    assert http.delete(f"/api/groups/{gid}/report-link", headers=auth(gkey)).status_code == 204
    for path in ("/record", "/record.csv", "/record.html"):
        assert http.get(f"/api/groups/{gid}{path}", headers=auth(again)).status_code == 401, path
    assert http.get(f"/api/groups/{gid}", headers=auth(gkey)).json()["report_link"] is False
    assert http.get(f"/api/groups/{gid}/record", headers=auth(gkey)).status_code == 200
    assert http.get("/api/groups/nosuchgroup/record", headers=auth(again)).status_code == 404
