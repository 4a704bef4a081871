"""The liveness check as the API runs it: issue a signed challenge; check a burst against it.

The token is checked (signature, expiry), every frame decoded, the analyzers found loaded and
a worker admitted before the nonce is spent, so a malformed upload, a missing model or a busy
service does not burn the student's challenge; the nonce is spent before any frame is
analysed, so two answers of one token racing each other cannot both be judged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np

from proctor.analyzers.base import Claim
from proctor.analyzers.identity import IdentityAnalyzer
from proctor.errors import InvalidBurstError, ServiceUnavailableError, TokenUsedError
from proctor.frame import decode_image
from proctor.gallery import Gallery
from proctor.liveness.burst import LivenessResult, Reading, Thresholds, judge, reading
from proctor.liveness.tokens import Challenge, TokenSigner
from proctor.pipeline import Pipeline
from proctor.settings import Settings
from proctor.store.liveness import LivenessStore

#: What a burst is read with; the passive ``spoof`` analyzer joins when it is loaded.
BURST_ANALYZERS = ("head_pose", "gaze", "mouth", "identity")


def signer_for(settings: Settings, store: LivenessStore) -> TokenSigner:
    """The configured key, or the one generated and kept in the database."""
    configured = settings.liveness.secret
    key = configured.get_secret_value().encode() if configured else store.signing_key()
    return TokenSigner(key, settings.liveness.steps, settings.liveness.expiry_minutes * 60)


def read_burst(
    pipeline: Pipeline, frames: Sequence[np.ndarray], claim: Claim, gallery: Gallery
) -> list[Reading]:
    """One reading per frame (the evaluation calls this too, without the HTTP layer)."""
    only = (*BURST_ANALYZERS, "spoof") if pipeline.get("spoof") else BURST_ANALYZERS
    return [reading(pipeline.analyze(frame, claim, gallery, only=only)) for frame in frames]


def identity_threshold(pipeline: Pipeline) -> float:
    analyzer = pipeline.get("identity")
    assert isinstance(analyzer, IdentityAnalyzer)  # read_burst needs it loaded anyway
    return analyzer.threshold


@dataclass
class LivenessService:
    settings: Settings
    signer: TokenSigner
    store: LivenessStore
    pipeline: Pipeline

    def challenge(self) -> tuple[str, Challenge]:
        return self.signer.issue(time.time())

    def check(
        self,
        token: str,
        uploads: Sequence[bytes],
        claim: Claim,
        gallery: Gallery,
        slot: Callable[[], AbstractContextManager[None]],
    ) -> LivenessResult:
        options = self.settings.liveness
        challenge = self.signer.verify(token, time.time())
        if not options.min_frames <= len(uploads) <= options.max_frames:
            raise InvalidBurstError(
                f"a burst has {options.min_frames}-{options.max_frames} frames, not {len(uploads)}"
            )
        frames = [
            decode_image(
                data, max_bytes=options.frame_bytes, max_pixels=self.settings.max_image_pixels
            )
            for data in uploads
        ]
        missing = [name for name in BURST_ANALYZERS if self.pipeline.get(name) is None]
        if missing:
            raise ServiceUnavailableError(
                f"analyzers {missing} are not loaded: the liveness check needs them (GET /health)"
            )
        with slot():  # the admission gate: one worker for the whole burst
            if not self.store.spend(challenge.nonce, challenge.expires_at, time.time()):
                raise TokenUsedError("this liveness token has been answered already")
            readings = read_burst(self.pipeline, frames, claim, gallery)
        thresholds = Thresholds.of(options, identity_threshold(self.pipeline))
        return judge(readings, challenge.steps, thresholds, claimed=claim.student_id is not None)
