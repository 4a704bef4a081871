"""AttemptStore: recording, duplicates, out-of-order frames, reviews, ending, deleting, paging,
purging, and concurrent frames of one attempt, on both engines (``database_url``)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from proctor.errors import (
    AttemptEndedError,
    AttemptMismatchError,
    AttemptNotFoundError,
    IncidentNotFoundError,
)
from proctor.geometry.neutral import Bearing
from proctor.services import scoring
from proctor.settings import Settings
from proctor.store.attempts import AttemptStore, EvidenceFile, FrameIn
from proctor.store.db import Database
from tests.conftest import TEST_RULES

T0 = 1_800_000_000.0
PHONE = {"BANNED_OBJECT": ("high", 0.9)}


@pytest.fixture
def store(database_url: str) -> AttemptStore:
    database = Database(database_url)
    database.migrate()
    return AttemptStore(database, scoring(Settings(attempts={"rules": TEST_RULES})))


def frame(i: int, codes: dict | None = None, attempt: str = "a1", **kw: object) -> FrameIn:
    fields = {"exam_id": "exam", "student_id": "s1", "captured_at": T0 + 2 * i, "seq": i}
    fields.update(kw)
    return FrameIn(attempt, codes=codes or {}, received_at=T0, **fields)  # type: ignore[arg-type]


def feed(store: AttemptStore, pattern: str, attempt: str = "a1", start: int = 0) -> None:
    for i, mark in enumerate(pattern, start=start):
        store.record(frame(i, PHONE if mark == "x" else {}, attempt))


def test_the_first_frame_creates_the_attempt_and_incidents_follow(store: AttemptStore) -> None:
    feed(store, "..xxxx......")
    view = store.get("a1")
    assert (
        view.summary.exam_id,
        view.summary.student_id,
        view.summary.status,
        view.summary.frames,
    ) == ("exam", "s1", "active", 12)
    assert view.summary.started_at == T0 and view.summary.last_frame_at == T0 + 22
    (item,) = view.incidents
    assert item.incident.code == "BANNED_OBJECT" and item.incident.start == T0 + 4
    assert item.incident.end == T0 + 10 and item.incident.frames == 4
    assert 0 < view.risk.score == view.reviewed_risk.score < 100


def test_a_repeated_seq_is_not_counted_twice(store: AttemptStore) -> None:
    first = store.record(frame(0, PHONE))
    again = store.record(frame(0, PHONE))
    assert first.frame_id is not None and again.frame_id is None
    assert again.frames == 1 and store.get("a1").summary.frames == 1


def test_frames_out_of_order_give_the_in_order_incidents(store: AttemptStore) -> None:
    pattern = "..xxx....x.xxx......"
    order = list(range(len(pattern)))
    order[3], order[12] = order[12], order[3]
    order = order[5:] + order[:5]
    for i in order:
        store.record(frame(i, PHONE if pattern[i] == "x" else {}))
    in_order = AttemptStore(store.db, store.scoring)
    feed(in_order, pattern, attempt="b1")
    assert [
        (i.incident.code, i.incident.start, i.incident.end) for i in store.get("a1").incidents
    ] == [(i.incident.code, i.incident.start, i.incident.end) for i in in_order.get("b1").incidents]


def test_a_frame_must_match_its_attempt(store: AttemptStore) -> None:
    store.record(frame(0))
    with pytest.raises(AttemptMismatchError):
        store.record(frame(1, student_id="someone-else"))
    with pytest.raises(AttemptMismatchError):
        store.record(frame(1, exam_id="other-exam"))


def test_review_keeps_both_views(store: AttemptStore) -> None:
    feed(store, "xxxx......")
    incident = store.get("a1").incidents[0].incident
    reviewed = store.review("a1", incident.id, "dismissed", "a wallet", T0 + 100)
    assert (reviewed.verdict, reviewed.note) == ("dismissed", "a wallet")
    view = store.get("a1")
    assert view.risk.score > 0 and view.reviewed_risk.score == 0
    assert store.list("exam", "risk", 10, 0)[0][0].reviewed_risk_score == 0
    with pytest.raises(IncidentNotFoundError):
        store.review("a1", "nope", "confirmed", None, T0)


def test_ending_closes_incidents_and_refuses_more_frames(store: AttemptStore) -> None:
    feed(store, "xxxx")
    assert store.get("a1").incidents[0].incident.end is None
    closed = store.end("a1", T0 + 50)
    assert [c.state for c in closed] == ["closed"]
    view = store.get("a1")
    assert view.summary.status == "ended" and view.summary.ended_at == T0 + 50
    assert view.incidents[0].incident.end == T0 + 6
    with pytest.raises(AttemptEndedError):
        store.record(frame(9))
    assert store.end("a1", T0 + 60) == []


def test_delete_removes_every_row(store: AttemptStore) -> None:
    feed(store, "xxxx......")
    incident = store.get("a1").incidents[0].incident
    store.add_evidence("a1", EvidenceFile(incident.id, "open", 1, "a1/x-open.jpg", T0))
    assert store.delete("a1") == ["a1/x-open.jpg"]
    with pytest.raises(AttemptNotFoundError):
        store.get("a1")
    with store.db.read() as session:
        for table in ("attempts", "attempt_frames", "incidents", "evidence"):
            assert session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0, table
    with pytest.raises(AttemptNotFoundError):
        store.delete("a1")


def test_list_ranks_by_risk_and_pages(store: AttemptStore) -> None:
    feed(store, "..........", attempt="clean")
    feed(store, "xxxx......", attempt="short")
    feed(store, "xxxxxxxxxxxxxxxx", attempt="long")
    feed(store, "xxxx", attempt="other-exam-attempt")
    ranked, total = store.list("exam", "risk", 2, 0)
    assert total == 4 and [a.attempt_id for a in ranked] == ["long", "other-exam-attempt"]
    rest, _ = store.list("exam", "risk", 2, 2)
    assert [a.attempt_id for a in rest] == ["short", "clean"]
    assert store.list("nothing", "risk", 10, 0) == ([], 0)


def test_purge_deletes_old_evidence_and_old_attempts(store: AttemptStore) -> None:
    feed(store, "xxxx", attempt="old")
    feed(store, "xxxx", attempt="new", start=1000)
    old_incident = store.get("old").incidents[0].incident
    new_incident = store.get("new").incidents[0].incident
    store.add_evidence("old", EvidenceFile(old_incident.id, "open", 1, "old/o.jpg", T0))
    store.add_evidence("new", EvidenceFile(new_incident.id, "open", 9, "new/n.jpg", T0 + 5000))
    assert store.purge(evidence_before=T0 + 100, attempts_before=None) == ["old/o.jpg"]
    assert store.all_evidence_paths() == {"new/n.jpg"}
    assert store.purge(evidence_before=0, attempts_before=T0 + 1000) == []
    with pytest.raises(AttemptNotFoundError):
        store.get("old")
    assert store.get("new").summary.frames == 4


def test_concurrent_frames_of_one_attempt_lose_nothing(store: AttemptStore) -> None:
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            store.record(frame(i, PHONE if i % 3 else {}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    concurrent = store.get("a1")
    assert concurrent.summary.frames == 40
    sequential = AttemptStore(store.db, store.scoring)
    for i in range(40):
        sequential.record(frame(i, PHONE if i % 3 else {}, attempt="seq"))
    assert [
        (i.incident.start, i.incident.end, i.incident.frames) for i in concurrent.incidents
    ] == [
        (i.incident.start, i.incident.end, i.incident.frames)
        for i in sequential.get("seq").incidents
    ]


def test_concurrent_evidence_of_one_incident_keeps_one_file_per_kind(store: AttemptStore) -> None:
    """Replicas recording frames of one incident at once each store its peak frame: one row
    stays, and every file it replaced is handed back for deletion exactly once."""
    feed(store, "xxxx")
    incident = store.get("a1").incidents[0].incident
    paths = [f"a1/peak-{i}.jpg" for i in range(12)]
    replaced: list[str | None] = []
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            replaced.append(
                store.add_evidence("a1", EvidenceFile(incident.id, "peak", i, paths[i], T0 + i))
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    (kept,) = store.evidence("a1", incident.id)
    assert sorted([p for p in replaced if p is not None] + [kept.path]) == sorted(paths)


def test_first_bearings_are_the_measured_frames_in_capture_order(store: AttemptStore) -> None:
    # Sent out of order, one frame without a face: the first two measured by capture time.
    store.record(frame(2, bearing=Bearing(3.0, -12.0, 1.0, -20.0)))
    store.record(frame(0, bearing=Bearing(1.0, -10.0, None, None)))
    store.record(frame(1))  # no face measured
    store.record(frame(3, bearing=Bearing(40.0, 0.0, 40.0, 0.0)))
    assert store.first_bearings("a1", 2) == [
        Bearing(1.0, -10.0, None, None),
        Bearing(3.0, -12.0, 1.0, -20.0),
    ]
    assert store.first_bearings("never-started", 2) == []
