"""The typed records that flow through the pipeline.

``Recording`` (facts about the audio) → ``Turn`` (who said what, when) → ``Transcript`` →
``Scorecard`` (score, hits with evidence, metrics). Every record is a frozen pydantic model that
round-trips through JSON. Times are seconds, rounded to milliseconds when a record is built; in
JSON they appear under the short keys of the scorecard contract (``start``/``end``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCORECARD_SCHEMA_VERSION = 1


def round_s(value: float) -> float:
    """Round a time in seconds to milliseconds (the resolution every record keeps)."""
    return round(float(value), 3)


Seconds = Annotated[float, Field(ge=0.0)]


class Role(StrEnum):
    """Who a party is in the call."""

    AGENT = "agent"  # 坐席
    CUSTOMER = "customer"  # 客户
    UNKNOWN = "unknown"


class Direction(StrEnum):
    INBOUND = "in"  # 呼入
    OUTBOUND = "out"  # 呼出


class Severity(StrEnum):
    DEDUCTION = "deduction"  # 扣分
    FATAL = "fatal"  # 致命错误, 一票否决
    INFO = "info"  # 提示 (e.g. complaint risk), no points


class _Record(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class _Timed(_Record):
    """A record with a time span; ``start_s <= end_s``, both rounded to ms."""

    start_s: Seconds = Field(alias="start")
    end_s: Seconds = Field(alias="end")

    @field_validator("start_s", "end_s", mode="after")
    @classmethod
    def _round(cls, value: float) -> float:
        return round_s(value)

    @model_validator(mode="after")
    def _ordered(self) -> _Timed:
        if self.end_s < self.start_s:
            raise ValueError(f"span ends before it starts: {self.start_s}..{self.end_s}")
        return self

    @property
    def duration_s(self) -> float:
        return round_s(self.end_s - self.start_s)


class Word(_Timed):
    text: str
    probability: float = Field(default=1.0, ge=0.0, le=1.0)


class CallMetadata(_Record):
    """What the center knows about a call besides its audio (file name or manifest)."""

    agent_id: str | None = None
    team: str | None = None
    shift: str | None = None
    direction: Direction | None = None
    start_time: datetime | None = None
    line_of_business: str | None = None
    agent_channel: int | None = Field(default=None, ge=0, le=1)  # forces the agent's channel
    extra: dict[str, str] = Field(default_factory=dict)


class Recording(_Record):
    """Facts about one audio file. Annotations never go here."""

    call_id: str
    path: Path
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    duration_s: Seconds
    sample_rate_hz: int = Field(gt=0)  # of the file, before resampling
    num_channels: int = Field(ge=1, le=2)
    codec: str
    container_format: str
    metadata: CallMetadata = Field(default_factory=CallMetadata)


class SpeakerSegment(_Timed):
    """A stretch of audio attributed to one speaker by diarization."""

    speaker: str  # spk0, spk1, ... in order of first appearance
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)


class Diarization(_Record):
    """Who spoke when in one channel (a mono recording)."""

    segments: tuple[SpeakerSegment, ...]
    num_speakers: int = Field(ge=0)
    method: str  # "embedding" (Silero VAD + resemblyzer + clustering) or "pyannote"
    # When one voice was kept, or two barely apart: (other) splits into two that sound could not
    # confirm, best first. Two voices too close to tell apart by sound, or a party who says
    # little, can be told apart by what they say: role detection takes the first split where one
    # voice talks like the agent and the other like a customer (unless the two voices kept
    # already do).
    two_voice_splits: tuple[tuple[SpeakerSegment, ...], ...] = ()

    def speaker_at(self, start_s: float, end_s: float, *, max_distance_s: float | None = 1.0) -> SpeakerSegment | None:
        """The segment overlapping ``start_s..end_s`` most (or the nearest one, within
        ``max_distance_s``; None: however far)."""
        best, best_overlap = None, 0.0
        for segment in self.segments:
            overlap = min(end_s, segment.end_s) - max(start_s, segment.start_s)
            if overlap > best_overlap:
                best, best_overlap = segment, overlap
        if best is not None:
            return best
        middle_s = (start_s + end_s) / 2

        def distance_s(segment: SpeakerSegment) -> float:
            return min(abs(segment.start_s - middle_s), abs(segment.end_s - middle_s))

        nearest = min(self.segments, key=distance_s, default=None)
        if nearest is None or (max_distance_s is not None and distance_s(nearest) > max_distance_s):
            return None
        return nearest


class Turn(_Timed):
    """One stretch of speech by one party."""

    channel: int = Field(ge=0)
    speaker: str  # ch0/ch1 on stereo (one party per channel); spk0, spk1... from diarization on mono
    role: Role = Role.UNKNOWN
    role_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    diarization_confidence: float | None = Field(default=None, ge=0.0, le=1.0)  # mono only
    text: str  # verbatim, as recognised (Simplified Chinese)
    normalized_text: str | None = None  # spoken numbers as digits (ITN): what reviewers and redaction read
    words: tuple[Word, ...] = ()


class AsrProvenance(_Record):
    """Which model and options produced a transcript (for reproducibility and cache keys)."""

    engine: str
    model: str
    model_revision: str | None = None
    options: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class RoleAssignment(_Record):
    """Which channel (stereo) or speakers (mono, diarized) are the agent, and how sure we are."""

    agent_channel: int | None
    source: str  # "config", "metadata", "auto" or "none"
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    agent_speakers: tuple[str, ...] = ()  # mono: the diarized speakers who are agents


class Transcript(_Record):
    call_id: str
    recording_sha256: str
    duration_s: Seconds
    num_channels: int
    turns: tuple[Turn, ...]
    roles: RoleAssignment = RoleAssignment(agent_channel=None, source="none")
    asr: AsrProvenance
    warnings: tuple[str, ...] = ()

    @property
    def silent_channels(self) -> frozenset[int]:
        """The channels of a stereo call without speech while another channel has some: only one
        party is heard (an unanswered call, or a muted or unrecorded channel). Empty on mono, and
        when nothing was heard at all."""
        heard = {turn.channel for turn in self.turns}
        if self.num_channels < 2 or not heard:
            return frozenset()
        return frozenset(range(self.num_channels)) - heard


class RubricRef(_Record):
    id: str
    version: int


class Hit(_Timed):
    """One rule that fired on a call, with the evidence a reviewer needs to check it."""

    rule_id: str
    rule_type: str
    severity: Severity
    points: float = Field(ge=0.0)  # deducted from the score (0 for info and fatal hits)
    role: Role
    evidence: str  # quoted words, or what is missing
    matched: str | None = None  # the phrase that matched, if any
    turn_index: int | None = None
    category: str | None = None  # the rule's category (开场白, 致命错误...)
    description: str = ""


class CallMetrics(_Record):
    agent_talk_s: Seconds = 0.0
    customer_talk_s: Seconds = 0.0
    unknown_talk_s: Seconds = 0.0
    silence_s: Seconds = 0.0
    silence_ratio: float = Field(default=0.0, ge=0.0, le=1.0)
    longest_silence_s: Seconds = 0.0
    overlap_s: Seconds = 0.0
    num_turns: int = 0
    agent_chars_per_minute: float | None = None


class Scorecard(_Record):
    """The result of inspecting one call. Its JSON form is a contract other tools read."""

    schema_version: int = SCORECARD_SCHEMA_VERSION
    call_id: str
    audio: str
    audio_sha256: str
    duration_s: Seconds
    num_channels: int = Field(default=2, ge=1, le=2)
    score: float
    fatal: bool
    passed: bool
    needs_review: bool = False  # fatal hit, no speech, one party only, or roles uncertain: send to a human
    rubric: RubricRef
    metadata: CallMetadata = Field(default_factory=CallMetadata)
    roles: RoleAssignment
    turns: tuple[Turn, ...]
    hits: tuple[Hit, ...]
    not_applicable: dict[str, str] = Field(default_factory=dict)  # rule id -> why it was not judged
    metrics: CallMetrics
    asr: AsrProvenance
    warnings: tuple[str, ...] = ()
