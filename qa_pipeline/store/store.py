"""``ResultStore``: inspection results in a SQL database (SQLite by default, PostgreSQL supported).

Every write about one call is one transaction: a call killed halfway leaves no trace and is simply
done again. Nothing is overwritten: a new rubric adds scorecards, a changed recording adds a
transcript, and ``is_current`` marks what reports read. Opening a store brings its schema up to
date with the Alembic migrations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event, exists, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from qa_pipeline.errors import ConfigurationError, StoreError
from qa_pipeline.metadata import CallSource
from qa_pipeline.rubric.engine import transcript_of
from qa_pipeline.store.tables import (
    BatchRunRow,
    CallRow,
    HitRow,
    ScorecardRow,
    TranscriptRow,
    TurnRow,
    utc_now,
)
from qa_pipeline.types import CallMetadata, Scorecard, Transcript

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 60.0

PlanAction = Literal["inspect", "rescore", "skip"]
ErrorKind = Literal["permanent", "transient", "internal"]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a batch must do with one call, given what is already stored."""

    action: PlanAction
    reason: str
    transcript: Transcript | None = None  # for "rescore": the stored transcript to score again


@dataclass(frozen=True, slots=True)
class StoredTranscript:
    """A current transcript with what scoring it needs, for re-scoring without audio."""

    call_pk: int
    transcript_id: int
    audio_path: str
    metadata: CallMetadata
    transcript: Transcript


class ResultStore:
    """The results database behind a URL, e.g. ``sqlite:///out/zhijian.db`` or
    ``postgresql+psycopg://user@host/zhijian``.

    Args:
        url: a SQLAlchemy database URL.
        migrate: bring the schema up to date on open (default).

    Raises:
        ConfigurationError: the URL is malformed or the database schema is newer than this code.
        StoreError: the database cannot be reached.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.migrate()

    def __repr__(self) -> str:
        return f"ResultStore({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ------------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Apply every Alembic migration the database lacks (safe to call from many processes)."""
        from alembic import command  # noqa: PLC0415
        from alembic.config import Config  # noqa: PLC0415
        from alembic.util.exc import CommandError  # noqa: PLC0415

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self._writing() as session:
            connection = session.connection()
            if connection.dialect.name == "postgresql":  # one migrator at a time across workers
                connection.execute(text("SELECT pg_advisory_xact_lock(7212202611)"))
            config.attributes["connection"] = connection
            try:
                command.upgrade(config, "head")
            except CommandError as exc:
                raise ConfigurationError(
                    f"database {self!r}: its schema is not one this version of zhijian knows ({exc}); "
                    "upgrade zhijian or point --db at another database"
                ) from exc

    def schema_revision(self) -> str | None:
        with self._reading() as session:
            return session.execute(text("SELECT version_num FROM alembic_version")).scalar()

    # -- sessions ----------------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One transaction."""
        with self._database_errors(), self._sessions.begin() as session:
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._database_errors(), self._sessions() as session:
            yield session

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        """Database failures become ``StoreError`` (transient: retry the call). A unique-key
        conflict stays an ``IntegrityError``: ``save_scorecard`` handles it."""
        try:
            yield
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise StoreError(f"database {self!r}: {exc.orig or exc}") from exc

    # -- per call ----------------------------------------------------------------------------------

    def plan(
        self, call_id: str, audio_sha256: str, *, asr_key: str, rubric_hash: str, retry_failed: bool = False
    ) -> Plan:
        """Decide whether a call must be inspected, only re-scored, or skipped.

        Skipped: this content was inspected with these ASR settings and scored with this rubric, or
        it failed permanently with them before (unless ``retry_failed``). Re-scored: the transcript
        is stored, the rubric is new. Otherwise inspected.
        """
        with self._writing() as session:
            call = session.scalar(select(CallRow).where(CallRow.call_id == call_id))
            if call is None:
                return Plan("inspect", "new call")
            if (
                call.status == "failed"
                and call.error_kind == "permanent"
                and call.audio_sha256 == audio_sha256
                and call.error_asr_key == asr_key
                and not retry_failed
            ):
                return Plan("skip", f"failed before: {call.error}")
            transcript = session.scalar(
                select(TranscriptRow).where(
                    TranscriptRow.call_pk == call.id,
                    TranscriptRow.audio_sha256 == audio_sha256,
                    TranscriptRow.asr_key == asr_key,
                )
            )
            if transcript is None:
                reason = "new audio content" if call.audio_sha256 != audio_sha256 else "new ASR settings"
                return Plan("inspect", reason if call.status == "done" else "failed before; trying again")
            scorecard = session.scalar(
                select(ScorecardRow).where(
                    ScorecardRow.transcript_id == transcript.id, ScorecardRow.rubric_hash == rubric_hash
                )
            )
            if scorecard is None:
                return Plan("rescore", "new rubric", Transcript.model_validate(transcript.body))
            if not (scorecard.is_current and transcript.is_current):  # an earlier rubric or audio is back
                _make_current(session, call.id, transcript.id, scorecard)
            return Plan("skip", "already inspected")

    def save_scorecard(self, source: CallSource, scorecard: Scorecard, *, asr_key: str, rubric_hash: str) -> int:
        """Store a call's transcript (if new), scorecard and hits in one transaction; returns the
        scorecard's row id. Saving the same scorecard again stores nothing new."""
        for attempt in range(2):
            try:
                with self._writing() as session:
                    return _save_scorecard(session, source, scorecard, asr_key=asr_key, rubric_hash=rubric_hash)
            except IntegrityError as exc:  # another worker stored the same call a moment ago
                if attempt:
                    raise StoreError(f"database {self!r}: call {source.call_id}: {exc.orig}") from exc
        raise AssertionError("unreachable")

    def save_failure(
        self,
        source: CallSource,
        error: str,
        *,
        kind: ErrorKind,
        asr_key: str,
        audio_sha256: str | None = None,
    ) -> None:
        """Record that a call failed. Results stored for it before are kept."""
        with self._writing() as session:
            call = _call_row(session, source)
            call.status = "failed"
            call.error = error
            call.error_kind = kind
            call.error_asr_key = asr_key
            call.attempts += 1
            if audio_sha256 is not None:
                call.audio_sha256 = audio_sha256

    # -- reading -----------------------------------------------------------------------------------

    def scorecard(self, call_id: str, rubric_id: str | None = None) -> Scorecard | None:
        """The current scorecard of a call (for ``rubric_id``, or the latest of any rubric)."""
        with self._reading() as session:
            query = (
                select(ScorecardRow, TranscriptRow.body)
                .join(CallRow, CallRow.id == ScorecardRow.call_pk)
                .join(TranscriptRow, TranscriptRow.id == ScorecardRow.transcript_id)
                .where(CallRow.call_id == call_id, ScorecardRow.is_current)
                .order_by(ScorecardRow.id.desc())
                .limit(1)
            )
            if rubric_id is not None:
                query = query.where(ScorecardRow.rubric_id == rubric_id)
            row = session.execute(query).first()
            if row is None:
                return None
            scorecard_row, transcript_body = row
            return Scorecard.model_validate({**scorecard_row.body, "turns": transcript_body["turns"]})

    def call_status(self, call_id: str) -> dict[str, Any] | None:
        """Status, error and attempts of a call, or None if it was never seen."""
        with self._reading() as session:
            call = session.scalar(select(CallRow).where(CallRow.call_id == call_id))
            if call is None:
                return None
            return {"status": call.status, "error": call.error, "error_kind": call.error_kind,
                    "attempts": call.attempts, "audio_sha256": call.audio_sha256}

    def counts(self) -> dict[str, int]:
        """Rows per table and calls per status: a quick health check of a store."""
        with self._reading() as session:
            result = {
                table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
                for table in (CallRow, TranscriptRow, TurnRow, ScorecardRow, HitRow)
            }
            for status, number in session.execute(select(CallRow.status, func.count()).group_by(CallRow.status)):
                result[f"calls_{status}"] = number
            return result

    # -- re-scoring --------------------------------------------------------------------------------

    def transcripts_to_rescore(
        self, rubric_hash: str, *, since: datetime | None = None, chunk_size: int = 500
    ) -> Iterator[list[StoredTranscript]]:
        """Current transcripts that have no scorecard for this rubric yet, in chunks.

        ``since``: only calls that started at or after it (the call's metadata), or, for calls
        without a start time, that were first stored at or after it.
        """
        last_id = 0
        while True:
            with self._reading() as session:
                query = (
                    select(TranscriptRow.id, TranscriptRow.call_pk, TranscriptRow.body,
                           CallRow.audio_path, CallRow.call_metadata)
                    .join(CallRow, CallRow.id == TranscriptRow.call_pk)
                    .where(
                        TranscriptRow.is_current,
                        TranscriptRow.id > last_id,
                        ~exists().where(
                            ScorecardRow.transcript_id == TranscriptRow.id, ScorecardRow.rubric_hash == rubric_hash
                        ),
                    )
                    .order_by(TranscriptRow.id)
                    .limit(chunk_size)
                )
                if since is not None:
                    query = query.where(func.coalesce(CallRow.call_started_at, CallRow.first_seen_at) >= since)
                rows = session.execute(query).all()
            if not rows:
                return
            last_id = rows[-1].id
            yield [
                StoredTranscript(
                    call_pk=row.call_pk,
                    transcript_id=row.id,
                    audio_path=row.audio_path,
                    metadata=CallMetadata.model_validate(row.call_metadata),
                    transcript=Transcript.model_validate(row.body),
                )
                for row in rows
            ]

    def save_rescored(self, items: Sequence[tuple[StoredTranscript, Scorecard]], *, rubric_hash: str) -> None:
        """Store scorecards made from stored transcripts, all in one transaction."""
        if not items:
            return
        with self._writing() as session:
            rubric_ids = {scorecard.rubric.id for _, scorecard in items}
            call_pks = [stored.call_pk for stored, _ in items]
            session.execute(
                update(ScorecardRow)
                .where(ScorecardRow.call_pk.in_(call_pks), ScorecardRow.rubric_id.in_(rubric_ids))
                .values(is_current=False)
            )
            scorecard_ids = session.scalars(
                insert(ScorecardRow).returning(ScorecardRow.id, sort_by_parameter_order=True),
                [_scorecard_values(stored.call_pk, stored.transcript_id, sc, rubric_hash) for stored, sc in items],
            ).all()
            hits = [
                hit
                for scorecard_id, (stored, scorecard) in zip(scorecard_ids, items, strict=True)
                for hit in _hit_values(scorecard_id, stored.call_pk, scorecard)
            ]
            if hits:
                session.execute(insert(HitRow), hits)

    # -- batch runs --------------------------------------------------------------------------------

    def start_batch_run(self, source: str, *, rubric_id: str, rubric_hash: str, asr_key: str) -> int:
        with self._writing() as session:
            run = BatchRunRow(source=source, rubric_id=rubric_id, rubric_hash=rubric_hash, asr_key=asr_key)
            session.add(run)
            session.flush()
            return run.id

    def finish_batch_run(self, run_id: int, counts: dict[str, int]) -> None:
        with self._writing() as session:
            session.execute(
                update(BatchRunRow).where(BatchRunRow.id == run_id).values(finished_at=utc_now(), counts=counts)
            )


# -- helpers (inside a transaction) ------------------------------------------------------------------


def _call_row(session: Session, source: CallSource) -> CallRow:
    """The call's row, created (status ``failed`` until something is stored) if it is new."""
    call = session.scalar(select(CallRow).where(CallRow.call_id == source.call_id))
    if call is None:
        call = CallRow(call_id=source.call_id, audio_path=str(source.path), status="failed", attempts=0)
        session.add(call)
    call.audio_path = str(source.path)
    _set_metadata(call, source.metadata)
    session.flush()
    return call


def _set_metadata(call: CallRow, metadata: CallMetadata) -> None:
    call.agent_id = metadata.agent_id
    call.team = metadata.team
    call.direction = metadata.direction.value if metadata.direction else None
    call.line_of_business = metadata.line_of_business
    call.call_started_at = metadata.start_time
    call.call_metadata = metadata.model_dump(mode="json", exclude_defaults=True)


def _save_scorecard(session: Session, source: CallSource, scorecard: Scorecard, *, asr_key: str,
                    rubric_hash: str) -> int:
    call = _call_row(session, source)
    call.status = "done"
    call.error = call.error_kind = call.error_asr_key = None
    call.attempts += 1
    call.audio_sha256 = scorecard.audio_sha256
    call.duration_s = scorecard.duration_s
    call.num_channels = scorecard.num_channels

    transcript_row = session.scalar(
        select(TranscriptRow).where(
            TranscriptRow.call_pk == call.id,
            TranscriptRow.audio_sha256 == scorecard.audio_sha256,
            TranscriptRow.asr_key == asr_key,
        )
    )
    if transcript_row is None:
        transcript = transcript_of(scorecard)
        transcript_row = TranscriptRow(
            call_pk=call.id,
            audio_sha256=scorecard.audio_sha256,
            asr_key=asr_key,
            asr_engine=scorecard.asr.engine,
            asr_model=scorecard.asr.model,
            asr_model_revision=scorecard.asr.model_revision,
            body=transcript.model_dump(mode="json"),
        )
        session.add(transcript_row)
        session.flush()
        if transcript.turns:
            session.execute(insert(TurnRow), [_turn_values(transcript_row.id, i, turn)
                                              for i, turn in enumerate(transcript.turns)])

    existing = session.scalar(
        select(ScorecardRow).where(
            ScorecardRow.transcript_id == transcript_row.id, ScorecardRow.rubric_hash == rubric_hash
        )
    )
    if existing is not None:
        _make_current(session, call.id, transcript_row.id, existing)
        return existing.id
    _retire(session, call.id, scorecard.rubric.id, keep_transcript_id=transcript_row.id)
    scorecard_id = session.scalar(
        insert(ScorecardRow).returning(ScorecardRow.id),
        [_scorecard_values(call.id, transcript_row.id, scorecard, rubric_hash)],
    )
    hits = _hit_values(scorecard_id, call.id, scorecard)
    if hits:
        session.execute(insert(HitRow), hits)
    return scorecard_id


def _retire(session: Session, call_pk: int, rubric_id: str, *, keep_transcript_id: int) -> None:
    """Mark the call's other transcripts, and its scorecards for this rubric, as not current."""
    session.execute(
        update(TranscriptRow)
        .where(TranscriptRow.call_pk == call_pk, TranscriptRow.id != keep_transcript_id)
        .values(is_current=False)
    )
    session.execute(
        update(TranscriptRow).where(TranscriptRow.id == keep_transcript_id).values(is_current=True)
    )
    session.execute(
        update(ScorecardRow)
        .where(ScorecardRow.call_pk == call_pk, ScorecardRow.rubric_id == rubric_id)
        .values(is_current=False)
    )


def _make_current(session: Session, call_pk: int, transcript_id: int, scorecard: ScorecardRow) -> None:
    _retire(session, call_pk, scorecard.rubric_id, keep_transcript_id=transcript_id)
    session.execute(update(ScorecardRow).where(ScorecardRow.id == scorecard.id).values(is_current=True))


def _turn_values(transcript_id: int, index: int, turn: Any) -> dict[str, Any]:
    return {
        "transcript_id": transcript_id,
        "turn_index": index,
        "channel": turn.channel,
        "speaker": turn.speaker,
        "role": turn.role.value,
        "role_confidence": turn.role_confidence,
        "start_s": turn.start_s,
        "end_s": turn.end_s,
        "text": turn.text,
        "normalized_text": turn.normalized_text,
    }


def _scorecard_values(call_pk: int, transcript_id: int, scorecard: Scorecard, rubric_hash: str) -> dict[str, Any]:
    return {
        "call_pk": call_pk,
        "transcript_id": transcript_id,
        "rubric_id": scorecard.rubric.id,
        "rubric_version": scorecard.rubric.version,
        "rubric_hash": rubric_hash,
        "score": scorecard.score,
        "fatal": scorecard.fatal,
        "passed": scorecard.passed,
        "needs_review": scorecard.needs_review,
        "body": scorecard.model_dump(mode="json", exclude={"turns"}),
        "is_current": True,
        "created_at": utc_now(),
    }


def _hit_values(scorecard_id: int, call_pk: int, scorecard: Scorecard) -> list[dict[str, Any]]:
    return [
        {
            "scorecard_id": scorecard_id,
            "call_pk": call_pk,
            "rule_id": hit.rule_id,
            "rule_type": hit.rule_type,
            "category": hit.category,
            "severity": hit.severity.value,
            "points": hit.points,
            "role": hit.role.value,
            "start_s": hit.start_s,
            "end_s": hit.end_s,
            "evidence": hit.evidence,
            "matched": hit.matched,
            "turn_index": hit.turn_index,
        }
        for hit in scorecard.hits
    ]


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"database URL {url!r} is not valid; use e.g. sqlite:///out/zhijian.db or "
            "postgresql+psycopg://user:password@host/zhijian"
        ) from exc
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except ImportError as exc:
            raise ConfigurationError(f"database URL {url!r}: its driver is not installed ({exc})") from exc
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's recipe: let the "begin" hook below emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe in WAL mode
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # Take the write lock up front: two processes writing at once wait for each other
    # (busy timeout) instead of failing with "database is locked" halfway through.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
