"""The analyzer registry: every analyzer the service knows, in dependency order.

Adding an analyzer = one module under ``proctor/analyzers/`` plus one line here.
"""

from __future__ import annotations

from proctor.analyzers.base import Analyzer
from proctor.analyzers.faces import FacesAnalyzer
from proctor.analyzers.identity import IdentityAnalyzer

ANALYZERS: dict[str, type[Analyzer]] = {
    cls.name: cls
    for cls in (
        FacesAnalyzer,
        IdentityAnalyzer,
    )
}
