"""The gallery: every enrolled embedding of one embedder as one in-memory matrix.

Identity compares each face with every row at once (one matrix product) instead of reading
embeddings per request. Rows are grouped by student, so a student's score (their best
similarity over their enrolled photos) is a ``maximum.reduceat`` over the row groups.
A gallery is an immutable snapshot: the store builds a new one when its change counter
moves, and a request keeps the snapshot it started with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Gallery:
    model: str  # embedder whose vectors these are
    version: int  # the store's change counter when this snapshot was read
    student_ids: tuple[str, ...] = ()  # one per student, in row-group order
    names: tuple[str, ...] = ()
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # first row

    @classmethod
    def from_rows(
        cls, model: str, version: int, rows: Iterable[tuple[str, str, np.ndarray]]
    ) -> Gallery:
        """From ``(student_id, name, vector)`` rows in any order."""
        ordered = sorted(rows, key=lambda row: row[0])
        if not ordered:
            return cls(model, version)
        ids = [row[0] for row in ordered]
        firsts = [i for i, sid in enumerate(ids) if i == 0 or ids[i - 1] != sid]
        return cls(
            model,
            version,
            tuple(ids[i] for i in firsts),
            tuple(ordered[i][1] for i in firsts),
            np.stack([np.asarray(row[2], np.float32) for row in ordered]),
            np.asarray(firsts, np.int64),
        )

    def __len__(self) -> int:
        return len(self.student_ids)

    @property
    def rows(self) -> int:
        """Enrolled embeddings (a student with three photos is three rows): the number of
        comparisons a 1:N search makes, which sets its threshold."""
        return len(self.vectors) if len(self) else 0

    def __contains__(self, student_id: object) -> bool:
        return student_id in self._index

    @cached_property
    def _index(self) -> dict[str, int]:
        return {sid: i for i, sid in enumerate(self.student_ids)}

    def name_of(self, student_id: str) -> str:
        return self.names[self._index[student_id]]

    def similarities(self, embeddings: np.ndarray) -> np.ndarray:
        """(faces, students): each face's best cosine similarity to each student."""
        if len(self) == 0 or len(embeddings) == 0:
            return np.zeros((len(embeddings), len(self)), np.float32)
        return np.maximum.reduceat(embeddings @ self.vectors.T, self.starts, axis=1)
