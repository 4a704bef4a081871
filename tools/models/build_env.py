"""Throwaway *build* venv for converting TFJS graph models to ONNX.

Why a separate venv: converting the upstream TFJS models needs TensorFlow
(~600 MB) and tf2onnx, with versions that conflict with the service's own
pins (numpy 2 at runtime vs numpy 1.26 here). The service only ever loads the
resulting ``.onnx`` files with onnxruntime, so TensorFlow must never become a
runtime dependency. This module runs in the service's venv (it imports only the
standard library and the converter's stdlib-only constants): it creates the build
venv on demand and runs ``tfjs_convert.py`` inside it as a subprocess.

A conversion is accepted only when the converter's ``TFJS_CONVERT_RESULT`` line
says it was verified numerically against TensorFlow; its output bytes are not
pinned (they may differ across CPUs and TensorFlow builds), its inputs are.

The venv is reused when its marker file records the same pins hash; changing
any pin (or the Python minor version) rebuilds it from scratch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.models.tfjs_convert import RESULT_PREFIX

#: Project root (this file is ``<root>/tools/models/build_env.py``).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Default location of the build venv (git-ignored).
DEFAULT_BUILD_VENV = PROJECT_ROOT / ".build-venv"
#: The converter script run inside the build venv.
CONVERTER_SCRIPT = Path(__file__).resolve().with_name("tfjs_convert.py")

#: Direct requirements, exact pins. numpy stays < 2 because tf2onnx 1.17 calls
#: ``np.product`` (removed in numpy 2); tensorflow-cpu 2.21 accepts numpy>=1.26.
#: protobuf 7.x satisfies TF 2.21 (>=6.31.1,<8) and onnx 1.23 (>=6.31.1).
#: onnxruntime is only used to verify the converted model against TensorFlow.
BUILD_REQUIREMENTS: tuple[str, ...] = (
    "tensorflow-cpu==2.21.0",
    "tf2onnx==1.17.0",
    "onnx==1.23.2",
    "numpy==1.26.4",
    "protobuf==7.36.2",
    "onnxruntime==1.31.1",
)

#: Transitive dependencies, pinned to the set the conversions were validated
#: with (passed to pip as constraints so a new keras/ml_dtypes/... release
#: cannot silently change the toolchain).
BUILD_CONSTRAINTS: tuple[str, ...] = (
    "absl-py==2.5.1",
    "astunparse==1.6.3",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "flatbuffers==25.12.19",
    "gast==0.7.0",
    "google-pasta==0.2.0",
    "grpcio==1.85.3",
    "h5py==3.14.0",
    "idna==3.20",
    "keras==3.15.1",
    "libclang==18.1.1",
    "markdown-it-py==4.3.0",
    "mdurl==0.1.2",
    "ml_dtypes==0.5.4",
    "namex==0.1.0",
    "opt_einsum==3.4.0",
    "optree==0.20.0",
    "packaging==26.4",
    "Pygments==2.21.0",
    "requests==2.34.2",
    "rich==15.0.0",
    "six==1.17.0",
    "termcolor==3.3.0",
    "typing_extensions==4.16.0",
    "urllib3==2.8.0",
    "wheel==0.48.0",
    "wrapt==2.5.2",
)

#: numpy 1.26.4 ships wheels for CPython 3.9-3.12 only.
SUPPORTED_PYTHON = ((3, 10), (3, 12))

MARKER_NAME = ".proctor-build-env.json"
_STDERR_TAIL_LINES = 40
_INSTALL_TIMEOUT_S = 3600
_CONVERT_TIMEOUT_S = 1800


class BuildError(RuntimeError):
    """The build venv could not be made, or a conversion failed or was not verified."""


@dataclass(frozen=True)
class VerifiedConversion:
    """What the converter's numerical check against TensorFlow measured."""

    #: Worst output's ``max|onnx - tf| / max(1, max|tf|)`` on the verification input.
    max_rel_diff: float
    #: The bound it had to stay under (``tfjs_convert.VERIFY_RTOL``).
    tolerance: float


def _venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def pins_hash(python_version: tuple[int, int]) -> str:
    """Hash of everything that defines the build venv's contents."""
    payload = json.dumps(
        {
            "requirements": list(BUILD_REQUIREMENTS),
            "constraints": list(BUILD_CONSTRAINTS),
            "python": list(python_version),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _tail(text: str, lines: int = _STDERR_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(cmd: list[str], what: str, timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{what} timed out after {timeout:.0f}s: {cmd}") from exc
    if proc.returncode != 0:
        raise BuildError(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- stderr (tail) ---\n{_tail(proc.stderr) or _tail(proc.stdout)}"
        )
    return proc.stdout


def _python_version(python: str | Path) -> tuple[int, int]:
    out = _run(
        [str(python), "-c", "import sys; print(*sys.version_info[:2])"],
        "querying the base interpreter",
        60,
    )
    major, minor = out.split()
    return int(major), int(minor)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Serialize concurrent builders of the same venv (POSIX only; no-op elsewhere)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def lock_path(venv: Path) -> Path:
    """The lock file next to the venv: ``.build-venv`` -> ``.build-venv.lock`` (git-ignored)."""
    return venv.parent / f"{venv.name}.lock"


def _marker_ok(venv: Path, expected: str) -> bool:
    try:
        data = json.loads((venv / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return data.get("pins_hash") == expected and _venv_python(venv).exists()


def ensure_build_env(path: Path | None = None, *, base_python: str | Path | None = None) -> Path:
    """Create (or reuse) the build venv at ``path`` and return its python executable.

    ``path`` defaults to ``<project root>/.build-venv``. The venv is reused when
    its marker file holds the current pins hash; otherwise it is recreated with
    ``python -m venv --clear`` and the pins are installed with pip (through the
    user's normal pip configuration/index). A directory that exists but is not
    a venv is never wiped: that raises BuildError instead.

    ``base_python`` is the interpreter the venv is made from (default: the
    running one); it must be CPython 3.10-3.12 because of the numpy<2 pin.
    """
    venv = Path(path) if path is not None else DEFAULT_BUILD_VENV
    venv = venv.absolute()
    base = str(base_python) if base_python is not None else sys.executable
    version = _python_version(base)
    lo, hi = SUPPORTED_PYTHON
    if not lo <= version <= hi:
        raise BuildError(
            f"build venv needs Python {lo[0]}.{lo[1]}-{hi[0]}.{hi[1]} (numpy 1.26 / "
            f"tensorflow-cpu 2.21 wheels); {base} is {version[0]}.{version[1]}. "
            "Pass base_python= pointing at a supported interpreter."
        )
    expected = pins_hash(version)
    with _locked(lock_path(venv)):
        if _marker_ok(venv, expected):
            return _venv_python(venv)
        if venv.exists() and any(venv.iterdir()) and not (venv / "pyvenv.cfg").exists():
            raise BuildError(f"{venv} exists and is not a virtualenv; refusing to wipe it")
        with contextlib.suppress(FileNotFoundError):
            (venv / MARKER_NAME).unlink()
        _run([base, "-m", "venv", "--clear", str(venv)], "creating the build venv", 600)
        python = _venv_python(venv)
        req = venv / "proctor-build-requirements.txt"
        con = venv / "proctor-build-constraints.txt"
        req.write_text("\n".join(BUILD_REQUIREMENTS) + "\n", encoding="utf-8")
        con.write_text("\n".join(BUILD_CONSTRAINTS) + "\n", encoding="utf-8")
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                str(req),
                "-c",
                str(con),
            ],
            "installing the build requirements",
            _INSTALL_TIMEOUT_S,
        )
        _run([str(python), "-m", "pip", "check"], "checking the build venv", 300)
        _run(
            [str(python), "-c", "import numpy, onnx, onnxruntime, tensorflow, tf2onnx"],
            "importing the build toolchain",
            300,
            env=_clean_env(),
        )
        marker = {
            "pins_hash": expected,
            "python": list(version),
            "requirements": list(BUILD_REQUIREMENTS),
            "constraints": list(BUILD_CONSTRAINTS),
        }
        tmp = venv / (MARKER_NAME + ".tmp")
        tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, venv / MARKER_NAME)
        return python


def _clean_env() -> dict[str, str]:
    """Environment for build-venv subprocesses: no PYTHONPATH leaking runtime
    packages in, no user site-packages, quiet TF logging."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["PYTHONNOUSERSITE"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def convert_tfjs(
    model_json: Path,
    out_onnx: Path,
    build_python: Path,
    *,
    opset: int = 17,
    timeout: float = _CONVERT_TIMEOUT_S,
) -> VerifiedConversion:
    """Convert one TFJS graph model to ONNX by running ``tfjs_convert.py`` in the
    build venv (``build_python`` as returned by :func:`ensure_build_env`).

    Runs in a subprocess so TensorFlow is never imported into the service
    process. The output has stable I/O names (``input``; ``output0..N`` in
    descending-shape order, see ``tfjs_convert.py``). The converted file is
    accepted only if the converter's ``TFJS_CONVERT_RESULT`` line reports it
    verified against TensorFlow; otherwise it is deleted and BuildError raised
    (as on any other failure, with the tail of the converter's stderr).
    """
    model_json = Path(model_json).absolute()
    out_onnx = Path(out_onnx).absolute()
    if not model_json.is_file():
        raise BuildError(f"TFJS model not found: {model_json}")
    what = f"TFJS->ONNX conversion of {model_json.name}"
    cmd = [
        str(build_python),
        str(CONVERTER_SCRIPT),
        str(model_json),
        str(out_onnx),
        "--opset",
        str(opset),
    ]
    stdout = _run(cmd, what, timeout, env=_clean_env())
    try:
        verified = _verified(stdout)
    except BuildError as exc:
        out_onnx.unlink(missing_ok=True)
        raise BuildError(f"{what}: {exc}") from None
    if not out_onnx.is_file():
        raise BuildError(f"{what}: the converter exited 0 but wrote no {out_onnx}")
    return verified


def _verified(stdout: str) -> VerifiedConversion:
    """The verification figures from the converter's ``TFJS_CONVERT_RESULT`` line; refuses
    a missing or unreadable line, a result not marked verified, and one out of tolerance."""
    what = RESULT_PREFIX.strip()
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise BuildError(f"the converter printed no {what} line")
    try:
        verification = json.loads(lines[-1][len(RESULT_PREFIX) :])["verification"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"unreadable {what} line: {exc!r}") from None
    if not isinstance(verification, dict) or verification.get("verified") is not True:
        raise BuildError(f"refusing an unverified conversion ({what}: {verification})")
    try:
        verified = VerifiedConversion(
            float(verification["max_rel_diff"]), float(verification["tolerance"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BuildError(f"{what} line lacks the verification figures: {exc!r}") from None
    if not verified.max_rel_diff <= verified.tolerance:  # also refuses NaN
        raise BuildError(
            f"refusing a conversion verified out of tolerance: {verified.max_rel_diff:.3g} > "
            f"{verified.tolerance:g}"
        )
    return verified


VERIFIER_SCRIPT = Path(__file__).resolve().with_name("verifier_build.py")
VERIFIER_RESULT_PREFIX = "VERIFIER_BUILD_RESULT "


def run_verifier_build(args: list[str], build_python: Path, what: str) -> dict:
    """Run ``verifier_build.py`` with ``args`` in the build venv; its result line, parsed.
    Refuses a run that printed no result or a result not marked verified."""
    cmd = [str(build_python), str(VERIFIER_SCRIPT), *args]
    stdout = _run(cmd, what, _CONVERT_TIMEOUT_S, env=_clean_env())
    lines = [line for line in stdout.splitlines() if line.startswith(VERIFIER_RESULT_PREFIX)]
    if not lines:
        raise BuildError(f"{what}: no {VERIFIER_RESULT_PREFIX.strip()} line")
    result = json.loads(lines[-1][len(VERIFIER_RESULT_PREFIX) :])
    if result.get("verified") is not True:
        raise BuildError(f"{what}: refusing an unverified build ({result})")
    return result
