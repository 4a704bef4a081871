"""``python -m tools.load``: the service under a steady load, bounded in count and time, on
loopback only.

A real ``uvicorn app:app`` (``tools/server.py``) on a free loopback port, the bench's real
frames (``tools/bench.py``: the ``desk/`` webcam frames at 640x480, every person enrolled
through ``POST /students``), then ``--clients`` threads (16) for ``--seconds`` (60), each
posting frames with a claim and recording them in attempts as an exam client does. It reports
the requests, the errors by status, the refusals (503 ``overloaded`` or 429 with
``Retry-After``: the client waits and sends the frame again, so they are not errors) and the
server's resident set sampled every second: at 25% of the run (warm-up over), 50% and the end,
and its growth from 25% to the end. It exits 1 on any error or when that growth is over
``--max-rss-growth-mb``: memory that keeps growing under a steady load is a leak.

The server's rate limit is off: the clients all call from one loopback address, where real
students would each have their own.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from proctor.eval.cli import DEFAULT_EVAL_DIR
from tools.bench import SIZES, desk_frames, enroll_over_http, http_load, machine, memory_mb
from tools.server import running_server

#: The points of the run whose resident set is reported: warm-up over, half-way, the end.
RSS_POINTS = (0.25, 0.5, 1.0)


def sample_rss(pid: int, running: threading.Thread, interval_s: float) -> list[list[float]]:
    """``[seconds since start, RSS MB]`` of ``pid`` every ``interval_s`` while ``running``
    runs, and once more when it has finished."""
    begun = time.monotonic()
    samples = []
    while running.is_alive():
        samples.append([time.monotonic() - begun, memory_mb(pid, "VmRSS")])
        running.join(interval_s)
    samples.append([time.monotonic() - begun, memory_mb(pid, "VmRSS")])
    return samples


def rss_at(samples: list[list[float]], fraction: float) -> float:
    """The first sample at or after ``fraction`` of the run (the last one for the end)."""
    moment = fraction * samples[-1][0]
    return next(mb for seconds, mb in samples if seconds >= moment)


def run(
    eval_dir: Path, models_dir: Path, workdir: Path, clients: int, seconds: float
) -> dict[str, object]:
    """Start the server, enroll the desk people, load it; every figure of the run."""
    frames = desk_frames(eval_dir, SIZES["640x480"], 200)
    env = {
        "PROCTOR_MODELS_DIR": str(models_dir.resolve()),
        "PROCTOR_STUDENT_DB": str(workdir / "load.sqlite3"),
        "PROCTOR_RATE_LIMIT_PER_MINUTE": "0",
    }
    with running_server(workdir, env) as server:
        enroll_over_http(server.url, frames.enroll)
        result: dict[str, object] = {}
        loading = threading.Thread(
            target=lambda: result.update(http_load(server.url, frames, clients, seconds, "load"))
        )
        loading.start()
        samples = sample_rss(server.process.pid, loading, interval_s=1.0)
    at = {f"{point:.0%}": rss_at(samples, point) for point in RSS_POINTS}
    return {
        **result,
        "machine": machine(),
        "rss_mb_at": at,
        "rss_growth_mb": at["100%"] - at["25%"],
        "rss_mb_samples": samples,
    }


def failures(report: dict, max_rss_growth_mb: float) -> list[str]:
    """What makes the run fail: any error, or the resident set growing after warm-up."""
    found = []
    if report["errors"]:
        found.append(f"{report['errors']} error(s), by status: {report['errors_by_status']}")
    if report["rss_growth_mb"] > max_rss_growth_mb:
        found.append(
            f"RSS grew {report['rss_growth_mb']:.0f} MB after warm-up "
            f"(bound {max_rss_growth_mb:.0f} MB)"
        )
    return found


def summary(report: dict) -> str:
    at = report["rss_mb_at"]
    return "\n".join(
        [
            f"Machine: {report['machine']}. {report['clients']} clients for "
            f"{report['seconds']:.0f} s on loopback.",
            f"requests {report['requests']}: {report['ok']} answered 200 "
            f"({report['frames_per_s']:.1f} frames/s, p50 {report['p50_ms']:.0f} ms, "
            f"p95 {report['p95_ms']:.0f} ms), {report['refused']} refused with Retry-After "
            f"and retried, {report['errors']} errors {report['errors_by_status']}",
            "server RSS: "
            + ", ".join(f"{point} {mb:.0f} MB" for point, mb in at.items())
            + f"; growth after warm-up {report['rss_growth_mb']:+.0f} MB",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--max-rss-growth-mb",
        type=float,
        default=50.0,
        help="most the server's RSS may grow from 25%% of the run to its end",
    )
    parser.add_argument("--json", type=Path, help="also write every figure (and sample) here")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    if not args.eval_dir.is_dir():
        raise SystemExit(f"labelled images not found at {args.eval_dir}")
    with tempfile.TemporaryDirectory() as tmp:
        report = run(args.eval_dir, args.models_dir, Path(tmp), args.clients, args.seconds)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(summary(report))
    found = failures(report, args.max_rss_growth_mb)
    for failure in found:
        print(f"FAILED: {failure}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
