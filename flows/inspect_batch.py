"""``inspect-batch``: the nightly job. Discover the day's recordings, inspect each call as a Prefect
task, store the results; ``rescore``: apply a new rubric to every stored transcript.

All the work is ``qa_pipeline.batch`` (tested without Prefect); this module only maps it over
calls and picks where tasks run:

* one process (default): calls one after another, the model loaded once;
* ``dask_workers=N``: a local Dask cluster of N worker processes, each loading the model once;
* ``dask_address="tcp://scheduler:8786"``: an existing Dask cluster across machines (recordings on
  shared storage, the database on PostgreSQL so every worker reaches it).

Run it without a Prefect server (a temporary one starts and stops with the run):

    python -m flows.inspect_batch samples/calls --db sqlite:///out/zhijian.db
    python -m flows.inspect_batch /data/calls/2026-11-22 --db postgresql+psycopg://qa@db/zhijian --dask-workers 2

or as a scheduled deployment on your Prefect server (see flows/README.md):

    python -m flows.inspect_batch /data/calls/today --db postgresql+psycopg://qa@db/zhijian --serve --cron "0 1 * * *"
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from qa_pipeline.batch import BatchRun, CallResult, job_for, rescore_stored
from qa_pipeline.metadata import CallSource
from qa_pipeline.pipeline import discover_calls
from qa_pipeline.rubric import load_rubric
from qa_pipeline.settings import BatchSettings, MetadataSettings, Settings, StoreSettings, load_settings
from qa_pipeline.store import ResultStore


@task(name="inspect-call", task_run_name="inspect {source.call_id}", cache_policy=NO_CACHE)
def inspect_call_task(source: CallSource, settings: Settings) -> CallResult:
    """Inspect (or re-score, or skip) one call into the store. Transient errors are retried inside
    ``BatchJob.process``; a broken recording comes back as a failed result, never an exception."""
    result = job_for(settings).process(source)
    logger = get_run_logger()
    if result.status == "failed":
        logger.warning("%s failed (%s): %s", result.call_id, result.error_kind, result.reason)
    else:
        logger.info("%s %s in %.1f s (%s)", result.call_id, result.status, result.elapsed_s, result.reason)
    return result


@flow(name="inspect-batch", task_runner=ThreadPoolTaskRunner(max_workers=1), log_prints=True)
def inspect_batch(
    source: list[str],
    db: str | None = None,
    rubric: str | None = None,
    manifest: str | None = None,
    config: str | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Inspect every recording under ``source`` (files or folders; or the ``manifest``'s calls).

    Returns the counts (inspected, rescored, skipped, failed) and each failure with its reason.
    """
    logger = get_run_logger()
    settings = flow_settings(config, db=db, rubric=rubric, manifest=manifest, workers=workers)
    sources = discover_calls([Path(p) for p in source], settings=settings)
    run = BatchRun(settings, " ".join(source))
    logger.info("%d calls -> %r", len(sources), run.store)
    futures = inspect_call_task.map(sources, unmapped(settings))
    summary = run.finish(future.result() for future in futures)
    logger.info(summary.format())
    return {"counts": summary.counts, "wall_s": round(summary.wall_s, 2),
            "failures": [{"call_id": f.call_id, "kind": f.error_kind, "reason": f.reason} for f in summary.failures]}


@flow(name="rescore")
def rescore(rubric: str, db: str | None = None, since: datetime | None = None,
            config: str | None = None) -> dict[str, Any]:
    """Score every stored current transcript (calls from ``since`` on) with ``rubric``: no audio, no ASR."""
    settings = flow_settings(config, db=db)
    result = rescore_stored(ResultStore(settings.store.url), load_rubric(Path(rubric)), since=since)
    get_run_logger().info("rescored %d calls in %.1f s; %d pass", result.rescored, result.wall_s, result.passed)
    return {"rescored": result.rescored, "passed": result.passed, "wall_s": round(result.wall_s, 1)}


def flow_settings(config: str | None, *, db: str | None = None, rubric: str | None = None,
                  manifest: str | None = None, workers: int = 1) -> Settings:
    """Settings from the config file and environment, with the flow's parameters on top."""
    base = load_settings(Path(config) if config else None)
    overrides: dict[str, Any] = {}
    if db:
        overrides["store"] = StoreSettings(url=db)
    if rubric:
        overrides["rubric"] = Path(rubric)
    if manifest:
        overrides["metadata"] = MetadataSettings(**{**base.metadata.model_dump(), "manifest": Path(manifest)})
    if workers != base.batch.workers:
        overrides["batch"] = BatchSettings(**{**base.batch.model_dump(), "workers": workers})
    return load_settings(Path(config) if config else None, **overrides) if overrides else base


def task_runner(dask_workers: int = 0, dask_address: str | None = None) -> Any:
    """Where tasks run: this process, a local Dask cluster of ``dask_workers`` processes, or the
    Dask cluster at ``dask_address``."""
    if dask_address or dask_workers > 1:
        from prefect_dask import DaskTaskRunner  # noqa: PLC0415

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": dask_workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    return ThreadPoolTaskRunner(max_workers=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run or serve the inspect-batch flow.")
    parser.add_argument("source", nargs="*", help="recordings: files or folders")
    parser.add_argument("--db", help="database URL (default: settings store.url)")
    parser.add_argument("--rubric", help="rubric YAML")
    parser.add_argument("--manifest", help="CSV manifest of the calls")
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--dask-workers", type=int, default=0, help="local Dask cluster with this many processes")
    parser.add_argument("--dask-address", help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--serve", action="store_true", help="serve as a deployment on the Prefect server")
    parser.add_argument("--cron", default="0 1 * * *", help="with --serve: schedule (default 01:00 daily)")
    args = parser.parse_args(argv)
    workers = args.dask_workers if args.dask_workers > 1 else 1
    the_flow = inspect_batch.with_options(task_runner=task_runner(args.dask_workers, args.dask_address))
    parameters = {"source": args.source, "db": args.db, "rubric": args.rubric, "manifest": args.manifest,
                  "config": args.config, "workers": workers}
    if args.serve:
        the_flow.serve(name="nightly", cron=args.cron, parameters=parameters)
        return
    result = the_flow(**parameters)
    print(result["counts"])


if __name__ == "__main__":
    main()
