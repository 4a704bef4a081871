"""The bench's frames are really the sizes it reports (the former bench called 640x640 frames
640x480), and every claimed person has an enrollment frame of their own."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tools.bench import SIZES, desk_frames, exactly


@pytest.mark.parametrize("name", sorted(SIZES))
def test_desk_frames_have_exactly_the_named_size(eval_dir: Path, name: str) -> None:
    frames = desk_frames(eval_dir, SIZES[name], 12)
    assert len(frames.claimed) == 12
    for data, person in frames.claimed + [(d, p) for p, d in frames.enroll.items()]:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert (image.shape[1], image.shape[0]) == SIZES[name]
        assert person in frames.enroll
    assert len(frames.enroll) == 29  # the desk set's people


def test_exactly_covers_and_centre_crops() -> None:
    wide = np.zeros((360, 640, 3), np.uint8)
    wide[:, 320:] = 255  # right half white
    out = exactly(wide, (640, 480))
    assert out.shape == (480, 640, 3)
    assert out[:, :200].max() == 0 and out[:, -200:].min() == 255  # centred, not squashed
