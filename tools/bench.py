"""``python -m tools.bench``: how fast proctor is, in process and through HTTP, beside the PyPI
pipeline a developer would assemble without it.

A benchmark, not a test: the figures depend on the machine (the README names it). Frames are
real: the ``desk/`` webcam frames of ``../shared/eval`` (29 people alone at their desks),
each brought to exactly the measured size (scaled to cover it and centre-cropped; the 1280x720
frames are upscaled 640x480 captures: the pixel count of an HD webcam, not its detail). Every
person is enrolled from their first frame through the same ``Enroller`` as ``POST /students``
and claimed on their other frames, so identity verifies as in an exam.

1. **In process**: ``Pipeline.analyze`` (what ``POST /analyze_frame`` runs: decode, every
   default analyzer, response) on each frame after a warm-up; p50/p95 per stage, as the
   pipeline times them.
2. **Through HTTP**: a real ``uvicorn app:app`` on a loopback port; 1, 4 and 16 clients post
   640x480 frames with a claim for a fixed time; frames/s answered 200, refused (503
   ``overloaded``), other errors, latency p50/p95, and the server's peak RSS.
3. **The PyPI peer**: ``face_recognition`` (dlib HOG detector + ResNet embedding, from
   ``dlib-bin`` and ``face-recognition-models``) in its own virtual environment
   (``.bench-peer``, made here with pinned versions, never a runtime dependency), on the same
   640x480 frames: per-frame time, and accuracy at equal work beside ours: frames with exactly
   one face found, claims verified, and verification TAR at FAR 0.1% on the LFW report persons
   in webcam frames (threshold chosen on the tune persons, as in the faces evaluation). No
   registry package ships YOLOv3-tiny weights, so the peer has no object detector: the
   comparison is faces and identity only, and the ratio against our full pipeline is shown
   beside the one against our face stages alone.

It prints Markdown tables and writes every figure as JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import httpx2
import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.identity import IdentityResult
from proctor.enrollment import EnrollmentImage
from proctor.eval.cli import DEFAULT_EVAL_DIR
from proctor.eval.data import in_webcam_frame, lfw_split, read_image
from proctor.eval.datasets import load_desk
from proctor.eval.faces import TARGET_FAR, Embedded, operating_point
from proctor.gallery import Gallery
from proctor.services import Services, build_services
from proctor.settings import Settings
from tools.server import running_server

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"640x480": (640, 480), "1280x720": (1280, 720)}
CLIENTS = (1, 4, 16)
PEER_VENV = ROOT / ".bench-peer"
#: The peer's packages, pinned (face-recognition itself without its source-built dlib pin).
PEER_PACKAGES = (
    "dlib-bin==20.0.1.post1",
    "face-recognition-models==0.3.0",
    "numpy==2.4.6",
    "pillow==13.0.0",
    "click==8.5.1",
)
PEER_NO_DEPS = ("face-recognition==1.3.0",)
#: Stages of our pipeline that do the peer's work (find faces, embed, compare).
FACE_STAGES = ("decode", "faces", "identity")


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def exactly(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to cover ``size`` (width, height) and centre-cropped to it."""
    width, height = size
    scale = max(width / image.shape[1], height / image.shape[0])
    scaled = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    y, x = (scaled.shape[0] - height) // 2, (scaled.shape[1] - width) // 2
    return scaled[y : y + height, x : x + width]


@dataclass(frozen=True)
class Frames:
    """Enrollment photo per person and the claimed frames, JPEG-encoded, at one size."""

    enroll: dict[str, bytes]
    claimed: list[tuple[bytes, str]]  # (frame, person)


def desk_frames(eval_dir: Path, size: tuple[int, int], count: int) -> Frames:
    by_unit: dict[str, list[Path]] = {}
    for item in load_desk(eval_dir):
        by_unit.setdefault(item.unit, []).append(item.path)
    by_person = {f"desk-{i:02d}": paths for i, (_, paths) in enumerate(sorted(by_unit.items()))}
    enroll = {p: jpeg(exactly(read_image(paths[0]), size)) for p, paths in by_person.items()}
    rest = [(path, p) for p, paths in sorted(by_person.items()) for path in paths[1:]]
    claimed = [(jpeg(exactly(read_image(path), size)), p) for path, p in rest]
    return Frames(enroll, (claimed * (count // len(claimed) + 1))[:count])


def enroll_all(services: Services, enroll: dict[str, bytes]) -> set[str]:
    """Enroll every person whose enrollment frame shows exactly one face; their ids."""
    done = set()
    for person, data in enroll.items():
        try:
            vectors = services.enroller.embed([EnrollmentImage("enrollment", data)])
        except Exception:
            continue
        services.students.create(person, person, vectors, services.enroller.model)
        done.add(person)
    return done


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}


def in_process(services: Services, frames: Frames, warmup: int) -> dict[str, dict[str, float]]:
    """Per-stage p50/p95 ms of ``Pipeline.analyze`` on every claimed frame."""
    timings: dict[str, list[float]] = {}
    for index, (data, person) in enumerate(frames.claimed[:warmup] + frames.claimed):
        gallery = services.galleries.current()  # a fresh snapshot per frame, as per request
        claim = Claim(person if person in gallery else None, None)
        analysis = services.pipeline.analyze(data, claim, gallery)
        if index >= warmup:
            for stage, ms in analysis.response.timings_ms.items():
                timings.setdefault(stage, []).append(ms)
    return {stage: summary(values) for stage, values in timings.items()}


# -- through HTTP ------------------------------------------------------------------------------


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """A memory figure of the process from ``/proc``, MB: its peak resident set (``VmHWM``) or
    its resident set now (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


#: Answers a polite client waits out (``Retry-After`` seconds) and then sends the same frame
#: again: refusals, not errors (503 ``overloaded``, 429 ``rate_limited``).
RETRY_LATER = (429, 503)


def http_load(
    url: str, frames: Frames, clients: int, seconds: float, attempts: str | None = None
) -> dict:
    """``clients`` threads posting claimed frames for ``seconds``: answers per second, and every
    answer that was neither a 200 nor a refusal with ``Retry-After`` by status (0: none came).
    With ``attempts``, each client records its frames of each person in an attempt of its own
    (``<attempts>-<client>-<person>``, ``seq`` counting up), as an exam client does."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    refused = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        nonlocal refused
        seqs: Counter[str] = Counter()
        with httpx2.Client(base_url=url, timeout=60) as http:
            i = index
            while time.monotonic() < stop:
                data, person = frames.claimed[i % len(frames.claimed)]
                form = {"student_id": person}
                if attempts is not None:
                    attempt = form["attempt_id"] = f"{attempts}-{index}-{person}"
                    form["seq"] = str(seqs[attempt])
                started = time.perf_counter()
                try:
                    answer = http.post(
                        "/analyze_frame",
                        data=form,
                        files={"file": ("frame.jpg", data, "image/jpeg")},
                    )
                except httpx2.TransportError:
                    answer = None
                status = answer.status_code if answer is not None else 0
                retry_after = answer.headers.get("retry-after") if answer is not None else None
                if status in RETRY_LATER and retry_after is not None:
                    with lock:
                        refused += 1
                    time.sleep(float(retry_after))
                    continue  # the same frame again
                elapsed = (time.perf_counter() - started) * 1000
                i += clients
                if attempts is not None:
                    seqs[form["attempt_id"]] += 1
                with lock:
                    statuses[status] += 1
                    if status == 200:
                        latencies.append(elapsed)

    begun = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - begun
    errors = {status: n for status, n in sorted(statuses.items()) if status != 200}
    return {
        "clients": clients,
        "seconds": wall,
        "requests": sum(statuses.values()) + refused,
        "frames_per_s": statuses[200] / wall,
        "ok": statuses[200],
        "refused": refused,
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
    }


def enroll_over_http(url: str, enroll: dict[str, bytes]) -> None:
    """``POST /students`` for every person, from their enrollment frame (a person whose frame
    is refused stays unenrolled, and their claims are answered 404: errors of the load)."""
    with httpx2.Client(base_url=url, timeout=60) as http:
        for person, data in enroll.items():
            http.post(
                "/students",
                data={"student_id": person, "name": person},
                files={"images": ("e.jpg", data, "image/jpeg")},
            )


def through_http(
    workdir: Path, models_dir: Path, frames: Frames, seconds: float
) -> dict[str, object]:
    env = {
        "PROCTOR_MODELS_DIR": str(models_dir.resolve()),
        "PROCTOR_STUDENT_DB": str(workdir / "bench-http.sqlite3"),
    }
    with running_server(workdir, env) as server:
        enroll_over_http(server.url, frames.enroll)
        http_load(server.url, frames, 1, min(5.0, seconds))  # warm-up
        loads = [http_load(server.url, frames, clients, seconds) for clients in CLIENTS]
        return {"loads": loads, "peak_rss_mb": memory_mb(server.process.pid)}


# -- the PyPI peer -------------------------------------------------------------------------------


def peer_python() -> Path:
    """The peer venv's interpreter, made (pinned) on first use."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, *PEER_PACKAGES], check=True)
        subprocess.run([*pip, "--no-deps", *PEER_NO_DEPS], check=True)
    return python


def lfw_webcam(eval_dir: Path) -> dict[str, list[tuple[str, np.ndarray]]]:
    """LFW photos in 640x480 webcam frames, per split, as (person, frame)."""
    return {
        side: [(person, in_webcam_frame(read_image(path))) for person, path in items]
        for side, items in lfw_split(eval_dir).items()
    }


def tar_at_far(units: list[str], vectors: list[np.ndarray | None], tune: set[str]) -> dict:
    """TAR at FAR 0.1% on the report persons, threshold from the tune persons' pairs."""
    kept = [
        (u, v / np.linalg.norm(v)) for u, v in zip(units, vectors, strict=True) if v is not None
    ]
    embedded = Embedded([u for u, _ in kept], np.stack([v for _, v in kept]), [])
    report = set(units) - tune
    point = operating_point(embedded, tune, report, TARGET_FAR)
    return {
        "threshold": point.threshold,
        "tar": str(point.tar),
        "tar_value": point.tar.value,
        "far": point.far.percent(3),
        "embedded": f"{len(kept)}/{len(units)}",
    }


def ours_lfw(services: Services, lfw: dict[str, list[tuple[str, np.ndarray]]]) -> dict:
    units, vectors = [], []
    nobody = Gallery(services.enroller.model, 0)
    for person, frame in lfw["tune"] + lfw["report"]:
        ctx = services.pipeline.analyze(frame, Claim(None, None), nobody, only=["identity"]).context
        found = ctx.result("identity", IdentityResult).embeddings
        units.append(person)
        vectors.append(found[0] if len(found) else None)
    return tar_at_far(units, vectors, {p for p, _ in lfw["tune"]})


def run_peer(
    workdir: Path, frames: Frames, lfw: dict[str, list[tuple[str, np.ndarray]]], warmup: int
) -> dict:
    folder = workdir / "peer"
    folder.mkdir()

    def saved(name: str, data: bytes) -> str:
        path = folder / name
        path.write_bytes(data)
        return str(path)

    lfw_items = lfw["tune"] + lfw["report"]
    job = {
        "enroll": {p: saved(f"enroll-{p}.jpg", d) for p, d in frames.enroll.items()},
        "frames": [[saved(f"f{i}.jpg", d), p] for i, (d, p) in enumerate(frames.claimed)],
        "embed": [saved(f"lfw{i}.jpg", jpeg(f)) for i, (_, f) in enumerate(lfw_items)],
        "warmup": warmup,
    }
    answer = subprocess.run(
        [str(peer_python()), str(ROOT / "tools" / "peer_faces.py")],
        input=json.dumps(job).encode(),
        capture_output=True,
        check=True,
    )
    result = json.loads(answer.stdout)
    rows = result["frames"]
    vectors = [None if v is None else np.asarray(v) for v in result["embed"]]
    return {
        "ms": summary([r["ms"] for r in rows]),
        "one_face": sum(r["faces"] == 1 for r in rows) / len(rows),
        "verified": sum(r["verified"] for r in rows) / len(rows),
        "lfw": tar_at_far([p for p, _ in lfw_items], vectors, {p for p, _ in lfw["tune"]}),
    }


def ours_accuracy(services: Services, frames: Frames) -> dict[str, float]:
    one, verified = 0, 0
    gallery = services.galleries.current()
    for data, person in frames.claimed:
        claim = Claim(person if person in gallery else None, None)
        response = services.pipeline.analyze(data, claim, gallery).response
        one += len(response.faces) == 1
        verified += bool(response.face_verified)
    return {"one_face": one / len(frames.claimed), "verified": verified / len(frames.claimed)}


# -- report -------------------------------------------------------------------------------------


def markdown(report: dict) -> str:
    lines = [
        f"Machine: {report['machine']}. Analyzers: {', '.join(report['analyzers'])}.",
        "",
        "In process (`Pipeline.analyze`), ms per frame:",
        "",
        "| stage | " + " | ".join(f"{s} p50 | {s} p95" for s in report["in_process"]) + " |",
        "|---|" + "---|---|" * len(report["in_process"]),
    ]
    stages = list(next(iter(report["in_process"].values())))
    for stage in stages:
        cells = [
            f"{t[stage]['p50']:.1f} | {t[stage]['p95']:.1f}" for t in report["in_process"].values()
        ]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    n = next(iter(report["in_process"].values()))["total"]["n"]
    lines += ["", f"({n} frames per size after warm-up.)"]
    if "http" in report:
        http = report["http"]
        lines += [
            "",
            "Through HTTP (`uvicorn app:app`, 640x480 frames with a claim, "
            f"{report['http_seconds']:.0f} s per row; "
            f"server peak RSS {http['peak_rss_mb']:.0f} MB):",
            "",
            "| clients | frames/s | refused (503) | errors | p50 ms | p95 ms |",
            "|---|---|---|---|---|---|",
        ]
        for row in http["loads"]:
            lines.append(
                f"| {row['clients']} | {row['frames_per_s']:.1f} | {row['refused']} | "
                f"{row['errors']} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} |"
            )
    if "peer" in report:
        peer, ours = report["peer"], report["ours_accuracy"]
        total = report["in_process"]["640x480"]["total"]["p50"]
        faces = sum(report["in_process"]["640x480"][s]["p50"] for s in FACE_STAGES)
        lines += [
            "",
            "Beside the PyPI peer (`face_recognition` 1.3.0 on dlib 20.0.1; no object detector: "
            "see the bench's docstring), same 640x480 frames, one at a time:",
            "",
            "| | proctor | peer | peer / proctor |",
            "|---|---|---|---|",
            f"| ms per frame, p50 (proctor: every analyzer) | {total:.1f} | "
            f"{peer['ms']['p50']:.1f} | {peer['ms']['p50'] / total:.2f}x |",
            f"| ms per frame, p50 (proctor: decode + faces + identity) | {faces:.1f} | "
            f"{peer['ms']['p50']:.1f} | {peer['ms']['p50'] / faces:.2f}x |",
            f"| desk frames with exactly one face found | {ours['one_face']:.1%} | "
            f"{peer['one_face']:.1%} | |",
            f"| desk frames whose claim verified | {ours['verified']:.1%} | "
            f"{peer['verified']:.1%} | |",
            f"| LFW in webcam frames: photos with a face embedded | "
            f"{report['ours_lfw']['embedded']} | {peer['lfw']['embedded']} | |",
            f"| LFW in webcam frames: TAR at FAR 0.1% (report persons' embedded pairs) | "
            f"{report['ours_lfw']['tar']} | {peer['lfw']['tar']} | |",
        ]
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    for line in (
        Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    ):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--frames", type=int, default=60, help="frames per size (after warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--http-seconds", type=float, default=20.0, help="per client count")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP load")
    parser.add_argument("--no-peer", action="store_true", help="skip the PyPI peer")
    parser.add_argument("--json", type=Path, default=Path("bench.json"))
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    if not args.eval_dir.is_dir():
        raise SystemExit(f"labelled images not found at {args.eval_dir}")

    sized = {name: desk_frames(args.eval_dir, size, args.frames) for name, size in SIZES.items()}
    report: dict = {"machine": machine(), "http_seconds": args.http_seconds}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        services = build_services(
            Settings(models_dir=args.models_dir, student_db=workdir / "bench.sqlite3")
        )
        try:
            enroll_all(services, sized["640x480"].enroll)
            report["analyzers"] = list(services.pipeline.analyzers)
            report["in_process"] = {
                name: in_process(services, frames, args.warmup) for name, frames in sized.items()
            }
            if not args.no_peer:
                lfw = lfw_webcam(args.eval_dir)
                report["ours_accuracy"] = ours_accuracy(services, sized["640x480"])
                report["ours_lfw"] = ours_lfw(services, lfw)
        finally:
            services.close()
        if not args.no_peer:
            report["peer"] = run_peer(workdir, sized["640x480"], lfw, args.warmup)
        if not args.no_http:
            report["http"] = through_http(
                workdir, args.models_dir, sized["640x480"], args.http_seconds
            )
    args.json.write_text(json.dumps(report, indent=1))
    print(markdown(report))
    print(f"\n(all figures: {args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
