"""``python -m proctor students import DIR | list`` and ``python -m proctor attempts purge``:
manage enrolled students and recorded attempts without HTTP.

``import`` accepts the seed's layout, a folder of ``<student_id>.jpg`` photos, and a
folder of ``<student_id>/<photo>`` sub-folders. The display name is the id with ``_``
turned into spaces unless ``--names names.csv`` (``student_id,name`` rows) says otherwise.
Students already enrolled get the new photos added. Each photo must show exactly one face;
a bad photo skips that student and is reported, the rest go on.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from proctor.enrollment import EnrollmentImage
from proctor.errors import ProctorError
from proctor.services import Services, build_recorder, build_services
from proctor.settings import Settings, get_settings
from proctor.store.db import Database

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def collect(folder: Path) -> dict[str, list[Path]]:
    """Photos per student id from either supported layout."""
    found: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and entry.suffix.lower() in IMAGE_SUFFIXES:
            found.setdefault(entry.stem, []).append(entry)
        elif entry.is_dir():
            photos = [p for p in sorted(entry.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
            if photos:
                found.setdefault(entry.name, []).extend(photos)
    return found


def read_names(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    with path.open(newline="") as handle:
        return {row[0]: row[1] for row in csv.reader(handle) if len(row) >= 2}


def import_folder(services: Services, folder: Path, names: dict[str, str]) -> tuple[int, int]:
    """Enroll every student found; returns (enrolled or updated, failed)."""
    done = failed = 0
    for student_id, photos in collect(folder).items():
        images = [EnrollmentImage(p.name, p.read_bytes()) for p in photos]
        try:
            embeddings = services.enroller.embed(images)
            labels = [p.name for p in photos]
            model = services.enroller.model
            if services.students.exists(student_id):
                services.students.add_faces(student_id, embeddings, model, labels)
                verb = "added to"
            else:
                name = names.get(student_id, student_id.replace("_", " "))
                services.students.create(student_id, name, embeddings, model, labels)
                verb = "enrolled"
        except ProctorError as exc:
            print(f"FAIL {student_id}: {exc.message}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok   {student_id}: {verb} with {len(photos)} photo(s)")
        done += 1
    return done, failed


def purge(settings: Settings) -> int:
    """What the server's periodic task does, once, without loading any model."""
    database = Database(settings.store_url, settings.database_pool_size)
    database.migrate()
    options = settings.attempts
    removed = build_recorder(settings, database).purge(
        options.evidence_retention_days, options.retention_days
    )
    database.dispose()
    print(f"{removed} expired evidence file(s) deleted")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proctor", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)
    students = groups.add_parser("students", help="manage enrolled students")
    actions = students.add_subparsers(dest="action", required=True)
    importing = actions.add_parser("import", help="enroll photos from a folder")
    importing.add_argument("folder", type=Path)
    importing.add_argument("--names", type=Path, help="CSV of student_id,name")
    actions.add_parser("list", help="list enrolled students")
    attempts = groups.add_parser("attempts", help="manage recorded exam attempts")
    attempt_actions = attempts.add_subparsers(dest="action", required=True)
    attempt_actions.add_parser(
        "purge",
        help="delete expired evidence (attempts.evidence_retention_days) and attempts "
        "(attempts.retention_days), rows and files",
    )
    args = parser.parse_args(argv)

    settings = get_settings()
    if args.group == "attempts":
        return purge(settings)
    services = build_services(settings)
    if args.action == "list":
        for student in services.students.list():
            print(f"{student.student_id}\t{student.name}\t{student.face_count} face(s)")
        return 0
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")
    done, failed = import_folder(services, args.folder, read_names(args.names))
    print(f"{done} student(s) imported, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
