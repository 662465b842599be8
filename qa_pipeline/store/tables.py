"""The results database: one table per thing a QA team asks about.

``calls`` (one row per call id: metadata, content hash, status, last error) → ``transcripts`` (what
the ASR heard, per content hash and ASR settings) → ``turns`` (queryable copy of the transcript's
turns) → ``scorecards`` (one per transcript and rubric version) → ``hits``. ``reviews`` (a
supervisor confirms or overturns a hit) and ``cases`` (the case library) hang off hits and calls.
``batch_runs`` keeps the summary of every batch.

Nothing is ever overwritten: a new rubric adds scorecards, a changed recording adds a transcript;
``is_current`` marks the row that reports read. The schema is created and changed only through
the Alembic migrations in ``migrations/`` (a test checks that they match these classes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JsonDocument, datetime: DateTime(timezone=True)}


class CallRow(Base):
    """One call, by call id. Status is ``done`` or ``failed`` (with the error and its kind)."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(200), unique=True)
    audio_path: Mapped[str] = mapped_column(Text)
    audio_sha256: Mapped[str | None] = mapped_column(String(64))
    duration_s: Mapped[float | None] = mapped_column(Float)
    num_channels: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    team: Mapped[str | None] = mapped_column(String(64), index=True)
    direction: Mapped[str | None] = mapped_column(String(8))
    line_of_business: Mapped[str | None] = mapped_column(String(64))
    call_started_at: Mapped[datetime | None] = mapped_column(index=True)
    call_metadata: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True)  # done | failed
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(16))  # permanent | transient | internal
    error_asr_key: Mapped[str | None] = mapped_column(String(64))  # the settings that failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class TranscriptRow(Base):
    """What the ASR heard in one version of a call's audio, with one ASR configuration."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("call_pk", "audio_sha256", "asr_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    audio_sha256: Mapped[str] = mapped_column(String(64))
    asr_key: Mapped[str] = mapped_column(String(64))  # hash of the ASR settings that made it
    asr_engine: Mapped[str] = mapped_column(String(64))
    asr_model: Mapped[str] = mapped_column(Text)
    asr_model_revision: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[dict[str, Any]]  # the Transcript record as JSON (turns with words and roles)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("transcript_id", "turn_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    turn_index: Mapped[int] = mapped_column(Integer)
    channel: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    role_confidence: Mapped[float | None] = mapped_column(Float)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    normalized_text: Mapped[str | None] = mapped_column(Text)


class ScorecardRow(Base):
    """One transcript scored with one rubric version. ``body`` is the scorecard JSON without turns."""

    __tablename__ = "scorecards"
    __table_args__ = (
        UniqueConstraint("transcript_id", "rubric_hash"),
        Index("ix_scorecards_rubric_current", "rubric_id", "is_current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    rubric_id: Mapped[str] = mapped_column(String(100))
    rubric_version: Mapped[int] = mapped_column(Integer)
    rubric_hash: Mapped[str] = mapped_column(String(64))  # hash of the rubric's content
    score: Mapped[float] = mapped_column(Float)
    fatal: Mapped[bool] = mapped_column(Boolean)
    passed: Mapped[bool] = mapped_column(Boolean)
    needs_review: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[dict[str, Any]]
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class HitRow(Base):
    __tablename__ = "hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"), index=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    rule_type: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    points: Mapped[float] = mapped_column(Float)
    role: Mapped[str] = mapped_column(String(16))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    matched: Mapped[str | None] = mapped_column(Text)
    turn_index: Mapped[int | None] = mapped_column(Integer)


class ReviewRow(Base):
    """A supervisor's decision on a hit: ``confirmed`` or ``overturned``, by whom, when, why."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class CaseRow(Base):
    """A call (or a moment of it) kept in the case library 案例库 as a good or bad example."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    hit_id: Mapped[int | None] = mapped_column(ForeignKey("hits.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # good | bad
    title: Mapped[str] = mapped_column(Text)
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    clip_path: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class BatchRunRow(Base):
    """One run of a batch: what it was given and how it ended."""

    __tablename__ = "batch_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    rubric_id: Mapped[str] = mapped_column(String(100))
    rubric_hash: Mapped[str] = mapped_column(String(64))
    asr_key: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # status -> number of calls
