"""test_ui.html in headless Chromium against the real server, with real models and photos.

The server runs in a subprocess (uvicorn on a free loopback port, its own student DB);
Chromium's fake camera plays a real LFW photo placed in a 640x480 frame (a y4m file
written here). Each test compares what the page shows with what the API itself returns
for the same input. Skips only where Chromium, Playwright, the models or
../shared/eval are missing. ``PROCTOR_UPDATE_SCREENSHOT=1`` rewrites docs/test_ui.png.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import httpx2
import numpy as np
import pytest

from tests.browser.support import (
    CAMERA_PERSON,
    OTHER_PERSON,
    analyze,
    enroll,
    expect,
    frames,
    last_response,
    wait_for_frames,
)
from tests.browser.support import TEST_PAGE as PAGE
from tests.conftest import ROOT
from tests.helpers import in_webcam_frame, jpeg, photo

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.eval_data]

SCREENSHOT = ROOT / "docs" / "test_ui.png"
#: A COCO image with no person in it.
NO_FACE_IMAGE = "coco/val2017/000000454661.jpg"


# ---- reading the page ----------------------------------------------------------------


def overlay(page: Page) -> list[dict[str, Any]]:
    return json.loads(page.get_attribute("#overlay", "data-overlay") or "[]")


def snapshot(page: Page) -> dict[str, Any]:
    """The last response, what was drawn for it and its server total, read at one instant."""
    return page.evaluate(
        """() => ({
            response: JSON.parse(document.getElementById('raw-json').textContent),
            overlay: JSON.parse(document.getElementById('overlay').dataset.overlay),
            server_total: document.getElementById('server-total').dataset.value,
        })"""
    )


def codes(response: dict[str, Any]) -> list[str]:
    """A response's alert codes, each once, in its order."""
    return list(dict.fromkeys(a["code"] for a in response["alerts"]))


def log_codes(page: Page) -> list[str]:
    """Alert codes in the log, newest first."""
    return page.eval_on_selector_all("#alert-log li", "els => els.map(e => e.dataset.code)")


def canvas_pixel(page: Page, x: float, y: float) -> list[int]:
    """RGBA of the canvas pixel that contains the point (x, y)."""
    return page.evaluate(
        """([x, y]) => {
            const ctx = document.getElementById('overlay').getContext('2d');
            return Array.from(ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data);
        }""",
        [x, y],
    )


def canvas_size(page: Page) -> tuple[int, int]:
    """The overlay canvas's size in its own (device) pixels."""
    width, height = page.evaluate(
        "() => { const c = document.getElementById('overlay'); return [c.width, c.height]; }"
    )
    return width, height


#: Stroke colours of face boxes in test_ui.html, by status.
FACE_COLORS = {
    "match": [0x34, 0xA8, 0x53],
    "unknown": [0xFB, 0xBC, 0x04],
    "mismatch": [0xEA, 0x43, 0x35],
}


def assert_face_drawn(
    page: Page, item: dict[str, Any], image: dict[str, int], items: list[dict[str, Any]]
) -> None:
    """The face box is where the response says, scaled to the canvas, and really painted."""
    width, height = canvas_size(page)
    sx, sy = width / image["width"], height / image["height"]
    box, drawn = item["box"], item["canvas_box"]
    assert drawn["x_min"] == pytest.approx(box["x_min"] * sx, abs=0.5)
    assert drawn["x_max"] == pytest.approx(box["x_max"] * sx, abs=0.5)
    assert drawn["y_min"] == pytest.approx(box["y_min"] * sy, abs=0.5)
    assert drawn["y_max"] == pytest.approx(box["y_max"] * sy, abs=0.5)
    # The left or right edge (whichever is farther from the canvas border; the top one
    # carries the label) is stroked in the status colour, at mid height.
    x = drawn["x_min"] if drawn["x_min"] > width - drawn["x_max"] else drawn["x_max"]
    edge = canvas_pixel(page, x, (drawn["y_min"] + drawn["y_max"]) / 2)
    assert edge == [*FACE_COLORS[item["status"]], 255], f"face box edge is rgba {edge}"
    # Nothing is painted away from every drawn box (here: the bottom-left corner).
    x, y = 1, height - 2
    near = [
        i
        for i in items
        if i["canvas_box"]["x_min"] - 4 <= x <= i["canvas_box"]["x_max"] + 4
        and i["canvas_box"]["y_min"] - 4 <= y <= i["canvas_box"]["y_max"] + 4
    ]
    if not near:
        corner = canvas_pixel(page, x, y)
        assert corner[3] == 0, f"canvas painted far from any box: rgba {corner}"


# ---- tests ---------------------------------------------------------------------------


def test_root_serves_the_page_with_health_and_its_origin_as_api_base(
    page: Page, server: str, client: httpx2.Client
) -> None:
    page.goto(f"{server}/")
    expect(page.locator("h1")).to_have_text("proctor: webcam test page")
    expect(page.locator("#api-base")).to_have_value(server)
    health = client.get("/health").json()
    expect(page.locator("#health-status")).to_have_text(health["status"])
    for analyzer in health["analyzers"]:
        item = page.locator(f"#health-analyzers li[data-analyzer='{analyzer['name']}']")
        expect(item).to_have_attribute("data-loaded", str(analyzer["loaded"]).lower())
    for model in health["models"]:
        expect(page.locator(f"#health-models tr[data-model='{model['name']}']")).to_contain_text(
            model["license"]
        )
    page.goto(f"{server}/test_ui.html")
    expect(page.locator("h1")).to_have_text("proctor: webcam test page")


def test_webcam_overlay_alerts_and_latency_follow_the_api(
    page: Page,
    server: str,
    client: httpx2.Client,
    enrolled: dict[str, str],
    camera_frame: np.ndarray,
    tmp_path: Path,
) -> None:
    camera_id, camera_name = CAMERA_PERSON[:2]
    other_id = OTHER_PERSON[0]
    frame_jpeg = jpeg(camera_frame)
    claimed_other = analyze(client, frame_jpeg, other_id).json()
    claimed_camera = analyze(client, frame_jpeg, camera_id).json()
    mismatch_codes = set(codes(claimed_other))
    assert "FACE_MISMATCH" in mismatch_codes
    assert claimed_camera["face_verified"] is True
    assert "FACE_MISMATCH" not in codes(claimed_camera)

    # Count requests to /analyze_frame in flight, to check the page never overlaps them.
    page.add_init_script(
        """(() => {
            const seen = { inFlight: 0, max: 0, sent: 0 };
            window.__analyzeRequests = seen;
            const original = window.fetch;
            window.fetch = async (...args) => {
                const url = String(args[0] && args[0].url ? args[0].url : args[0]);
                if (!url.endsWith('/analyze_frame')) return original(...args);
                seen.inFlight += 1; seen.sent += 1; seen.max = Math.max(seen.max, seen.inFlight);
                try { return await original(...args); } finally { seen.inFlight -= 1; }
            };
        })();"""
    )
    page.goto(f"{server}/test_ui.html")
    expect(page.locator(f"#claimed-student option[value='{other_id}']")).to_have_count(1)
    page.select_option("#claimed-student", other_id)
    page.fill("#interval", "100")  # shorter than one analysis: the page must wait, not overlap
    page.click("#start-camera")

    # Claiming the wrong student: the API's alerts appear in the log, counters and timeline.
    log = page.locator("#alert-log li[data-code='FACE_MISMATCH']")
    expect(log).to_have_count(1)
    assert set(log_codes(page)) == mismatch_codes
    expect(log.locator(".message")).to_contain_text(f"student '{other_id}'")
    for code in mismatch_codes:
        count = page.locator(f"#alert-counts tr[data-code='{code}'] .count")
        assert int(count.inner_text()) >= 1
    assert page.locator("#timeline span.sev-high").count() >= 1
    mismatch = overlay(page)[0]
    assert (mismatch["kind"], mismatch["status"]) == ("face", "mismatch")

    # Claiming the right student: the face box turns into a verified match with the name.
    page.select_option("#claimed-student", camera_id)
    page.wait_for_function(
        """id => {
            const items = JSON.parse(document.getElementById('overlay').dataset.overlay);
            return items.length && items[0].status === 'match' && items[0].student_id === id;
        }""",
        arg=camera_id,
    )
    now = snapshot(page)
    shown, items = now["response"], now["overlay"]
    assert shown["face_verified"] is True
    assert shown["person_name"] == camera_name
    assert codes(shown) == codes(claimed_camera)
    faces = [i for i in items if i["kind"] == "face"]
    assert len(faces) == len(shown["faces"])
    face = faces[0]
    assert face["name"] == camera_name
    assert face["box"] == shown["faces"][0]["box"]
    assert face["label"].startswith(camera_name)
    assert_face_drawn(page, face, shown["image"], items)
    expect(page.locator("#detections")).to_contain_text(f"Face 1: {camera_name}")
    # The face-mesh analyzers' per-face fields, where the server has them loaded.
    loaded = {a["name"] for a in client.get("/health").json()["analyzers"] if a["loaded"]}
    sent = shown["faces"][0]
    listed = page.locator("#detections li[data-kind='face']").first
    if "head_pose" in loaded:
        pose = sent["head_pose"]
        assert face["head_pose"] == {
            "yaw": pose["yaw_deg"],
            "pitch": pose["pitch_deg"],
            "roll": pose["roll_deg"],
        }
        expect(listed).to_contain_text(
            f"head yaw {pose['yaw_deg']:.1f}°, pitch {pose['pitch_deg']:.1f}°, "
            f"roll {pose['roll_deg']:.1f}°"
        )
    if "gaze" in loaded:
        gaze = sent["gaze"]
        assert (face["gaze"]["yaw"], face["gaze"]["pitch"]) == (gaze["yaw_deg"], gaze["pitch_deg"])
        expect(listed).to_contain_text(
            f"yaw {gaze['yaw_deg']:.1f}°, pitch {gaze['pitch_deg']:.1f}°"
        )
    if "distance" in loaded:
        assert face["distance_cm"] == sent["distance_cm"]
        expect(listed).to_contain_text(f"distance ≈{math.floor(sent['distance_cm'] + 0.5)} cm")
    # The browser's frame (decoded video, re-encoded JPEG) gives the box the API gives
    # for the same frame, within a few pixels.
    expected = claimed_camera["faces"][0]["box"]
    assert shown["image"] == claimed_camera["image"] == {"width": 640, "height": 480}
    for key, value in expected.items():
        assert face["box"][key] == pytest.approx(value, abs=12), key
    # Latency: the measured round trip and the server's own total for the frame shown.
    expect(page.locator("#rtt")).to_contain_text(" ms")
    assert now["server_total"] == str(shown["timings_ms"]["total"])

    save_screenshot(page, tmp_path)

    page.wait_for_function("() => window.__analyzeRequests.sent >= 4")
    seen = page.evaluate("() => window.__analyzeRequests")
    assert seen["max"] == 1, f"{seen['max']} /analyze_frame requests were in flight at once"

    # Enroll the current webcam frame as a new student.
    page.fill("#enroll-id", "cam1")
    page.fill("#enroll-name", "Camera Frame")
    page.click("#enroll-webcam")
    expect(page.locator("#students-msg")).to_contain_text("Enrolled Camera Frame (cam1)")
    assert client.get("/students/cam1").json()["face_count"] == 1
    expect(page.locator("#students-table tr[data-student-id='cam1'] .face-count")).to_have_text("1")

    page.click("#stop-camera")
    expect(page.locator("#start-camera")).to_be_enabled()


def save_screenshot(page: Page, tmp_path: Path) -> None:
    """A screenshot of the page, the camera image blurred (eval photos stay out of the repo)."""
    page.add_style_tag(content="#video { filter: blur(14px); }")
    page.set_viewport_size({"width": 1280, "height": 1200})
    path = SCREENSHOT if os.environ.get("PROCTOR_UPDATE_SCREENSHOT") == "1" else tmp_path / "ui.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size < 500_000


def test_upload_mode_shows_the_apis_boxes_alerts_and_errors(
    page: Page,
    server: str,
    client: httpx2.Client,
    enrolled: dict[str, str],
    eval_dir: Path,
    tmp_path: Path,
) -> None:
    camera_id = CAMERA_PERSON[0]
    impostor = eval_dir / "faces" / "identities" / "Wen_Jiabao" / "Wen_Jiabao_0002.jpg"
    no_face = eval_dir / NO_FACE_IMAGE
    claimed = analyze(client, impostor.read_bytes(), camera_id).json()
    empty = analyze(client, no_face.read_bytes()).json()
    assert claimed["alerts"] and empty["alerts"]

    page.goto(f"{server}/test_ui.html")
    page.check("#mode-upload")
    expect(page.locator("#upload-controls")).to_be_visible()
    expect(page.locator("#start-camera")).to_be_hidden()
    expect(page.locator(f"#claimed-student option[value='{camera_id}']")).to_have_count(1)
    page.select_option("#claimed-student", camera_id)

    # Someone else in front of the camera: the same boxes and alerts as the API's.
    page.set_input_files("#upload-file", str(impostor))
    wait_for_frames(page, 1)
    assert last_response(page)["alerts"] == claimed["alerts"]
    items = overlay(page)
    faces = [i for i in items if i["kind"] == "face"]
    assert [i["box"] for i in faces] == [f["box"] for f in claimed["faces"]]
    assert faces[0]["status"] == "mismatch"
    assert_face_drawn(page, faces[0], claimed["image"], items)
    entries = page.locator("#alert-log li")
    assert log_codes(page) == codes(claimed)
    for index, alert in enumerate(claimed["alerts"]):
        expect(entries.nth(index).locator(".message")).to_have_text(alert["message"])
        expect(entries.nth(index)).to_have_attribute("data-severity", alert["severity"])
        expect(page.locator(f"#alert-counts tr[data-code='{alert['code']}'] .count")).to_have_text(
            "1"
        )

    # No one at all: new alerts go on top, the overlay is empty, the timeline grows.
    page.select_option("#claimed-student", "")
    page.set_input_files("#upload-file", str(no_face))
    wait_for_frames(page, 2)
    assert last_response(page)["alerts"] == empty["alerts"]
    assert "NO_FACE" in codes(empty)
    assert [i for i in overlay(page) if i["kind"] == "face"] == []
    expect(page.locator("#detections li[data-kind='face']")).to_have_count(0)
    # An alert that goes on from the previous frame extends its entry; the others are new.
    new_codes = [c for c in codes(empty) if c not in codes(claimed)]
    assert log_codes(page) == new_codes + codes(claimed)
    marks = page.eval_on_selector_all("#timeline span", "els => els.map(e => e.dataset.codes)")
    assert marks == [" ".join(codes(claimed)), " ".join(codes(empty))]

    # A claimed student deleted meanwhile: the API's 404 is shown with its code and detail.
    enroll(client, "gone", "Gone Student", [jpeg(cv2.imread(str(impostor)))])
    page.click("#refresh-students")
    expect(page.locator("#claimed-student option[value='gone']")).to_have_count(1)
    page.select_option("#claimed-student", "gone")
    assert client.delete("/students/gone").status_code == 200
    refused = analyze(client, no_face.read_bytes(), "gone")
    assert refused.status_code == 404
    page.click("#reanalyze")
    error = page.locator("#analyze-error")
    expect(error).to_have_attribute("data-code", refused.json()["code"])
    expect(error).to_have_attribute("data-status", "404")
    expect(error).to_contain_text(refused.json()["detail"])
    assert frames(page) == 2


def test_student_panel_enrolls_lists_deletes_and_shows_errors(
    page: Page, server: str, client: httpx2.Client, identities_dir: Path, eval_dir: Path
) -> None:
    photos = [identities_dir / "Harrison_Ford" / f"Harrison_Ford_000{n}.jpg" for n in (1, 2)]
    page.goto(f"{server}/test_ui.html")
    page.fill("#enroll-id", "ford")
    page.fill("#enroll-name", "Harrison Ford")
    page.set_input_files("#enroll-files", [str(p) for p in photos])
    page.click("#enroll-photos")
    row = page.locator("#students-table tr[data-student-id='ford']")
    expect(row).to_have_count(1)
    stored = client.get("/students/ford").json()
    assert stored["name"] == "Harrison Ford"
    expect(row.locator(".face-count")).to_have_text(str(stored["face_count"]))
    expect(page.locator("#claimed-student option[value='ford']")).to_have_count(1)
    listed = client.get("/students").json()
    expect(page.locator("#students-table tbody tr")).to_have_count(listed["count"])

    # Enrolling the same id again: the API's 409 code and detail, and an offer to add the
    # photo to the enrolled student instead, which POST /students/{id}/faces takes.
    extra = identities_dir / "Harrison_Ford" / "Harrison_Ford_0003.jpg"
    page.set_input_files("#enroll-files", [str(extra)])
    page.click("#enroll-photos")
    message = page.locator("#students-msg")
    expect(message).to_have_attribute("data-code", "student_exists")
    duplicate = client.post(
        "/students",
        data={"student_id": "ford", "name": "Harrison Ford"},
        files={"images": (extra.name, extra.read_bytes(), "image/jpeg")},
    )
    assert duplicate.status_code == 409
    expect(message).to_contain_text(duplicate.json()["detail"])
    add = page.locator("#add-faces")
    expect(add).to_have_text("Add the 1 photo(s) to ford")
    add.click()
    expect(message).to_contain_text("Added 1 photo(s) to Harrison Ford (ford)")
    expect(add).to_be_hidden()
    assert client.get("/students/ford").json()["face_count"] == stored["face_count"] + 1
    expect(row.locator(".face-count")).to_have_text(str(stored["face_count"] + 1))

    # A photo without a face: the API's 422 code and detail, and no student created.
    no_face = eval_dir / NO_FACE_IMAGE
    refused = client.post(
        "/students",
        data={"student_id": "noface", "name": "No Face"},
        files={"images": (no_face.name, no_face.read_bytes(), "image/jpeg")},
    )
    assert refused.status_code == 422
    page.fill("#enroll-id", "noface")
    page.fill("#enroll-name", "No Face")
    page.set_input_files("#enroll-files", [str(no_face)])
    page.click("#enroll-photos")
    expect(message).to_have_attribute("data-code", refused.json()["code"])
    expect(message).to_contain_text(refused.json()["detail"])
    expect(page.locator("#students-table tr[data-student-id='noface']")).to_have_count(0)

    # Delete, confirming the dialog.
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.delete").click()
    expect(row).to_have_count(0)
    expect(message).to_contain_text("deleted")
    assert client.get("/students/ford").status_code == 404


def test_page_opened_from_disk_talks_to_the_api_base_it_is_given(
    page: Page, server: str, client: httpx2.Client, enrolled: dict[str, str], identities_dir: Path
) -> None:
    page.goto(PAGE.as_uri())
    expect(page.locator("#api-base")).to_have_value("http://localhost:7860")
    page.fill("#api-base", server)
    page.click("#connect")
    expect(page.locator("#health-status")).to_have_text(client.get("/health").json()["status"])
    expect(page.locator("#students-table tbody tr")).to_have_count(
        client.get("/students").json()["count"]
    )
    picture = identities_dir / OTHER_PERSON[2] / f"{OTHER_PERSON[2]}_0002.jpg"
    expected = analyze(client, picture.read_bytes()).json()
    page.check("#mode-upload")
    page.set_input_files("#upload-file", str(picture))
    wait_for_frames(page, 1)
    assert last_response(page) | {"timings_ms": None} == expected | {"timings_ms": None}
    expect(page.locator("#detections")).to_contain_text(f"Face 1: {expected['person_name']}")


#: Known values put into the real server's answer so that the drawing can be checked
#: geometrically: an object is appended to ``objects`` (and its class to
#: ``banned_objects``), and the first face's head pose, gaze and distance are replaced.
EXTRA_OBJECT = {
    "label": "cell phone",
    "confidence": 0.87,
    "box": {"x_min": 20.0, "y_min": 300.0, "x_max": 140.0, "y_max": 460.0},
}
FACE_FIELDS = {
    "head_pose": {"yaw_deg": 30.0, "pitch_deg": 0.0, "roll_deg": 0.0},
    "gaze": {"yaw_deg": -30.0, "pitch_deg": 0.0, "direction": "left"},
    "distance_cm": 55.0,
}
POSE_COLOR = [0x00, 0xE5, 0xFF]
GAZE_COLOR = [0xFF, 0x6D, 0xFF]


def test_objects_head_pose_gaze_and_distance_are_drawn_where_the_response_puts_them(
    page: Page, server: str, identities_dir: Path, tmp_path: Path
) -> None:
    picture = tmp_path / "frame.jpg"
    picture.write_bytes(jpeg(in_webcam_frame(photo(identities_dir, "Hosni_Mubarak", 1))))

    # The page's own request goes to the real server; its JSON answer gets the known values.
    page.add_init_script(
        "("
        + """([object, faceFields]) => {
            const original = window.fetch;
            window.fetch = async (...args) => {
                const response = await original(...args);
                if (!String(args[0]).endsWith('/analyze_frame') || !response.ok) return response;
                const body = await response.json();
                body.objects = [...(body.objects ?? []), object];
                body.banned_objects = [...new Set([...(body.banned_objects ?? []), object.label])];
                if (body.faces && body.faces.length) Object.assign(body.faces[0], faceFields);
                return new Response(JSON.stringify(body), {
                    status: response.status, headers: { 'content-type': 'application/json' },
                });
            };
        }"""
        + f")({json.dumps([EXTRA_OBJECT, FACE_FIELDS])});"
    )
    page.goto(f"{server}/test_ui.html")
    page.check("#mode-upload")
    page.set_input_files("#upload-file", str(picture))
    wait_for_frames(page, 1)
    now = snapshot(page)
    shown, items = now["response"], now["overlay"]
    width, height = canvas_size(page)
    sx, sy = width / shown["image"]["width"], height / shown["image"]["height"]

    objects = [i for i in items if i["kind"] == "object"]
    assert [o["box"] for o in objects] == [o["box"] for o in shown["objects"]]
    for drawn, sent in zip(objects, shown["objects"], strict=True):
        assert drawn["name"] == sent["label"]
        assert drawn["banned"] == (sent["label"] in shown["banned_objects"])
        assert drawn["label"] == f"{sent['label']} {round(sent['confidence'] * 100)}%"
    phone = objects[-1]
    assert (phone["name"], phone["banned"]) == ("cell phone", True)
    box = phone["canvas_box"]
    left_edge = canvas_pixel(page, box["x_min"], (box["y_min"] + box["y_max"]) / 2)
    assert left_edge == [0xEA, 0x43, 0x35, 255], f"banned object box edge is rgba {left_edge}"
    expect(page.locator("#detections li[data-kind='object']")).to_have_count(len(objects))
    expect(page.locator("#detections")).to_contain_text(f"Object: {phone['label']} (banned)")

    face = next(i for i in items if i["kind"] == "face")
    assert face["head_pose"] == {"yaw": 30.0, "pitch": 0.0, "roll": 0.0}
    assert face["gaze"] == {"yaw": -30.0, "pitch": 0.0, "text": "left"}
    assert face["distance_cm"] == 55.0
    listed = page.locator("#detections li[data-kind='face']").first
    expect(listed).to_contain_text("head yaw 30.0°, pitch 0.0°, roll 0.0°")
    expect(listed).to_contain_text("gaze left yaw -30.0°, pitch 0.0°")
    expect(listed).to_contain_text("distance ≈55 cm")
    # Yaw +30 degrees, pitch 0: a horizontal arrow from the nose tip toward the image's right
    # (the API's convention), half the box size long; the gaze (yaw -30) points left from
    # each eye. Half-way along each arrow the canvas has its colour; behind it, not.
    landmarks = shown["faces"][0]["landmarks"]
    drawn_box = face["canvas_box"]
    size = max(drawn_box["x_max"] - drawn_box["x_min"], drawn_box["y_max"] - drawn_box["y_min"])
    nose_x, nose_y = landmarks[2]["x"] * sx, landmarks[2]["y"] * sy
    reach = size * 0.6 * 0.5  # sin(30 degrees) of 0.6 box sizes
    assert canvas_pixel(page, nose_x + reach / 2, nose_y) == [*POSE_COLOR, 255]
    assert canvas_pixel(page, nose_x - reach / 2, nose_y)[:3] != POSE_COLOR
    eye_x, eye_y = landmarks[0]["x"] * sx, landmarks[0]["y"] * sy
    gaze_reach = size * 0.35 * 0.5
    on_gaze = canvas_pixel(page, eye_x - gaze_reach / 2, eye_y)
    assert on_gaze[3] > 0, "no gaze arrow left of the eye"
    # A thin line covers part of the pixel: its colour comes back within rounding.
    assert all(abs(a - b) <= 3 for a, b in zip(on_gaze[:3], GAZE_COLOR, strict=True)), on_gaze
    assert canvas_pixel(page, eye_x + gaze_reach / 2, eye_y)[:3] != GAZE_COLOR
