"""Helpers shared by the evaluations: where the data is, README table replacement."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EVAL_DIR = ROOT.parent / "shared" / "eval"
README = ROOT / "README.md"


def replace_readme_block(name: str, text: str, readme: Path = README) -> None:
    """Replace the text between ``<!-- eval:NAME -->`` and ``<!-- /eval:NAME -->``."""
    content = readme.read_text()
    pattern = re.compile(rf"(<!-- eval:{name} -->\n).*?(<!-- /eval:{name} -->)", re.DOTALL)
    if not pattern.search(content):
        raise SystemExit(f"README.md has no <!-- eval:{name} --> block")
    readme.write_text(
        pattern.sub(lambda m: m.group(1) + text.rstrip() + "\n" + m.group(2), content)
    )


def eval_main(
    name: str, run: Callable[[Path, Path], str], argv: list[str] | None, description: str | None
) -> int:
    """The command line every table-printing evaluation shares: run, print, maybe write."""
    parser = argparse.ArgumentParser(prog=f"python -m proctor.eval {name}", description=description)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    table = run(args.eval_dir, args.models_dir)
    print(table)
    if args.write_readme:
        replace_readme_block(name, table)
    return 0
