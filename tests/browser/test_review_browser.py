"""review.html (``/attempts/{id}/view``, ``/review``) and the test page's attempt field, in
headless Chromium against the real server (fixtures in conftest.py: real models, evidence on).

An attempt is recorded through ``/analyze_frame`` from real images: the camera person's photo
in a 640x480 frame (clean frames, the claimed student), then consecutive exam_objects webcam
frames whose annotations hold a ``cell phone`` box (picked by their labels), then clean frames
again. Each test compares what the page shows with what the API returns for that attempt.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx2
import numpy as np
import pytest

from tests.browser.support import CAMERA_PERSON, expect, last_response, wait_for_frames
from tests.helpers import jpeg

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.eval_data]

EXAM = "final-3"
ATTEMPT = "phone-1"
#: A second attempt of the exam with clean frames only, and one of another exam.
CLEAN_ATTEMPT = "clean-1"
OTHER_EXAM_ATTEMPT = "other-1"
#: Capture times of the recorded frames: fixed, FRAME_INTERVAL_S apart.
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FRAME_INTERVAL_S = 2.0
CLEAN_BEFORE, PHONE_FRAMES, CLEAN_AFTER = 3, 8, 4
#: Timeline bar colours of review.html, by severity.
SEVERITY_COLORS = {
    "high": "rgb(179, 38, 30)",
    "medium": "rgb(199, 124, 0)",
    "low": "rgb(31, 95, 153)",
}


# ---- recording attempts --------------------------------------------------------------


def phone_episode(eval_dir: Path) -> list[Path]:
    """The first ``PHONE_FRAMES`` consecutive webcam frames of one exam_objects recording whose
    annotations hold a ``cell phone`` box (one image per source frame)."""
    folder = eval_dir / "exam_objects"
    coco = json.loads((folder / "annotations.json").read_text())
    phone = {c["id"] for c in coco["categories"] if c["name"] == "cell phone"}
    with_phone = {a["image_id"] for a in coco["annotations"] if a["category_id"] in phone}
    frames: dict[tuple[str, int], str] = {}
    for image in sorted(coco["images"], key=lambda i: i["file_name"]):
        if image["id"] in with_phone:
            recording = image["file_name"].split("_", 1)[0]
            frames.setdefault((recording, image["source_frame"]), image["file_name"])
    for recording, first in sorted(frames):
        run = [(recording, first + n) for n in range(PHONE_FRAMES)]
        if all(key in frames for key in run):
            return [folder / "images" / frames[key] for key in run]
    pytest.fail(f"exam_objects has no {PHONE_FRAMES} consecutive frames with a cell phone")


def record(
    client: httpx2.Client, attempt_id: str, exam_id: str, images: list[bytes]
) -> dict[str, Any]:
    """Send the frames to /analyze_frame in one attempt (claiming the camera person, capture
    times FRAME_INTERVAL_S apart); the attempt's report."""
    for seq, data in enumerate(images):
        captured = T0 + timedelta(seconds=seq * FRAME_INTERVAL_S)
        response = client.post(
            "/analyze_frame",
            files={"file": ("frame.jpg", data, "image/jpeg")},
            data={
                "student_id": CAMERA_PERSON[0],
                "exam_id": exam_id,
                "attempt_id": attempt_id,
                "seq": str(seq),
                "captured_at": captured.isoformat(),
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["attempt"]["recorded"] is True
    report = client.get(f"/attempts/{attempt_id}").json()
    assert report["frames"] == len(images)
    return report


@pytest.fixture(scope="module")
def attempts(
    client: httpx2.Client, enrolled: dict[str, str], camera_frame: np.ndarray, eval_dir: Path
) -> None:
    """The phone attempt and the clean one in EXAM, and one attempt of another exam."""
    clean = jpeg(camera_frame)
    phone = [path.read_bytes() for path in phone_episode(eval_dir)]
    report = record(client, ATTEMPT, EXAM, [clean] * CLEAN_BEFORE + phone + [clean] * CLEAN_AFTER)
    assert report["incidents"], "the phone episode raised no incident"
    record(client, CLEAN_ATTEMPT, EXAM, [clean] * 2)
    record(client, OTHER_EXAM_ATTEMPT, "other-exam", [clean])


# ---- reading the review page ---------------------------------------------------------


def score(page: Page, selector: str) -> float:
    return float(page.get_attribute(selector, "data-value") or "nan")


def bars(page: Page) -> list[dict[str, Any]]:
    """Each timeline bar with its strip's code and the geometry of the bar and its track."""
    return page.eval_on_selector_all(
        ".strip .bar",
        """els => els.map(bar => {
            const track = bar.parentElement.getBoundingClientRect();
            const box = bar.getBoundingClientRect();
            const style = getComputedStyle(bar);
            return {
                id: bar.dataset.incidentId, strip: bar.closest('.strip').dataset.code,
                verdict: bar.dataset.verdict, left: box.left - track.left,
                right: box.right - track.left, width: track.width,
                color: style.backgroundColor, opacity: style.opacity,
                outline: style.outlineStyle,
            };
        })""",
    )


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def percent(value: float) -> str:
    """review.html's Math.round(value * 100), as text."""
    return f"{math.floor(value * 100 + 0.5)}%"


# ---- tests ---------------------------------------------------------------------------


@pytest.mark.usefixtures("attempts")
def test_review_page_shows_the_attempt_its_timeline_incidents_and_evidence(
    page: Page, server: str, client: httpx2.Client
) -> None:
    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server}/attempts/{ATTEMPT}/view")
    expect(page.locator("h1")).to_have_text(f"Attempt {ATTEMPT}")
    report = client.get(f"/attempts/{ATTEMPT}").json()
    incidents = report["incidents"]

    # Header: the attempt's fields, its times as ISO titles, both scores side by side.
    summary = page.locator("#summary")
    for field, value in [
        ("attempt", ATTEMPT),
        ("exam", EXAM),
        ("student", CAMERA_PERSON[0]),
        ("status", report["status"]),
        ("frames", str(report["frames"])),
    ]:
        expect(summary.locator(f"dd[data-field='{field}']")).to_have_text(value)
    for field, key in [("first frame", "started_at"), ("last frame", "last_frame_at")]:
        moment = summary.locator(f"dd[data-field='{field}'] time")
        expect(moment).to_have_attribute("datetime", report[key])
        expect(moment).to_have_attribute("title", report[key])
    expect(page.locator("#risk-score")).to_have_text(f"{report['risk_score']:.2f}")
    expect(page.locator("#reviewed-risk-score")).to_have_text(
        f"{report['reviewed_risk_score']:.2f}"
    )
    assert score(page, "#risk-score") == report["risk_score"]

    # Breakdown: one row per code with the API's points, in its order.
    rows = page.locator("#breakdown tbody tr")
    expect(rows).to_have_count(len(report["risk_breakdown"]))
    shown = rows.evaluate_all(
        "trs => trs.map(tr => [tr.dataset.code, Number(tr.dataset.points),"
        " Number(tr.dataset.reviewedPoints), tr.querySelector('.automatic').innerText])"
    )
    assert [row[0] for row in shown] == list(report["risk_breakdown"])
    for code, points, reviewed, text in shown:
        assert points == report["risk_breakdown"][code]
        assert reviewed == report["reviewed_risk_breakdown"].get(code, 0)
        assert text.strip() == f"{points:.2f}"

    # Timeline: one strip per code, one bar per incident, from its start to its end (open:
    # to the last frame) over the attempt's span, coloured by severity.
    codes = list(dict.fromkeys(i["code"] for i in incidents))
    strips = page.eval_on_selector_all(".strip", "els => els.map(e => e.dataset.code)")
    assert strips == codes
    drawn = bars(page)
    assert sorted(b["id"] for b in drawn) == sorted(i["id"] for i in incidents)
    t0, t1 = seconds(report["started_at"]), seconds(report["last_frame_at"])
    for bar in drawn:
        incident = next(i for i in incidents if i["id"] == bar["id"])
        assert bar["strip"] == incident["code"]
        start = (seconds(incident["start"]) - t0) / (t1 - t0) * bar["width"]
        end = (seconds(incident["end"] or report["last_frame_at"]) - t0) / (t1 - t0) * bar["width"]
        assert bar["left"] == pytest.approx(start, abs=1.0)
        assert bar["right"] == pytest.approx(max(end, start + 4), abs=1.0)
        assert bar["color"] == SEVERITY_COLORS[incident["severity"]]

    # Incident list: the API's incidents in its order, with their facts and review state.
    items = page.locator("#incidents > li")
    expect(items).to_have_count(len(incidents))
    for index, incident in enumerate(incidents):
        item = items.nth(index)
        expect(item).to_have_attribute("data-incident-id", incident["id"])
        expect(item).to_have_attribute("data-code", incident["code"])
        expect(item).to_have_attribute("data-severity", incident["severity"])
        expect(item.locator(".frames")).to_have_text(str(incident["frames"]))
        expect(item.locator(".peak")).to_have_text(percent(incident["peak_confidence"]))
        expect(item.locator(".start time")).to_have_attribute("datetime", incident["start"])
        review = incident["review"]
        expect(item.locator(".review")).to_contain_text(
            review["verdict"] if review else "not reviewed"
        )

        # Evidence: the stored frames the API lists, each a loaded image.
        evidence = client.get(f"/attempts/{ATTEMPT}/incidents/{incident['id']}/evidence").json()
        assert evidence, f"no evidence stored for {incident['code']} although it is switched on"
        expect(item.locator(".evidence")).to_have_attribute("data-state", "loaded")
        images = item.locator(".evidence img")
        expect(images).to_have_count(len(evidence))
        assert images.evaluate_all("els => els.map(e => e.dataset.kind)") == [
            e["kind"] for e in evidence
        ]
    page.wait_for_function(
        "() => [...document.querySelectorAll('.evidence img')].every(img => img.complete)"
    )
    widths = page.eval_on_selector_all(".evidence img", "els => els.map(e => e.naturalWidth)")
    assert widths and all(width > 0 for width in widths), widths

    # Everything came from the server itself (a blob: URL names the page's own origin: the
    # evidence images, fetched with the API key, are shown from memory).
    origin = urlsplit(server)
    assert any("/evidence/" in url for url in requests)
    foreign = [url for url in requests if urlsplit(url.removeprefix("blob:"))[:2] != origin[:2]]
    assert not foreign, f"requests to other hosts: {foreign}"


@pytest.mark.usefixtures("attempts")
def test_dismiss_and_confirm_post_the_review_and_rerender_the_reviewed_score(
    page: Page, server: str, client: httpx2.Client
) -> None:
    report = client.get(f"/attempts/{ATTEMPT}").json()
    breakdown = report["risk_breakdown"]
    # The incident whose code carries the most points: dismissing it moves the score most.
    target = max(report["incidents"], key=lambda i: breakdown.get(i["code"], 0))
    page.goto(f"{server}/attempts/{ATTEMPT}/view")
    item = page.locator(f"#incidents > li[data-incident-id='{target['id']}']")
    item.locator(".note-input").fill("a wallet, not a phone")
    item.locator("button.dismiss").click()

    expect(item).to_have_attribute("data-verdict", "dismissed")
    after = client.get(f"/attempts/{ATTEMPT}").json()
    review = next(i for i in after["incidents"] if i["id"] == target["id"])["review"]
    assert review["verdict"] == "dismissed"
    assert review["note"] == "a wallet, not a phone"
    reviewed = page.locator("#reviewed-risk-score")
    expect(reviewed).to_have_text(f"{after['reviewed_risk_score']:.2f}")
    assert score(page, "#reviewed-risk-score") == after["reviewed_risk_score"]
    assert score(page, "#risk-score") == after["risk_score"] == report["risk_score"]
    if breakdown.get(target["code"], 0) > 0:
        assert after["reviewed_risk_score"] < after["risk_score"]
    expect(item.locator(".review")).to_contain_text("dismissed")
    expect(item.locator(".review")).to_contain_text("a wallet, not a phone")
    expect(page.locator("#status-msg")).to_contain_text(f"{after['reviewed_risk_score']:.2f}")
    row = page.locator(f"#breakdown tr[data-code='{target['code']}']")
    assert float(row.get_attribute("data-reviewed-points") or "nan") == after[
        "reviewed_risk_breakdown"
    ].get(target["code"], 0)
    bar = next(b for b in bars(page) if b["id"] == target["id"])
    assert (bar["verdict"], float(bar["opacity"]), bar["outline"]) == ("dismissed", 0.3, "none")

    # Confirming another incident (or this one again, when it is the only one) outlines it.
    other = next((i for i in report["incidents"] if i["id"] != target["id"]), target)
    other_item = page.locator(f"#incidents > li[data-incident-id='{other['id']}']")
    other_item.locator("button.confirm").click()
    expect(other_item).to_have_attribute("data-verdict", "confirmed")
    final = client.get(f"/attempts/{ATTEMPT}").json()
    confirmed = next(i for i in final["incidents"] if i["id"] == other["id"])["review"]
    # The note field shows the saved note, so confirming the same incident keeps it.
    note = review["note"] if other["id"] == target["id"] else None
    assert (confirmed["verdict"], confirmed["note"]) == ("confirmed", note)
    expect(reviewed).to_have_text(f"{final['reviewed_risk_score']:.2f}")
    bar = next(b for b in bars(page) if b["id"] == other["id"])
    assert (bar["verdict"], float(bar["opacity"]), bar["outline"]) == ("confirmed", 1.0, "solid")


@pytest.mark.usefixtures("attempts")
def test_review_page_says_when_no_evidence_is_stored_and_shows_api_errors(
    page: Page, server: str, client: httpx2.Client
) -> None:
    # Evidence is off by default: the server's evidence lists are then empty, as here.
    page.route("**/evidence", lambda route: route.fulfill(json=[]))
    page.goto(f"{server}/attempts/{ATTEMPT}/view")
    items = page.locator("#incidents > li")
    expect(items).to_have_count(len(client.get(f"/attempts/{ATTEMPT}").json()["incidents"]))
    for index in range(items.count()):
        evidence = items.nth(index).locator(".evidence")
        expect(evidence).to_have_attribute("data-state", "none")
        expect(evidence).to_have_text("no evidence stored")
        expect(evidence.locator("img")).to_have_count(0)

    # An unknown attempt: the API's 404 code and detail.
    missing = client.get("/attempts/no-such-attempt")
    assert missing.status_code == 404
    page.goto(f"{server}/attempts/no-such-attempt/view")
    error = page.locator("#load-error")
    expect(error).to_have_attribute("data-code", missing.json()["code"])
    expect(error).to_have_attribute("data-status", "404")
    expect(error).to_contain_text(missing.json()["detail"])
    expect(page.locator("#attempt-view")).to_be_hidden()


@pytest.mark.usefixtures("attempts")
def test_attempt_list_ranks_the_exams_attempts_by_risk_and_links_to_their_review(
    page: Page, server: str, client: httpx2.Client
) -> None:
    listed = client.get("/attempts", params={"exam_id": EXAM, "order": "risk"}).json()
    assert {a["attempt_id"] for a in listed["attempts"]} == {ATTEMPT, CLEAN_ATTEMPT}
    page.goto(f"{server}/review?exam_id={EXAM}")
    rows = page.locator("#attempts-table tbody tr")
    expect(rows).to_have_count(listed["count"])
    assert rows.evaluate_all("trs => trs.map(tr => tr.dataset.attemptId)") == [
        a["attempt_id"] for a in listed["attempts"]
    ]
    for index, attempt in enumerate(listed["attempts"]):
        row = rows.nth(index)
        link = row.locator("a")
        expect(link).to_have_attribute("href", f"{server}/attempts/{attempt['attempt_id']}/view")
        cells = row.locator("td")
        expect(cells.nth(0)).to_have_text(EXAM)
        expect(cells.nth(3)).to_have_text(str(attempt["frames"]))
        expect(cells.nth(5)).to_have_text(f"{attempt['risk_score']:.2f}")
        expect(cells.nth(6)).to_have_text(f"{attempt['reviewed_risk_score']:.2f}")
    expect(page.locator("#attempts-caption")).to_contain_text(f"of {listed['total']}")

    # Every exam: the other exam's attempt too; then open the riskiest attempt.
    page.fill("#list-exam", "")
    page.click("#list-show")
    expect(rows).to_have_count(client.get("/attempts").json()["count"])
    other_exam = page.locator(f"#attempts-table tr[data-attempt-id='{OTHER_EXAM_ATTEMPT}']")
    expect(other_exam).to_have_count(1)
    first = client.get("/attempts", params={"order": "risk"}).json()["attempts"][0]
    rows.first.locator("a").click()
    expect(page.locator("h1")).to_have_text(f"Attempt {first['attempt_id']}")
    assert page.url == f"{server}/attempts/{first['attempt_id']}/view"


@pytest.mark.usefixtures("attempts")
def test_end_attempt_button_ends_it_after_asking(
    page: Page, server: str, client: httpx2.Client
) -> None:
    page.goto(f"{server}/attempts/{OTHER_EXAM_ATTEMPT}/view")
    status = page.locator("#summary dd[data-field='status']")
    expect(status).to_have_text("active")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#end-attempt")
    expect(page.locator("#end-attempt")).to_be_visible()
    assert client.get(f"/attempts/{OTHER_EXAM_ATTEMPT}").json()["status"] == "active"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#end-attempt")
    expect(status).to_have_text("ended")
    expect(page.locator("#end-attempt")).to_be_hidden()
    report = client.get(f"/attempts/{OTHER_EXAM_ATTEMPT}").json()
    assert report["status"] == "ended"
    expect(page.locator("#summary dd[data-field='ended'] time")).to_have_attribute(
        "datetime", report["ended_at"]
    )


#: Wraps the page's fetch to keep the form fields (not the image) of every /analyze_frame
#: request, and counts the answers.
RECORD_ANALYZE_FIELDS = """(() => {
    const seen = { fields: [], answered: 0 };
    window.__analyze = seen;
    const original = window.fetch;
    window.fetch = async (...args) => {
        if (!String(args[0]).endsWith('/analyze_frame')) return original(...args);
        seen.fields.push(Object.fromEntries(
            [...args[1].body.entries()].filter(([key]) => key !== 'file')));
        try { return await original(...args); } finally { seen.answered += 1; }
    };
})();"""


def sent_fields(page: Page) -> list[dict[str, str]]:
    """The fields of every /analyze_frame request, once each has been answered."""
    page.wait_for_function(
        "() => window.__analyze.fields.length && "
        "window.__analyze.answered === window.__analyze.fields.length"
    )
    return page.evaluate("() => window.__analyze.fields")


def test_test_page_records_its_frames_in_the_attempt_and_links_to_the_review(
    page: Page,
    server: str,
    client: httpx2.Client,
    enrolled: dict[str, str],
    camera_frame: np.ndarray,
    tmp_path: Path,
) -> None:
    attempt_id = "webcam-1"
    page.add_init_script(RECORD_ANALYZE_FIELDS)
    page.goto(f"{server}/test_ui.html")
    link = page.locator("#review-link")
    expect(link).to_be_hidden()
    expect(page.locator(f"#claimed-student option[value='{CAMERA_PERSON[0]}']")).to_have_count(1)
    page.select_option("#claimed-student", CAMERA_PERSON[0])
    page.fill("#exam-id", EXAM)
    page.fill("#attempt-id", attempt_id)
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", f"{server}/attempts/{attempt_id}/view")

    # Webcam frames carry the attempt, a seq counting from 0 and their capture time.
    page.fill("#interval", "100")
    page.click("#start-camera")
    wait_for_frames(page, 3)
    page.click("#stop-camera")
    fields = sent_fields(page)
    assert [f["attempt_id"] for f in fields] == [attempt_id] * len(fields)
    assert [int(f["seq"]) for f in fields] == list(range(len(fields)))
    captured = [datetime.fromisoformat(f["captured_at"].replace("Z", "+00:00")) for f in fields]
    assert all(moment.tzinfo is not None for moment in captured)
    assert captured == sorted(captured)
    assert last_response(page)["attempt"]["attempt_id"] == attempt_id
    report = client.get(f"/attempts/{attempt_id}").json()
    assert (report["frames"], report["exam_id"], report["student_id"]) == (
        len(fields),
        EXAM,
        CAMERA_PERSON[0],
    )

    # A reloaded page continues the attempt's seq after the frames it already has.
    picture = tmp_path / "frame.jpg"
    picture.write_bytes(jpeg(camera_frame))
    page.reload()
    expect(page.locator(f"#claimed-student option[value='{CAMERA_PERSON[0]}']")).to_have_count(1)
    page.select_option("#claimed-student", CAMERA_PERSON[0])
    page.fill("#exam-id", EXAM)
    page.fill("#attempt-id", attempt_id)
    page.check("#mode-upload")
    page.set_input_files("#upload-file", str(picture))
    wait_for_frames(page, 1)
    assert [int(f["seq"]) for f in sent_fields(page)] == [len(fields)]
    assert client.get(f"/attempts/{attempt_id}").json()["frames"] == len(fields) + 1

    # The link opens the attempt's review page.
    with page.context.expect_page() as opened:
        link.click()
    review = opened.value
    expect(review.locator("h1")).to_have_text(f"Attempt {attempt_id}")
    expect(review.locator("#summary dd[data-field='frames']")).to_have_text(str(len(fields) + 1))
