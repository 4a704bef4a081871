"""StudentStore accommodations: set at enrollment or replaced later, checked against the known
names, atomic, and added to existing databases by migration 0005. Each test runs on both
engines (``database_url``)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from proctor.errors import InvalidAccommodationError, StudentNotFoundError
from proctor.store.db import MIGRATIONS, Database
from tests.store.test_students import open_store, unit


def test_enrolled_with_accommodations_normalised(database_url: str) -> None:
    store = open_store(database_url)
    created = store.create(
        "s1",
        "Ada",
        [unit(1)],
        "m",
        accommodations=["no_mouth_alerts", "extra_person_allowed", "no_mouth_alerts", " "],
    )
    assert created.accommodations == ("extra_person_allowed", "no_mouth_alerts")
    assert store.accommodations("s1") == ("extra_person_allowed", "no_mouth_alerts")
    assert store.create("s2", "Alan", [unit(2)], "m").accommodations == ()
    assert [s.accommodations for s in store.list()] == [
        ("extra_person_allowed", "no_mouth_alerts"),
        (),
    ]


def test_set_replaces_the_whole_set_without_moving_the_gallery(database_url: str) -> None:
    store = open_store(database_url)
    store.create("s1", "Ada", [unit(1)], "m", accommodations=["no_gaze_alerts"])
    version = store.gallery_version()
    updated = store.set_accommodations("s1", ["reading_aid_allowed", "no_head_pose_alerts"])
    assert updated.accommodations == ("no_head_pose_alerts", "reading_aid_allowed")
    assert updated.face_count == 1 and updated.name == "Ada"
    assert store.set_accommodations("s1", []).accommodations == ()
    assert store.gallery_version() == version  # the gallery caches stay valid


def test_unknown_names_and_students_are_refused_and_change_nothing(database_url: str) -> None:
    store = open_store(database_url)
    store.create("s1", "Ada", [unit(1)], "m", accommodations=["no_gaze_alerts"])
    with pytest.raises(InvalidAccommodationError, match=r"no_gaze_alert'.*known: extra_person"):
        store.set_accommodations("s1", ["no_mouth_alerts", "no_gaze_alert"])
    assert store.accommodations("s1") == ("no_gaze_alerts",)
    with pytest.raises(InvalidAccommodationError):
        store.create("s2", "Alan", [unit(2)], "m", accommodations=["phone_allowed"])
    assert not store.exists("s2")
    with pytest.raises(StudentNotFoundError):
        store.set_accommodations("nobody", ["no_gaze_alerts"])
    with pytest.raises(StudentNotFoundError):
        store.accommodations("nobody")


def test_migration_0005_gives_existing_students_none(database_url: str) -> None:
    """A database at 0004 with a student upgrades to an empty list for them, and back down."""
    database = Database(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        connection.execute(
            text(
                "INSERT INTO students (student_id, name, created_at, updated_at) "
                "VALUES ('old-1', 'Grace', 'x', 'x')"
            )
        )
    database.dispose()
    store = open_store(database_url)
    assert store.get("old-1").accommodations == ()
    store.set_accommodations("old-1", ["no_gaze_alerts"])
    assert store.accommodations("old-1") == ("no_gaze_alerts",)
    store.db.dispose()
    with Database(database_url).engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
        columns = connection.execute(text("SELECT * FROM students")).keys()
    assert "accommodations" not in columns
