"""Small helpers for tests that post real photos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi.testclient import TestClient
from starlette.types import ASGIApp

from proctor.eval.data import in_webcam_frame, side_by_side

__all__ = ["in_webcam_frame", "jpeg", "local_client", "photo", "side_by_side"]


def photo(identities: Path, person: str, number: int) -> np.ndarray:
    """One LFW photo (BGR) of ``person``, e.g. ``photo(d, "Tom_Cruise", 1)``."""
    image = cv2.imread(str(identities / person / f"{person}_{number:04d}.jpg"))
    assert image is not None, f"missing eval photo {person} {number}"
    return image


def jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return data.tobytes()


#: The address a test client calls from: loopback, the one caller a service with no API keys
#: configured serves (``proctor.api.access``).
LOOPBACK_CALLER = ("127.0.0.1", 50000)


def local_client(app: ASGIApp, **options: Any) -> TestClient:
    """A TestClient calling from loopback (Starlette's default caller, "testclient", is not an
    address and counts as remote)."""
    return TestClient(app, client=LOOPBACK_CALLER, **options)
