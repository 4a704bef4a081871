"""The analyzer registry: every analyzer the service knows, in dependency order.

Adding an analyzer = one module under ``proctor/analyzers/`` plus one line here.
"""

from __future__ import annotations

from proctor.analyzers.base import Analyzer
from proctor.analyzers.distance import DistanceAnalyzer
from proctor.analyzers.face_mesh import FaceMeshAnalyzer
from proctor.analyzers.faces import FacesAnalyzer
from proctor.analyzers.gaze import GazeAnalyzer
from proctor.analyzers.head_pose import HeadPoseAnalyzer
from proctor.analyzers.identity import IdentityAnalyzer
from proctor.analyzers.mouth import MouthAnalyzer
from proctor.analyzers.objects import ObjectsAnalyzer
from proctor.analyzers.spoof import SpoofAnalyzer

ANALYZERS: dict[str, type[Analyzer]] = {
    cls.name: cls
    for cls in (
        FacesAnalyzer,
        IdentityAnalyzer,
        ObjectsAnalyzer,
        FaceMeshAnalyzer,
        HeadPoseAnalyzer,
        GazeAnalyzer,
        MouthAnalyzer,
        DistanceAnalyzer,
        SpoofAnalyzer,
    )
}
