"""Batches against the results store: inspect what is new, re-score what only needs a new rubric,
skip what is done, and never stop for one bad recording.

``BatchJob.process`` handles one call (the unit every runner maps: the CLI's worker processes, a
Prefect task, a Dask worker); ``run_batch`` runs many on this machine with worker processes;
``rescore_stored`` applies a new rubric to every stored transcript.

Idempotent and resumable: a call is skipped when the store holds a scorecard for its content
(sha256), these transcript settings (``transcribe.transcript_key``) and this rubric (content hash).
Each call's results are written in one transaction, so a batch killed at any moment loses at most
the calls in flight, and a restart does exactly those.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Literal

from qa_pipeline.asr import Transcriber, get_transcriber
from qa_pipeline.audio import sha256_of_file
from qa_pipeline.errors import AudioNotFoundError, PermanentError, QAPipelineError, TransientError
from qa_pipeline.metadata import CallSource
from qa_pipeline.pipeline import inspect_call
from qa_pipeline.rubric import Rubric, load_rubric, score_transcript
from qa_pipeline.rubric.checks import SCORING_REVISION
from qa_pipeline.settings import ASRSettings, Settings
from qa_pipeline.transcribe import transcript_key
from qa_pipeline.store import ResultStore

log = logging.getLogger(__name__)

CallStatus = Literal["inspected", "rescored", "skipped", "failed"]


def rubric_fingerprint(rubric: Rubric) -> str:
    """A hash of a rubric's content: editing a phrase without bumping the version still counts,
    and so does an upgrade whose checks judge differently (``SCORING_REVISION``)."""
    return hashlib.sha256(f"{rubric.model_dump_json()}:{SCORING_REVISION}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CallResult:
    """What a batch did with one call."""

    call_id: str
    path: str
    status: CallStatus
    reason: str = ""  # why it was skipped, or the error
    error_kind: str | None = None  # permanent | transient | internal
    audio_duration_s: float = 0.0
    elapsed_s: float = 0.0
    store_s: float = 0.0  # time spent reading and writing the store (batch overhead)
    attempts: int = 1
    worker_pid: int = field(default_factory=os.getpid)


@dataclass(frozen=True)
class BatchSummary:
    results: tuple[CallResult, ...]
    wall_s: float

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("inspected", "rescored", "skipped", "failed"), 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    @property
    def failures(self) -> list[CallResult]:
        return [result for result in self.results if result.status == "failed"]

    @property
    def audio_s(self) -> float:
        return sum(r.audio_duration_s for r in self.results if r.status in ("inspected", "rescored"))

    def format(self) -> str:
        c = self.counts
        lines = [
            f"共 {len(self.results)} 通 calls: 已质检 inspected {c['inspected']}, 重新评分 rescored {c['rescored']}, "
            f"跳过 skipped {c['skipped']}, 失败 failed {c['failed']}; "
            f"{self.audio_s / 3600:.2f} h of audio in {self.wall_s:.0f} s"
        ]
        skipped_reasons: dict[str, int] = {}
        for result in self.results:
            if result.status == "skipped":
                key = "failed before" if result.reason.startswith("failed before") else result.reason
                skipped_reasons[key] = skipped_reasons.get(key, 0) + 1
        if skipped_reasons:
            lines.append("跳过原因 skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped_reasons.items())))
        for failure in self.failures:
            lines.append(f"  ✗ {failure.call_id} ({failure.error_kind}): {failure.reason}")
        return "\n".join(lines)


class BatchJob:
    """Inspects calls one at a time into a store; create one per process and reuse it.

    Args:
        settings: everything (rubric path, store URL, ASR and batch options).
        rubric: the rubric to score with (default: load ``settings.rubric``).
        store: an open store (default: open ``settings.store.url``).
        load_transcriber: returns the ASR adapter; called once, on the first call that needs ASR.
        asr_key: the transcript key (``transcribe.transcript_key``) when the caller has it (worker
            processes get the one their batch opened with); computed otherwise.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        rubric: Rubric | None = None,
        store: ResultStore | None = None,
        load_transcriber: Callable[[Settings], Transcriber] = get_transcriber,
        asr_key: str | None = None,
    ) -> None:
        self.settings = settings
        self.rubric = rubric or load_rubric(settings.rubric)
        self.store = store or ResultStore(settings.store.url)
        self.rubric_hash = rubric_fingerprint(self.rubric)
        self.asr_key = asr_key or transcript_key(settings)
        self._load_transcriber = load_transcriber
        self._transcriber: Transcriber | None = None

    def process(self, source: CallSource) -> CallResult:
        """Inspect, re-score or skip one call and store the outcome. Never raises for a bad call:
        transient errors are retried (``settings.batch.max_attempts``), then stored as failed."""
        started = time.perf_counter()
        max_attempts = self.settings.batch.max_attempts
        for attempt in range(1, max_attempts + 1):
            try:
                result = self._process_once(source, started)
                return _with(result, attempts=attempt)
            except TransientError as exc:
                if attempt < max_attempts:
                    delay_s = self.settings.batch.retry_delay_s * 2 ** (attempt - 1)
                    log.warning("call %s: %s; retrying in %.0f s", source.call_id, exc, delay_s)
                    time.sleep(delay_s)
                    continue
                return _with(self._fail(source, str(exc), "transient", started), attempts=attempt)
            except Exception as exc:  # a bug or a library crash on odd input: the batch goes on
                log.exception("call %s: unexpected error", source.call_id)
                return _with(self._fail(source, f"{type(exc).__name__}: {exc}", "internal", started),
                             attempts=attempt)
        raise AssertionError("unreachable")

    def _process_once(self, source: CallSource, started: float) -> CallResult:
        store_s = 0.0
        try:
            audio_sha256 = _sha256(source)
        except PermanentError as exc:
            return self._fail(source, str(exc), "permanent", started)
        tick = time.perf_counter()
        plan = self.store.plan(source.call_id, audio_sha256, asr_key=self.asr_key, rubric_hash=self.rubric_hash,
                               retry_failed=self.settings.batch.retry_failed)
        store_s += time.perf_counter() - tick
        if plan.action == "skip":
            return CallResult(source.call_id, str(source.path), "skipped", plan.reason,
                              elapsed_s=time.perf_counter() - started, store_s=store_s)
        if plan.action == "rescore":
            assert plan.transcript is not None
            scorecard = score_transcript(plan.transcript, self.rubric, audio=str(source.path),
                                         metadata=source.metadata)
            status: CallStatus = "rescored"
        else:
            try:
                scorecard = inspect_call(source, settings=self.settings, rubric=self.rubric,
                                         transcriber=self._get_transcriber(), audio_sha256=audio_sha256)
            except PermanentError as exc:
                return self._fail(source, str(exc), "permanent", started, audio_sha256=audio_sha256)
            status = "inspected"
        tick = time.perf_counter()
        self.store.save_scorecard(source, scorecard, asr_key=self.asr_key, rubric_hash=self.rubric_hash)
        store_s += time.perf_counter() - tick
        return CallResult(source.call_id, str(source.path), status, plan.reason,
                          audio_duration_s=scorecard.duration_s, elapsed_s=time.perf_counter() - started,
                          store_s=store_s)

    def _get_transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = self._load_transcriber(self.settings)
        return self._transcriber

    def _fail(self, source: CallSource, error: str, kind: str, started: float,
              audio_sha256: str | None = None) -> CallResult:
        log.info("call %s failed (%s): %s", source.call_id, kind, error)
        try:
            self.store.save_failure(source, error, kind=kind, asr_key=self.asr_key,  # type: ignore[arg-type]
                                    audio_sha256=audio_sha256)
        except QAPipelineError as exc:  # the store itself is down: report, do not crash the batch
            error = f"{error} (and the failure could not be stored: {exc})"
        return CallResult(source.call_id, str(source.path), "failed", error, error_kind=kind,
                          elapsed_s=time.perf_counter() - started)


def run_batch(
    sources: Sequence[CallSource],
    settings: Settings,
    *,
    progress: Callable[[CallResult], None] | None = None,
    source_label: str = "",
    load_transcriber: Callable[[Settings], Transcriber] | None = None,
) -> BatchSummary:
    """Process calls into the store; ``settings.batch.workers`` processes, each loading the model once.

    With one worker, calls run in this process. With more, each worker process gets an equal share
    of the cores for ASR. A worker process that dies (a crash in a native library) is replaced and
    the call that killed it is stored as failed; the others are done.
    """
    run = BatchRun(settings, source_label)
    results: list[CallResult] = []
    load_transcriber = load_transcriber or _load_default_transcriber

    def record(result: CallResult) -> None:
        results.append(result)
        if progress is not None:
            progress(result)

    if settings.batch.workers == 1:
        job = BatchJob(settings, rubric=run.rubric, store=run.store, load_transcriber=load_transcriber,
                       asr_key=run.asr_key)
        for source in sources:
            record(job.process(source))
    else:
        _run_in_processes(sources, worker_settings(settings), run.store, record, load_transcriber, run.asr_key)
    return run.finish(results)


class BatchRun:
    """One batch as the store records it: opening it migrates the store (once, before any worker
    opens it), loads the rubric and the ASR word lists (a bad one fails here, not in every call)
    and starts the run's row; ``finish`` sums up the results and closes the row. Used by
    ``run_batch`` and the Prefect flow."""

    def __init__(self, settings: Settings, source_label: str) -> None:
        self._started = time.perf_counter()
        self.rubric = load_rubric(settings.rubric)
        self.asr_key = transcript_key(settings)  # reads the ASR word lists
        self.store = ResultStore(settings.store.url)
        self._run_id = self.store.start_batch_run(source_label, rubric_id=self.rubric.id,
                                                  rubric_hash=rubric_fingerprint(self.rubric), asr_key=self.asr_key)

    def finish(self, results: Iterable[CallResult]) -> BatchSummary:
        summary = BatchSummary(tuple(results), time.perf_counter() - self._started)
        self.store.finish_batch_run(self._run_id, summary.counts)
        return summary


def worker_settings(settings: Settings, cpu_count: int | None = None) -> Settings:
    """Settings for one of ``settings.batch.workers`` processes: the cores shared out among them."""
    workers = settings.batch.workers
    cores = cpu_count or os.cpu_count() or 1
    if settings.asr.cpu_threads or workers == 1:
        return settings
    threads = max(1, cores // workers)
    asr = ASRSettings(**{**settings.asr.model_dump(), "cpu_threads": threads,
                         "num_workers": min(settings.asr.num_workers, threads)})
    return settings.model_copy(update={"asr": asr})


def _run_in_processes(
    sources: Sequence[CallSource],
    settings: Settings,
    store: ResultStore,
    record: Callable[[CallResult], None],
    load_transcriber: Callable[[Settings], Transcriber],
    asr_key: str,
) -> None:
    """Calls on ``settings.batch.workers`` processes. When a worker dies, the whole pool goes with
    it and every call in flight is a suspect: new workers start, and the suspects are tried again
    one at a time; one that kills its worker while alone is the culprit and is stored as failed."""
    queue, suspects = deque(sources), deque[CallSource]()
    workers = settings.batch.workers
    context = multiprocessing.get_context("spawn")  # no fork of a process holding model threads
    while queue or suspects:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(settings, load_transcriber, asr_key)) as pool:
            broken = False
            while suspects and not broken:
                source = suspects.popleft()
                try:
                    record(pool.submit(_process_in_worker, source).result())
                except BrokenProcessPool:
                    record(_store_crash(store, source, asr_key))
                    broken = True
            in_flight: dict[Future[CallResult], CallSource] = {}
            while (queue or in_flight) and not broken:
                while queue and len(in_flight) < workers:
                    source = queue.popleft()
                    in_flight[pool.submit(_process_in_worker, source)] = source
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    source = in_flight.pop(future)
                    try:
                        record(future.result())
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(source)
            suspects.extend(in_flight.values())  # died with the pool
            if broken and (queue or suspects):
                log.warning("a worker process died; new workers try the %d call(s) it may have taken down "
                            "one at a time", len(suspects))


def _store_crash(store: ResultStore, source: CallSource, asr_key: str) -> CallResult:
    error = (f"{source.path}: the worker process died while inspecting this call alone; "
             "the recording probably crashes the decoder")
    store.save_failure(source, error, kind="internal", asr_key=asr_key)
    return CallResult(source.call_id, str(source.path), "failed", error, error_kind="internal")


_worker_job: BatchJob | None = None


def _init_worker(settings: Settings, load_transcriber: Callable[[Settings], Transcriber], asr_key: str) -> None:
    global _worker_job  # noqa: PLW0603 - one job (store, rubric, model) per worker process
    _worker_job = BatchJob(settings, load_transcriber=load_transcriber, asr_key=asr_key)


def _process_in_worker(source: CallSource) -> CallResult:
    assert _worker_job is not None, "worker not initialised"
    return _worker_job.process(source)


@lru_cache(maxsize=4)
def job_for(settings: Settings) -> BatchJob:
    """The process-wide ``BatchJob`` for these settings (for task runners: Prefect, Dask): one
    store connection pool and one model per worker process."""
    return BatchJob(worker_settings(settings), load_transcriber=_load_default_transcriber)


def _load_default_transcriber(settings: Settings) -> Transcriber:
    return get_transcriber(settings)  # looked up at call time, so tests can swap it


@dataclass(frozen=True)
class RescoreSummary:
    rescored: int
    wall_s: float
    passed: int = 0  # of the rescored calls, how many pass the new rubric


def rescore_stored(
    store: ResultStore,
    rubric: Rubric,
    *,
    since: datetime | None = None,
    chunk_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> RescoreSummary:
    """Score every current stored transcript with ``rubric``: no audio, no ASR.

    Resumable: transcripts that already have a scorecard for this rubric's content are left alone,
    and each chunk is stored in one transaction.
    """
    started = time.perf_counter()
    rubric_hash = rubric_fingerprint(rubric)
    rescored = passed = 0
    for chunk in store.transcripts_to_rescore(rubric_hash, since=since, chunk_size=chunk_size):
        items = [
            (stored, score_transcript(stored.transcript, rubric, audio=stored.audio_path, metadata=stored.metadata))
            for stored in chunk
        ]
        store.save_rescored(items, rubric_hash=rubric_hash)
        rescored += len(items)
        passed += sum(scorecard.passed for _, scorecard in items)
        if progress is not None:
            progress(len(items))
    return RescoreSummary(rescored=rescored, wall_s=time.perf_counter() - started, passed=passed)


def _sha256(source: CallSource) -> str:
    try:
        return sha256_of_file(source.path)
    except FileNotFoundError as exc:
        raise AudioNotFoundError(source.path, "file not found") from exc
    except IsADirectoryError as exc:
        raise AudioNotFoundError(source.path, "is a folder, not a recording") from exc
    except PermissionError as exc:
        raise AudioNotFoundError(source.path, "cannot be read (permission denied)") from exc


def _with(result: CallResult, **changes: object) -> CallResult:
    return replace(result, **changes)  # type: ignore[arg-type]

