"""The Prefect flows: orchestration over ``qa_pipeline.batch``, in-process and on a 2-worker Dask cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import load_scripted_transcriber
from test_store_batch import _rubric_with_pass_score, write_calls

import qa_pipeline.batch
from conftest import SAMPLES_DIR
from flows.inspect_batch import inspect_batch, rescore, task_runner
from qa_pipeline.store import ResultStore


@pytest.fixture(scope="module", autouse=True)
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def scripted_asr(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(qa_pipeline.batch, "get_transcriber", load_scripted_transcriber)
    qa_pipeline.batch.job_for.cache_clear()
    yield
    qa_pipeline.batch.job_for.cache_clear()


def test_inspect_batch_flow_stores_calls_isolates_a_broken_one_and_skips_on_rerun(tmp_path: Path, scripted_asr) -> None:
    write_calls(tmp_path / "calls", 3)
    (tmp_path / "calls" / "20261120_agent1099_teamB_in_0099.wav").write_bytes(b"not audio" * 50)
    db = f"sqlite:///{tmp_path / 'results.db'}"

    first = inspect_batch(source=[str(tmp_path / "calls")], db=db)
    second = inspect_batch(source=[str(tmp_path / "calls")], db=db)

    assert first["counts"] == {"inspected": 3, "rescored": 0, "skipped": 0, "failed": 1}
    assert first["failures"][0]["call_id"] == "20261120_agent1099_teamB_in_0099"
    assert "20261120_agent1099_teamB_in_0099.wav" in first["failures"][0]["reason"]
    assert second["counts"] == {"inspected": 0, "rescored": 0, "skipped": 4, "failed": 0}
    assert ResultStore(db).counts()["scorecards"] == 3


def test_rescore_flow_applies_a_new_rubric_to_stored_transcripts(tmp_path: Path, scripted_asr) -> None:
    write_calls(tmp_path / "calls", 2)
    db = f"sqlite:///{tmp_path / 'results.db'}"
    inspect_batch(source=[str(tmp_path / "calls")], db=db)

    result = rescore(rubric=str(_rubric_with_pass_score(tmp_path, 100.0)), db=db)

    assert result["rescored"] == 2
    assert ResultStore(db).scorecard("20261120_agent1000_teamA_in_0000").rubric.version == 99


@pytest.mark.model
def test_inspect_batch_on_a_local_two_worker_dask_cluster(tmp_path: Path) -> None:
    calls = sorted((SAMPLES_DIR / "calls").glob("*.wav"))[:3]
    db = f"sqlite:///{tmp_path / 'results.db'}"
    on_dask = inspect_batch.with_options(task_runner=task_runner(dask_workers=2))

    result = on_dask(source=[str(path) for path in calls], db=db, workers=2)

    assert result["counts"] == {"inspected": 3, "rescored": 0, "skipped": 0, "failed": 0}
    store = ResultStore(db)
    cards = [store.scorecard(path.stem) for path in calls]
    assert all(card is not None and card.turns for card in cards)
    assert all(card.asr.engine == "faster-whisper" for card in cards)
