"""Both face backend sets work end to end on real photos of people the thresholds were not
chosen on (report-split persons), and the licence policy holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proctor.api.main import create_app
from proctor.services import build_services
from tests.conftest import make_settings, require_models
from tests.helpers import in_webcam_frame, jpeg, local_client, photo

SETS = {
    "permissive (default)": ({}, ("face_detection_yunet", "face_recognition_sface")),
    "non-commercial": (
        {"faces": {"detector": "scrfd"}, "identity": {"embedder": "mobilefacenet"}},
        ("face_detection_scrfd", "face_recognition_mobilefacenet"),
    ),
}


@pytest.mark.parametrize("name", SETS)
def test_each_backend_set_verifies_and_rejects(
    tmp_path: Path, identities_dir: Path, name: str
) -> None:
    overrides, models = SETS[name]
    require_models(*models)
    settings = make_settings(tmp_path, analyzers=["faces", "identity"], **overrides)
    with local_client(create_app(settings)) as client:
        health = client.get("/health").json()
        loaded = {m["name"]: m for m in health["models"] if m["loaded"]}
        assert set(loaded) == set(models)
        assert all(m["permissive"] for m in loaded.values()) == (name != "non-commercial")
        created = client.post(
            "/students",
            data={"student_id": "ja", "name": "Jennifer Aniston"},
            files={
                "images": (
                    "a.jpg",
                    jpeg(in_webcam_frame(photo(identities_dir, "Jennifer_Aniston", 1))),
                    "image/jpeg",
                )
            },
        )
        assert created.status_code == 201, created.text

        def verify(person: str, number: int) -> dict:
            frame = jpeg(in_webcam_frame(photo(identities_dir, person, number)))
            response = client.post(
                "/analyze_frame",
                data={"student_id": "ja"},
                files={"file": ("f.jpg", frame, "image/jpeg")},
            )
            assert response.status_code == 200, response.text
            return response.json()

        # TAR is about 98-100 % on report persons: all but at most one genuine photo verify.
        same = [verify("Jennifer_Aniston", n) for n in range(2, 7)]
        assert sum(r["face_verified"] is True for r in same) >= 4
        assert {r["person_name"] for r in same if r["face_verified"]} == {"Jennifer Aniston"}
        for number in (1, 2, 4):
            other = verify("Mariah_Carey", number)
            assert other["face_verified"] is False
            assert "FACE_MISMATCH" in {a["code"] for a in other["alerts"]}


def test_a_store_enrolled_under_the_old_default_keeps_its_embedder(tmp_path: Path) -> None:
    """An unconfigured embedder follows the store when every student is enrolled under
    another backend (an upgrade from the first release's default), and says so."""
    require_models("face_detection_yunet", "face_recognition_mobilefacenet")
    settings = make_settings(tmp_path, analyzers=["faces", "identity"])
    build_services(settings).students.create(
        "old", "Enrolled Before", [np.ones(512, np.float32)], "mobilefacenet"
    )
    kept = build_services(settings)
    assert kept.settings.face_embedder == "mobilefacenet"
    assert kept.embedder_reason.startswith("kept from the store")
    configured = build_services(
        make_settings(tmp_path, analyzers=["faces", "identity"], identity={"embedder": "sface"})
    )
    assert configured.settings.face_embedder == "sface"
    assert configured.embedder_reason.startswith("configured")
