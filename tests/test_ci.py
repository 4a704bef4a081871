"""GitHub Actions tests on the Python it sets up: the workflow runs ``.ci/run`` without a sudo
that resets PATH (sudo's secure_path would put the system python3 first, even with ``-E``),
and ``.ci/run`` refuses a python3 other than the one the workflow asks for."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

yaml = pytest.importorskip("yaml", reason="PyYAML (from uvicorn[standard]) parses the workflow")

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def resets_path(command: str) -> bool:
    """Whether ``command`` runs under sudo without handing it the caller's PATH through
    ``env PATH=...`` (the one form secure_path does not override)."""
    words = shlex.split(command)
    if "sudo" not in words:
        return False
    after = words[words.index("sudo") + 1 :]
    if "env" not in after:
        return True
    return not any(word.startswith("PATH=") for word in after[after.index("env") + 1 :])


@pytest.mark.parametrize(
    ("command", "resets"),
    [
        ("bash .ci/run", False),
        ("sudo bash .ci/run", True),
        ("sudo -E bash .ci/run", True),
        ('sudo -E env "PATH=$PATH" bash .ci/run', False),
    ],
)
def test_what_counts_as_resetting_path(command: str, resets: bool) -> None:
    assert resets_path(command) is resets


def test_the_workflow_runs_ci_on_the_python_it_sets_up() -> None:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["test"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    (setup,) = [i for i, used in enumerate(uses) if used.startswith("actions/setup-python@")]
    version = steps[setup]["with"]["python-version"]
    assert version == "3.11"
    runs = [i for i, step in enumerate(steps) if ".ci/run" in step.get("run", "")]
    assert runs and min(runs) > setup
    for i in runs:
        for line in steps[i]["run"].splitlines():
            if ".ci/run" in line:
                assert not resets_path(line), f"{line!r} would test the system Python"
        assert steps[i]["env"]["CI_PYTHON"] == version


def test_ci_refuses_a_python_other_than_the_one_asked_for(tmp_path: Path) -> None:
    """The check comes before anything is installed. PATH holds only python3 and dirname, so
    were the check to let this through, no later step would find apt-get or make either."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "python3").symlink_to(sys.executable)
    (tools / "dirname").symlink_to(shutil.which("dirname") or "/usr/bin/dirname")
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(ROOT / ".ci" / "run")],
        env={"PATH": str(tools), "CI_PYTHON": "2.7"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    here = "{}.{}".format(*sys.version_info[:2])
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"python3 is {here}, CI_PYTHON asks for 2.7" in done.stderr
    assert f"python3 on PATH: {tools / 'python3'} ({here})" in done.stdout
