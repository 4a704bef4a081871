"""``python -m proctor.eval NAME [options]``: run one evaluation (or ``all``) and print its table.

Each evaluation is a module with ``main(argv) -> int`` built on the shared command line
(``proctor.eval.cli``); it prints its tables and, with ``--write``, replaces its block in
docs/accuracy.md and its summary in README.md.
"""

from __future__ import annotations

import importlib
import sys

EVALUATIONS: dict[str, str] = {
    "faces": "proctor.eval.faces",
    "objects": "proctor.eval.objects",
    "pose": "proctor.eval.pose",
    "attempts": "proctor.eval.attempts",
    "id_card": "proctor.eval.id_card",
    "liveness": "proctor.eval.liveness",
    "spoof": "proctor.eval.spoof",
    "fairness": "proctor.eval.fairness",
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in (*EVALUATIONS, "all"):
        print(f"usage: python -m proctor.eval {{{','.join(EVALUATIONS)},all}} [options]")
        return 2
    names = list(EVALUATIONS) if args[0] == "all" else [args[0]]
    status = 0
    for name in names:
        status |= importlib.import_module(EVALUATIONS[name]).main(args[1:])
    return status


if __name__ == "__main__":
    sys.exit(main())
