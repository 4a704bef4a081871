"""``python -m proctor.eval fairness``: does proctor fail some students more than others?

One command, three parts, each its own module and its own block in docs/accuracy.md and the
README (so each can be rerun and rewritten alone with ``--part``):

* ``detection``: face found per perceived group under webcam conditions (dim, backlit,
  small, blurred, compressed), with and without the enhanced retry before NO_FACE
  (``proctor.eval.fairness_detection``);
* ``identity``: false accepts per group at the global threshold and their spread, the
  remedy tried, and 1:N false identifications against galleries of 100 / 1,000 / 10,000
  (``proctor.eval.fairness_identity``; more gallery faces with ``--gallery-dir``, made by
  ``python -m tools.gallery_faces``);
* ``alerts``: how often a student alone, facing the screen, nothing banned, gets any alert,
  per group (``proctor.eval.fairness_alerts``).

Groups are UTKFace's perceived race labels in ``../shared/eval/fairness`` (read its MANIFEST:
perceived, not self-reported; a coarse proxy for skin tone). Every rate carries its count
and 95% Wilson interval; every default a part chooses is chosen on the tune half of the
pseudo-identities and reported on the other half.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path

from proctor.eval.cli import EvalReport, run_parts

PARTS: dict[str, str] = {
    "detection": "proctor.eval.fairness_detection",
    "identity": "proctor.eval.fairness_identity",
    "alerts": "proctor.eval.fairness_alerts",
}
TITLES = {
    "detection": "Fairness: faces found per group",
    "identity": "Fairness: identity per group",
    "alerts": "Fairness: clean-frame alerts per group",
}


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--part", choices=list(PARTS), action="append", help="run only this part (repeatable)"
    )
    parser.add_argument(
        "--gallery-dir",
        type=Path,
        default=None,
        help="more faces to pad the 1:N galleries with (python -m tools.gallery_faces); "
        "default: $PROCTOR_EVAL_GALLERY_DIR, else only the eval folder's faces",
    )


def _with_header(name: str) -> Callable[[argparse.Namespace], EvalReport]:
    """The part's section, its summary rows under their own README table header."""

    def run(args: argparse.Namespace) -> EvalReport:
        report = importlib.import_module(PARTS[name]).section(args)
        summary = [
            f"**{TITLES[name]}** ([details](docs/accuracy.md#fairness)):",
            "",
            "| figure | split | value (95% interval) |",
            "|---|---|---|",
            report.summary,
        ]
        return EvalReport(report.details, "\n".join(summary))

    return run


def main(argv: list[str] | None = None) -> int:
    parts = {name: (f"fairness-{name}", _with_header(name)) for name in PARTS}
    return run_parts(parts, argv, __doc__, _options)
