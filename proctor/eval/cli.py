"""The command line every evaluation shares, and where their tables are written.

``python -m proctor.eval NAME [--eval-dir DIR] [--models-dir DIR] [--write]`` runs one
evaluation, prints its Markdown, and with ``--write`` replaces its block in
``docs/accuracy.md`` (``<!-- eval:NAME -->`` ... ``<!-- /eval:NAME -->``) and its summary
in the README (``<!-- summary:NAME -->``).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EVAL_DIR = ROOT.parent / "shared" / "eval"
ACCURACY = ROOT / "docs" / "accuracy.md"
README = ROOT / "README.md"


@dataclass(frozen=True)
class EvalReport:
    details: str  # the full tables, for docs/accuracy.md
    summary: str  # a few rows for the README: figure, split, count and interval


def replace_block(path: Path, tag: str, name: str, text: str) -> None:
    """Replace the text between ``<!-- TAG:NAME -->`` and ``<!-- /TAG:NAME -->`` in ``path``."""
    content = path.read_text()
    pattern = re.compile(rf"(<!-- {tag}:{name} -->\n).*?(<!-- /{tag}:{name} -->)", re.DOTALL)
    if not pattern.search(content):
        raise SystemExit(f"{path.name} has no <!-- {tag}:{name} --> block")
    path.write_text(pattern.sub(lambda m: m.group(1) + text.rstrip() + "\n" + m.group(2), content))


def eval_main(
    name: str,
    run: Callable[[argparse.Namespace], EvalReport],
    argv: list[str] | None,
    description: str | None,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> int:
    """Parse the shared options (plus ``extra`` ones), run, print, and write with --write."""
    parser = argparse.ArgumentParser(prog=f"python -m proctor.eval {name}", description=description)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument(
        "--write", action="store_true", help="update docs/accuracy.md and the README summary"
    )
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    if not args.eval_dir.is_dir():
        raise SystemExit(f"labelled images not found at {args.eval_dir}")
    report = run(args)
    print(report.details)
    print(report.summary)
    if args.write:
        replace_block(ACCURACY, "eval", name, report.details)
        replace_block(README, "summary", name, report.summary)
        print(f"{ACCURACY.relative_to(ROOT)} and README.md updated")
    return 0


def run_parts(
    parts: dict[str, tuple[str, Callable[[argparse.Namespace], EvalReport]]],
    argv: list[str] | None,
    description: str | None,
    extra: Callable[[argparse.ArgumentParser], None],
) -> int:
    """Run the parts named by ``--part`` (all by default), each as its own evaluation with its
    own block: ``parts`` maps a part to its block name and what writes it. ``extra`` must
    declare ``--part`` too, so each part's parser accepts it."""
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--part", choices=list(parts), action="append")
    chosen = chooser.parse_known_args(argv)[0].part or list(parts)
    status = 0
    for part in chosen:
        name, run = parts[part]
        status |= eval_main(name, run, argv, description, extra)
    return status
