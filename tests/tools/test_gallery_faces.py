"""The gallery-padding extractor's same-person rules (the fairness MANIFEST's a and b)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tools.gallery_faces import UTK_NAME, dhash, git_dir, taken_at


def test_dhash_sees_a_recompressed_copy_as_the_same_photo(eval_dir: Path) -> None:
    path = sorted((eval_dir / "fairness" / "detection").glob("*.jpg"))[0]
    image = cv2.imread(str(path))
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    copy = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert ok and bin(dhash(image) ^ dhash(copy)).count("1") <= 1
    other = cv2.imread(str(sorted((eval_dir / "fairness" / "detection").glob("*.jpg"))[1]))
    assert bin(dhash(image) ^ dhash(other)).count("1") > 1
    assert bin(dhash(image) ^ dhash(np.fliplr(image).copy())).count("1") > 1


def test_utkface_names_give_labels_and_capture_times() -> None:
    found = UTK_NAME.match("26_1_2_20170116174525125.jpg.chip.jpg")
    assert found is not None and found.groups()[:3] == ("26", "1", "2")
    first = taken_at("20170116174525125")
    assert taken_at("20170116174535125") - first == 10.0
    assert UTK_NAME.match("26_1_20170116174525125.jpg.chip.jpg") is None  # no race label


def test_snapshots_are_read_bare_or_with_a_work_tree(tmp_path: Path) -> None:
    (tmp_path / "owner+bare" / "repo").mkdir(parents=True)
    (tmp_path / "owner+tree" / "repo" / ".git").mkdir(parents=True)
    assert git_dir("owner/bare", tmp_path) == tmp_path / "owner+bare" / "repo"
    assert git_dir("owner/tree", tmp_path) == tmp_path / "owner+tree" / "repo" / ".git"
