"""The incident tracker: persistence, confidence, hysteresis, gaps, aliases, order, state."""

from __future__ import annotations

import json
import random

import pytest

from proctor.attempts.incidents import CodeRule, Observation, Tracker, collapse, replay

RULE = CodeRule(votes_to_open=3, window=4, hold_s=6, clear_s=6, full_confidence=0.6)
RULES = {"BANNED_OBJECT": RULE, "MULTIPLE_PEOPLE": RULE, "NO_FACE": RULE}


def frames(pattern: str, confidence: float = 0.9, step: float = 2.0, code: str = "BANNED_OBJECT"):
    """One observation per character: 'x' fires the code, '.' does not, '_' drops the frame."""
    out = []
    for i, mark in enumerate(pattern):
        if mark == "_":
            continue
        codes = {code: ("high", confidence)} if mark == "x" else {}
        out.append(Observation(1000.0 + step * i, i, i + 1, codes))
    return out


def run(observations) -> tuple[Tracker, list[list[tuple[str, str]]]]:
    tracker = Tracker("a", RULES)
    log = [[(c.incident.code, c.state) for c in tracker.step(o)] for o in observations]
    return tracker, log


def test_a_single_frame_glitch_opens_nothing() -> None:
    tracker, log = run(frames("....x....x...."))
    assert tracker.incidents() == [] and not any(log)


def test_three_confident_frames_of_four_open_an_incident_that_starts_at_the_first() -> None:
    tracker, log = run(frames("..xx.x......"))
    assert log[5] == [("BANNED_OBJECT", "opened")]
    (incident,) = tracker.incidents()
    assert incident.start == 1004.0 and incident.frames == 3
    assert incident.end == 1010.0  # closed 6 s after its last firing frame, ends at that frame
    assert ("BANNED_OBJECT", "closed") in log[8]


def test_confidence_weighs_the_votes() -> None:
    """Three frames at 0.9 open an incident; three at 0.2 (a third of a vote each) do not."""
    assert run(frames("xxx...", confidence=0.9))[0].incidents()
    assert not run(frames("xxx...", confidence=0.2))[0].incidents()
    assert run(frames("xxxxxxxxxx", confidence=0.2))[0].incidents()  # held for 6 s: it opens


def test_hysteresis_and_dropped_frames_do_not_split_an_incident() -> None:
    tracker, _ = run(frames("xxxx.x._xxx.........."))
    assert len(tracker.incidents()) == 1
    assert tracker.incidents()[0].frames == 8


def test_a_long_clear_spell_starts_a_new_incident() -> None:
    tracker, _ = run(frames("xxxx.......xxxx......"))
    assert [i.start for i in tracker.incidents()] == [1000.0, 1022.0]
    assert tracker.incidents()[0].id != tracker.incidents()[1].id


def test_open_incidents_continue_on_clear_frames_and_close_at_the_end() -> None:
    tracker, log = run(frames("xxxx.."))
    assert log[-1] == [("BANNED_OBJECT", "ongoing")]
    assert tracker.incidents()[0].end is None
    finished = tracker.finish()
    assert [c.state for c in finished] == ["closed"] and tracker.incidents()[0].end == 1006.0


def test_two_faces_and_two_people_are_one_incident() -> None:
    assert collapse({"MULTIPLE_FACES": ("high", 0.7), "MULTIPLE_PEOPLE": ("high", 0.5)}) == {
        "MULTIPLE_PEOPLE": ("high", 0.7)
    }
    both = [
        Observation(
            1000.0 + 2 * i,
            i,
            i + 1,
            {"MULTIPLE_FACES": ("high", 0.9), "MULTIPLE_PEOPLE": ("high", 0.9)},
        )
        for i in range(5)
    ]
    tracker, _ = run(both)
    assert [i.code for i in tracker.incidents()] == ["MULTIPLE_PEOPLE"]


def test_the_state_survives_json_and_replay_equals_stepping() -> None:
    observations = frames("..xxx.x....xx.xx.....x..xxxx")
    stepped, _ = run(observations)
    halfway = Tracker("a", RULES)
    for o in observations[:10]:
        halfway.step(o)
    resumed = Tracker.from_json("a", RULES, json.loads(json.dumps(halfway.to_json())))
    for o in observations[10:]:
        resumed.step(o)
    shuffled = observations[:]
    random.Random(7).shuffle(shuffled)
    replayed = replay("a", RULES, shuffled)
    assert resumed.incidents() == stepped.incidents() == replayed.incidents()


@pytest.mark.parametrize("pattern", ["xxxx", "x.x.x.x.x", "xx_xx"])
def test_incident_ids_are_stable(pattern: str) -> None:
    first, _ = run(frames(pattern))
    again, _ = run(frames(pattern))
    assert [i.id for i in first.incidents()] == [i.id for i in again.incidents()]
