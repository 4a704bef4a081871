"""Which of the 468 face-mesh points (and 71 iris-model eye points) the measurements read.

The face mesh numbers its points in a fixed topology (MediaPipe's canonical face mesh).
The few indices below were checked by drawing them on real faces from ``../shared/eval``
(``tests/landmarks/test_topology.py`` re-checks their layout on a real face on every run).
"Image left" is the left of the picture as it arrives, which is the student's right side.
"""

from __future__ import annotations

#: Eye corners: (outer, inner) for the eye on the image's left, then the image's right.
EYE_CORNERS: tuple[tuple[int, int], tuple[int, int]] = ((33, 133), (263, 362))
#: Upper / lower eyelid midpoints of the same two eyes (used when the iris model is off).
EYELID_MIDPOINTS: tuple[tuple[int, int], tuple[int, int]] = ((159, 145), (386, 374))
#: Inner lip midpoints, upper then lower: their gap is how far the mouth is open.
INNER_LIPS: tuple[int, int] = (13, 14)
#: Mouth corners on the image's left and right: the mouth's width.
MOUTH_CORNERS: tuple[int, int] = (61, 291)
NOSE_TIP = 1
CHIN = 152
FOREHEAD = 10

#: The iris model's 71 eye points start with the eyelid contour: 0 is the outer corner,
#: 1-7 the lower lid and 9-15 the upper lid (both from the outer corner inwards, so lower
#: ``i`` faces upper ``i + 8``), 8 the inner corner (found by comparing them with the face
#: mesh's own eye contour on 75 LFW faces, and by drawing them).
EYELID_CONTOUR = slice(0, 16)
LOWER_LID = slice(1, 8)
UPPER_LID = slice(9, 16)
EYE_OUTER_CORNER = 0
EYE_INNER_CORNER = 8
EYE_POINTS = 71
#: Then five iris points: the centre, then four on the rim (image right, top, left, bottom
#: in the model's unmirrored crop).
IRIS_POINTS = 5
