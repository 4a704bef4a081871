"""The mesh and iris-model point indices the measurements read, checked on a real face."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from proctor.analyzers.face_mesh import FaceMeshResult
from proctor.models.landmarks import topology
from tests.analyzers.mesh_pipeline import headpose_image, mesh_pipeline, run


def test_indices_sit_where_the_code_expects(eval_dir: Path) -> None:
    ctx = run(mesh_pipeline(), headpose_image(eval_dir, "person05246+0+0.jpg"))
    face = ctx.result("face_mesh", FaceMeshResult).primary
    assert face is not None
    x, y = face.mesh[:, 0], face.mesh[:, 1]
    (l_outer, l_inner), (r_outer, r_inner) = topology.EYE_CORNERS
    assert x[l_outer] < x[l_inner] < x[topology.NOSE_TIP] < x[r_inner] < x[r_outer]
    assert y[topology.FOREHEAD] < y[l_outer] < y[topology.NOSE_TIP] < y[topology.CHIN]
    upper_lip, lower_lip = topology.INNER_LIPS
    assert y[topology.NOSE_TIP] < y[upper_lip] <= y[lower_lip] < y[topology.CHIN]
    left_corner, right_corner = topology.MOUTH_CORNERS
    assert x[left_corner] < x[topology.NOSE_TIP] < x[right_corner]
    for upper, lower in topology.EYELID_MIDPOINTS:
        assert y[upper] < y[lower]
    # The nose tip is the mesh's nearest point to the camera, or close to it.
    assert face.mesh[topology.NOSE_TIP, 2] < np.percentile(face.mesh[:, 2], 2)
    # Iris-model eyelids: upper lid above the lower one; corners at their ends.
    for eye in face.eyes:
        upper = eye.contour[topology.UPPER_LID, 1]
        lower = eye.contour[topology.LOWER_LID, 1]
        assert np.all(upper < lower)
        lids_x = eye.eyelids[:, 0]
        corners_x = sorted([eye.outer_corner[0], eye.inner_corner[0]])
        assert corners_x[0] <= lids_x.min() + 1 and lids_x.max() - 1 <= corners_x[1]
    left, right = face.eyes
    assert left.outer_corner[0] < left.inner_corner[0] < right.inner_corner[0]
    assert right.inner_corner[0] < right.outer_corner[0]
