"""The results store and batches: skip, resume, rescore, broken files, retries, worker processes.

Runs against SQLite always and against PostgreSQL when ``ZHIJIAN_TEST_POSTGRES_URL`` is set
(``.ci/run`` starts a local server and sets it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from audio_factory import tone, write_audio
from fakes import CRASH_DURATION_S, DELAY_ENV, SERVICE_CALL, FakeTranscriber, load_scripted_transcriber

from conftest import PROJECT_ROOT
from qa_pipeline import batch
from qa_pipeline.batch import BatchJob, rescore_stored, rubric_fingerprint, run_batch
from qa_pipeline.errors import ConfigurationError, ModelLoadError
from qa_pipeline.metadata import CallSource
from qa_pipeline.pipeline import discover_calls
from qa_pipeline.rubric import load_rubric
from qa_pipeline.settings import BatchSettings, Settings, StoreSettings
from qa_pipeline.store import ResultStore
from qa_pipeline.types import CallMetadata

POSTGRES_URL = os.environ.get("ZHIJIAN_TEST_POSTGRES_URL")
DEFAULT_RUBRIC = PROJECT_ROOT / "rubrics" / "default.yaml"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'results.db'}"
    if not POSTGRES_URL:
        pytest.skip("set ZHIJIAN_TEST_POSTGRES_URL to run the store tests against PostgreSQL (.ci/run does)")
    return _fresh_postgres_schema(POSTGRES_URL)


def _fresh_postgres_schema(url: str) -> str:
    """A new, empty schema per test, so tests never see each other's rows."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def write_calls(folder: Path, count: int, *, duration_s: float = 6.0) -> list[Path]:
    """Distinct stereo recordings named like a center's files (agent id, team, direction)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        left, right = tone(duration_s, 8000, 300 + 40 * i), tone(duration_s, 8000, 900 + 40 * i)
        paths.append(write_audio(folder / f"20261120_agent10{i:02d}_teamA_in_{i:04d}.wav",
                                 np.stack([left, right]), 8000))
    return paths


def batch_settings(db_url: str, tmp_path: Path, **batch: object) -> Settings:
    return Settings(model_cache_dir=tmp_path / "model-cache", store=StoreSettings(url=db_url),
                    batch=BatchSettings(**{"retry_delay_s": 0.0, "workers": 1, **batch}), agent_channel=0)


class CountingLoader:
    """A ``load_transcriber`` that counts loads and transcriptions."""

    def __init__(self, transcriber: object | None = None) -> None:
        self.loads = 0
        self.transcriber = transcriber or FakeTranscriber(SERVICE_CALL)

    def __call__(self, settings: Settings) -> object:
        self.loads += 1
        return self.transcriber


def test_migrations_match_the_table_definitions(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from qa_pipeline.store.tables import Base

    store = ResultStore(db_url)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert store.schema_revision() == "0001"
    ResultStore(db_url)  # opening again migrates nothing and keeps the data


def test_batch_stores_every_call_and_a_second_run_skips_them(db_url: str, tmp_path: Path) -> None:
    write_calls(tmp_path / "calls", 3)
    settings = batch_settings(db_url, tmp_path)
    sources = discover_calls([tmp_path / "calls"], settings=settings)
    loader = CountingLoader()
    seen = []

    first = run_batch(sources, settings, load_transcriber=loader, progress=seen.append)

    assert first.counts == {"inspected": 3, "rescored": 0, "skipped": 0, "failed": 0}
    assert [r.call_id for r in seen] == [s.call_id for s in sources]
    assert loader.loads == 1  # once per process, never per call
    store = ResultStore(db_url)
    card = store.scorecard(sources[0].call_id)
    assert card is not None and card.metadata.agent_id == "1000" and card.metadata.team == "A"
    assert [t.text for t in card.turns][:2] == ["您好工号一零二四很高兴为您服务", "你好我想查一下账单"]
    counts = store.counts()
    assert counts["calls"] == counts["transcripts"] == counts["scorecards"] == 3

    calls_before = loader.transcriber.calls
    second = run_batch(sources, settings, load_transcriber=loader)

    assert second.counts["skipped"] == 3 and second.counts["inspected"] == 0
    assert loader.transcriber.calls == calls_before  # nothing decoded again
    assert store.counts() == counts


def _two_stored_calls(db_url: str, tmp_path: Path) -> tuple[Settings, list[CallSource], CountingLoader]:
    """Two calls inspected and stored by a batch: its settings, the calls and the model loader."""
    write_calls(tmp_path / "calls", 2)
    settings = batch_settings(db_url, tmp_path)
    sources = discover_calls([tmp_path / "calls"], settings=settings)
    loader = CountingLoader()
    run_batch(sources, settings, load_transcriber=loader)
    return settings, sources, loader


def test_new_rubric_rescores_without_asr_and_keeps_the_old_scorecards(db_url: str, tmp_path: Path) -> None:
    settings, sources, loader = _two_stored_calls(db_url, tmp_path)
    calls_after_first = loader.transcriber.calls
    stricter = _rubric_with_pass_score(tmp_path, 100.0)

    result = run_batch(sources, settings.model_copy(update={"rubric": stricter}), load_transcriber=loader)

    assert result.counts["rescored"] == 2
    assert loader.transcriber.calls == calls_after_first  # stored transcripts, no ASR
    store = ResultStore(db_url)
    assert store.counts()["scorecards"] == 4 and store.counts()["transcripts"] == 2
    card = store.scorecard(sources[0].call_id)
    assert card is not None and card.rubric.version == 99
    # The original rubric again: its scorecards become current, nothing new is stored.
    again = run_batch(sources, settings, load_transcriber=loader)
    assert again.counts["skipped"] == 2 and store.counts()["scorecards"] == 4
    assert store.scorecard(sources[0].call_id).rubric.version == load_rubric(DEFAULT_RUBRIC).version


def test_an_upgrade_whose_checks_judge_differently_rescores_stored_calls(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, sources, loader = _two_stored_calls(db_url, tmp_path)
    calls_after_first = loader.transcriber.calls
    rubric = load_rubric(DEFAULT_RUBRIC)
    old_hash = rubric_fingerprint(rubric)

    monkeypatch.setattr(batch, "SCORING_REVISION", batch.SCORING_REVISION + 1)
    result = run_batch(sources, settings, load_transcriber=loader)

    assert rubric_fingerprint(rubric) != old_hash
    assert result.counts["rescored"] == 2 and loader.transcriber.calls == calls_after_first
    assert rescore_stored(ResultStore(db_url), rubric).rescored == 0  # the batch did it already


def test_rescore_stored_scores_everything_once_and_resumes(db_url: str, tmp_path: Path) -> None:
    write_calls(tmp_path / "calls", 3)
    settings = batch_settings(db_url, tmp_path)
    run_batch(discover_calls([tmp_path / "calls"], settings=settings), settings, load_transcriber=CountingLoader())
    store = ResultStore(db_url)
    stricter = load_rubric(_rubric_with_pass_score(tmp_path, 100.0))

    first = rescore_stored(store, stricter, chunk_size=2)
    again = rescore_stored(store, stricter)

    assert first.rescored == 3 and again.rescored == 0
    assert store.counts()["scorecards"] == 6
    assert all(store.scorecard(f"20261120_agent10{i:02d}_teamA_in_{i:04d}").rubric.version == 99 for i in range(3))
    hits_new = store.counts()["hits"]
    assert hits_new > 0


def test_rescore_since_only_takes_calls_from_that_date(db_url: str, tmp_path: Path) -> None:
    from datetime import datetime

    write_calls(tmp_path / "calls", 2)
    settings = batch_settings(db_url, tmp_path)
    sources = discover_calls([tmp_path / "calls"], settings=settings)
    dated = [CallSource(s.path, s.call_id, CallMetadata(start_time=datetime(2026, 11, 1 + 10 * i)))
             for i, s in enumerate(sources)]
    run_batch(dated, settings, load_transcriber=CountingLoader())

    result = rescore_stored(ResultStore(db_url), load_rubric(_rubric_with_pass_score(tmp_path, 100.0)),
                            since=datetime(2026, 11, 5))

    assert result.rescored == 1


def test_a_broken_file_fails_alone_is_stored_and_is_not_retried_until_it_changes(db_url: str, tmp_path: Path) -> None:
    good = write_calls(tmp_path / "calls", 2)
    broken = tmp_path / "calls" / "20261120_agent1099_teamB_in_0099.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt this is not audio at all" * 10)
    missing = CallSource(tmp_path / "calls" / "gone.wav", "gone", CallMetadata())
    settings = batch_settings(db_url, tmp_path)
    sources = [*discover_calls([tmp_path / "calls"], settings=settings), missing]

    summary = run_batch(sources, settings, load_transcriber=CountingLoader())

    assert summary.counts == {"inspected": 2, "rescored": 0, "skipped": 0, "failed": 2}
    failures = {f.call_id: f for f in summary.failures}
    assert str(broken) in failures[broken.stem].reason and failures[broken.stem].error_kind == "permanent"
    assert "gone.wav" in failures["gone"].reason and "not found" in failures["gone"].reason
    store = ResultStore(db_url)
    status = store.call_status(broken.stem)
    assert status["status"] == "failed" and str(broken) in status["error"]
    assert "0099" in summary.format() and "失败 failed 2" in summary.format()

    rerun = run_batch(sources, settings, load_transcriber=CountingLoader())
    assert rerun.counts["skipped"] == 3  # the two good ones and the unchanged broken one
    assert rerun.counts["failed"] == 1  # the missing file is looked for again

    forced = run_batch(sources, settings.model_copy(update={"batch": BatchSettings(retry_failed=True, workers=1)}),
                       load_transcriber=CountingLoader())
    assert forced.counts["failed"] == 2 and store.call_status(broken.stem)["attempts"] == 2

    broken.write_bytes(good[0].read_bytes()[:44] + (tmp_path / "calls" / good[1].name).read_bytes()[44:])
    fixed = run_batch(sources, settings, load_transcriber=CountingLoader())
    assert {r.call_id: r.status for r in fixed.results}[broken.stem] == "inspected"
    assert store.call_status(broken.stem)["status"] == "done"


def test_results_survive_a_later_failure_of_the_same_call(db_url: str, tmp_path: Path) -> None:
    (path,) = write_calls(tmp_path / "calls", 1)
    settings = batch_settings(db_url, tmp_path)
    sources = discover_calls([path], settings=settings)
    run_batch(sources, settings, load_transcriber=CountingLoader())
    path.write_bytes(b"garbage" * 100)

    run_batch(sources, settings, load_transcriber=CountingLoader())

    store = ResultStore(db_url)
    assert store.call_status(path.stem)["status"] == "failed"
    assert store.scorecard(path.stem) is not None  # nothing already stored is lost


class FlakyTranscriber(FakeTranscriber):
    """Fails with a transient error ``failures`` times, then works."""

    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__(SERVICE_CALL)
        self.failures, self.error = failures, error

    def transcribe_channels(self, channels):  # type: ignore[no-untyped-def]
        if self.failures:
            self.failures -= 1
            raise self.error
        return super().transcribe_channels(channels)


def test_transient_errors_are_retried_then_stored_as_failed(db_url: str, tmp_path: Path) -> None:
    paths = write_calls(tmp_path / "calls", 2)
    settings = batch_settings(db_url, tmp_path, max_attempts=3)
    sources = discover_calls(paths, settings=settings)
    flaky = FlakyTranscriber(2, ModelLoadError("GPU out of memory"))

    first = run_batch(sources[:1], settings, load_transcriber=CountingLoader(flaky))
    assert first.results[0].status == "inspected" and first.results[0].attempts == 3

    always = FlakyTranscriber(99, ModelLoadError("GPU out of memory"))
    second = run_batch(sources[1:], settings, load_transcriber=CountingLoader(always))
    assert second.results[0].status == "failed" and second.results[0].error_kind == "transient"
    assert second.results[0].attempts == 3 and always.failures == 96
    # Transient failures are tried again on the next run.
    third = run_batch(sources[1:], settings, load_transcriber=CountingLoader())
    assert third.results[0].status == "inspected"


def test_an_unexpected_error_fails_that_call_only(db_url: str, tmp_path: Path) -> None:
    paths = write_calls(tmp_path / "calls", 2)
    settings = batch_settings(db_url, tmp_path)
    crashing = FlakyTranscriber(1, RuntimeError("ctranslate2: unexpected tensor shape"))

    summary = run_batch(discover_calls(paths, settings=settings), settings, load_transcriber=CountingLoader(crashing))

    assert [r.status for r in summary.results] == ["failed", "inspected"]
    assert summary.results[0].error_kind == "internal" and "RuntimeError" in summary.results[0].reason
    assert summary.results[0].attempts == 1  # not retried: it is not a transient error


def test_two_worker_processes_share_the_work_and_survive_a_worker_crash(tmp_path: Path, monkeypatch) -> None:
    db_url = f"sqlite:///{tmp_path / 'results.db'}"
    write_calls(tmp_path / "calls", 8)
    write_calls(tmp_path / "crash", 1, duration_s=CRASH_DURATION_S)
    settings = batch_settings(db_url, tmp_path, workers=2)
    # The crashing call first, so a good call is surely in flight beside it when its worker dies.
    sources = discover_calls([tmp_path / "crash", tmp_path / "calls"], settings=settings)
    # Enough work (8 calls of 0.6 s) that the new worker which starts last still gets some on a
    # busy machine (with 4 calls, one worker sometimes did them all). The delay is per channel.
    monkeypatch.setenv(DELAY_ENV, "0.3")

    summary = run_batch(sources, settings, load_transcriber=load_scripted_transcriber)

    assert summary.counts["inspected"] == 8 and summary.counts["failed"] == 1
    (crashed,) = summary.failures
    assert "worker process died" in crashed.reason and crashed.error_kind == "internal"
    assert crashed.call_id == sources[0].call_id  # the culprit, not the call that was in flight beside it
    assert len({r.worker_pid for r in summary.results if r.status == "inspected"}) >= 2
    assert os.getpid() not in {r.worker_pid for r in summary.results if r.status == "inspected"}
    assert ResultStore(db_url).counts()["scorecards"] == 8


def test_a_batch_killed_mid_way_resumes_with_nothing_lost_or_duplicated(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'results.db'}"
    write_calls(tmp_path / "calls", 8)
    child = [sys.executable, str(Path(__file__).parent / "batch_child.py"), str(tmp_path / "calls"), db_url]
    env = {**os.environ, DELAY_ENV: "0.15"}
    process = subprocess.Popen(child, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    store = ResultStore(db_url)
    deadline = time.monotonic() + 60
    while store.counts().get("calls_done", 0) < 3:  # wait until some calls are stored
        assert process.poll() is None, process.stdout.read().decode()
        assert time.monotonic() < deadline, "the batch stored nothing within 60 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = store.counts()["calls_done"]
    assert 3 <= done_before < 8, "the kill came too late to test resuming"

    finished = subprocess.run(child, env={**env, DELAY_ENV: "0"}, capture_output=True, text=True, timeout=120)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"inspected {8 - done_before}" in finished.stdout and f"skipped {done_before}" in finished.stdout
    counts = store.counts()
    assert counts["calls"] == counts["calls_done"] == counts["transcripts"] == counts["scorecards"] == 8
    assert _duplicates(store) == 0


def _duplicates(store: ResultStore) -> int:
    from sqlalchemy import func, select

    from qa_pipeline.store.tables import HitRow, ScorecardRow, TurnRow

    with store.engine.connect() as connection:
        per_scorecard = connection.execute(
            select(HitRow.scorecard_id, HitRow.rule_id, HitRow.start_s, func.count())
            .group_by(HitRow.scorecard_id, HitRow.rule_id, HitRow.start_s).having(func.count() > 1)).all()
        per_call = connection.execute(
            select(ScorecardRow.call_pk, func.count()).where(ScorecardRow.is_current)
            .group_by(ScorecardRow.call_pk).having(func.count() > 1)).all()
        turns = connection.execute(
            select(TurnRow.transcript_id, TurnRow.turn_index, func.count())
            .group_by(TurnRow.transcript_id, TurnRow.turn_index).having(func.count() > 1)).all()
    return len(per_scorecard) + len(per_call) + len(turns)


def test_an_unreadable_word_list_stops_the_batch_before_any_call(db_url: str, tmp_path: Path) -> None:
    """A configuration error is not stored as a failure of every call (which would then not be
    retried): the batch refuses to start, naming the file, and the store is untouched."""
    write_calls(tmp_path / "calls", 2)
    good = batch_settings(db_url, tmp_path)
    sources = discover_calls([tmp_path / "calls"], settings=good)
    run_batch(sources[:1], good, load_transcriber=CountingLoader())
    before = ResultStore(db_url).counts()
    missing = tmp_path / "products.txt"
    bad = good.model_copy(update={"asr": good.asr.model_copy(update={"vocabulary_files": (missing,)})})
    loader = CountingLoader()

    with pytest.raises(ConfigurationError, match="products.txt"):
        run_batch(sources, bad, load_transcriber=loader)

    assert loader.loads == 0 and ResultStore(db_url).counts() == before


def test_a_bad_database_url_is_a_clear_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not valid"):
        ResultStore("not a url")


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    store = ResultStore(url)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(ConfigurationError, match="schema"):
        ResultStore(url)


def test_batch_job_reuses_one_store_and_model_for_many_calls(tmp_path: Path) -> None:
    paths = write_calls(tmp_path / "calls", 3)
    settings = batch_settings(f"sqlite:///{tmp_path / 'r.db'}", tmp_path)
    loader = CountingLoader()
    job = BatchJob(settings, load_transcriber=loader)

    results = [job.process(source) for source in discover_calls(paths, settings=settings)]

    assert [r.status for r in results] == ["inspected"] * 3 and loader.loads == 1
    assert all(r.store_s < r.elapsed_s for r in results)
    assert job.rubric_hash == rubric_fingerprint(load_rubric(DEFAULT_RUBRIC))


def _rubric_with_pass_score(tmp_path: Path, pass_score: float) -> Path:
    import yaml

    rubric = yaml.safe_load(DEFAULT_RUBRIC.read_text(encoding="utf-8"))
    rubric.update(version=99, pass_score=pass_score)
    path = tmp_path / "stricter.yaml"
    path.write_text(yaml.safe_dump(rubric, allow_unicode=True), encoding="utf-8")
    return path


def test_zhijian_batch_command_stores_calls_and_reports_failures(tmp_path: Path, monkeypatch, capsys) -> None:
    import qa_pipeline.batch
    from qa_pipeline.cli import main

    monkeypatch.setattr(qa_pipeline.batch, "get_transcriber", CountingLoader())
    write_calls(tmp_path / "calls", 2)
    (tmp_path / "calls" / "broken.wav").write_bytes(b"")
    url = f"sqlite:///{tmp_path / 'out' / 'zhijian.db'}"
    summary_json = tmp_path / "summary.json"

    code = main(["batch", str(tmp_path / "calls"), "--db", url, "--workers", "1", "--no-progress",
                 "--agent-channel", "0", "--summary-json", str(summary_json)])
    again = main(["batch", str(tmp_path / "calls"), "--db", url, "--workers", "1", "--no-progress", "--agent-channel", "0"])

    out = capsys.readouterr().out
    assert code == 1 and again == 0  # the broken file fails once, then is skipped until it changes
    assert "已质检 inspected 2" in out and "broken.wav: file is empty" in out and "跳过 skipped 3" in out
    import json

    assert json.loads(summary_json.read_text())["counts"]["failed"] == 1
    assert ResultStore(url).counts()["calls_done"] == 2
