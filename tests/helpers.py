"""Small helpers for tests that post real photos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi.testclient import TestClient
from starlette.types import ASGIApp

from proctor.eval.data import in_webcam_frame, side_by_side
from proctor.eval.id_card import desk_frames, draw_card, photograph, rng_for

__all__ = ["card_photo", "in_webcam_frame", "jpeg", "local_client", "photo", "side_by_side"]


def photo(identities: Path, person: str, number: int) -> np.ndarray:
    """One LFW photo (BGR) of ``person``, e.g. ``photo(d, "Tom_Cruise", 1)``."""
    image = cv2.imread(str(identities / person / f"{person}_{number:04d}.jpg"))
    assert image is not None, f"missing eval photo {person} {number}"
    return image


def jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return data.tobytes()


def card_photo(eval_dir: Path, person: str, number: int) -> bytes:
    """A SYNTHETIC card of ``person``'s photo ``number`` held up in a real desk frame, drawn and
    photographed as the ``id_card`` evaluation does (a JPEG)."""
    identities = eval_dir / "faces" / "identities"
    rng = rng_for(f"{person}_{number:04d}.jpg")
    card = draw_card(photo(identities, person, number), person, rng)
    background = cv2.imread(str(desk_frames(eval_dir)[0][1]))
    return jpeg(photograph(card, background, rng)[0])


#: The address a test client calls from: loopback, the one caller a service with no API keys
#: configured serves (``proctor.api.access``).
LOOPBACK_CALLER = ("127.0.0.1", 50000)


def local_client(app: ASGIApp, **options: Any) -> TestClient:
    """A TestClient calling from loopback (Starlette's default caller, "testclient", is not an
    address and counts as remote)."""
    return TestClient(app, client=LOOPBACK_CALLER, **options)
