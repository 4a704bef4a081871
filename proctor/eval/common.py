"""Helpers shared by the evaluations: where the data is, README table replacement."""

from __future__ import annotations

import re
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
    readme.write_text(pattern.sub(lambda m: m.group(1) + text.rstrip() + "\n" + m.group(2),
                                  content))
