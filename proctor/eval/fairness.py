"""``python -m proctor.eval fairness``: does proctor fail some students more than others?

One command, three parts, each its own module (so each can be read and rerun alone with
``--part``):

* ``detection``: face found per perceived group under webcam conditions (dim, backlit,
  small, blurred, compressed), with and without the enhanced retry before NO_FACE
  (``proctor.eval.fairness_detection``);
* ``identity``: false accepts per group at the global threshold and their spread, the
  remedy tried, and 1:N false identifications against galleries of 100 / 1,000 / 10,000
  (``proctor.eval.fairness_identity``);
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
from pathlib import Path

from proctor.eval.cli import EvalReport, eval_main

PARTS: dict[str, str] = {
    "detection": "proctor.eval.fairness_detection",
    "identity": "proctor.eval.fairness_identity",
    "alerts": "proctor.eval.fairness_alerts",
}


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--part",
        choices=list(PARTS),
        action="append",
        help="run only this part (repeatable); --write needs every part",
    )
    parser.add_argument(
        "--gallery-dir",
        type=Path,
        default=None,
        help="more faces to pad the 1:N galleries with (see tools/gallery_faces.py); "
        "default: $PROCTOR_EVAL_GALLERY_DIR, else only the eval folder's faces",
    )


def run(args: argparse.Namespace) -> EvalReport:
    chosen = args.part or list(PARTS)
    if args.write and set(chosen) != set(PARTS):
        raise SystemExit("--write replaces the whole fairness block: run every part")
    reports = [importlib.import_module(PARTS[name]).section(args) for name in chosen]
    summary = [
        "**Fairness** ([details](docs/accuracy.md#fairness)):",
        "",
        "| figure | split | value (95% interval) |",
        "|---|---|---|",
        *(r.summary for r in reports if r.summary),
    ]
    return EvalReport("\n\n".join(r.details for r in reports), "\n".join(summary))


def main(argv: list[str] | None = None) -> int:
    return eval_main("fairness", run, argv, __doc__, _options)
