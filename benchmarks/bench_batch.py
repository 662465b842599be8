"""Nightly-batch throughput on this machine: synthesized calls through the batch into a fresh database.

    .venv/bin/python benchmarks/bench_batch.py [--limit N] [--workers 1 2] [--flow-subset 20]

The call set is every synthesized call we have, 208 by default (about 2.2 h of 8 kHz stereo):
benchmarks/data/batch_eval/calls (152; make it with
``.venv/bin/python benchmarks/asr_eval_set.py --count 152 --seed 99 --out benchmarks/data/batch_eval/scripts``
and ``samples/make_samples.py --scripts benchmarks/data/batch_eval/scripts --out benchmarks/data/batch_eval/calls``
in the TTS venv), benchmarks/data/asr_eval/calls (48) and samples/calls (8).

Figures (written to benchmarks/results/batch.json):

* ``single``: each call through ``inspect_call`` in one warm process (model loaded once, untimed):
  the sum of single-call inspection times, the baseline.
* ``batch_w<N>``: ``run_batch`` with N worker processes into a fresh SQLite database: wall time,
  audio hours per wall hour, ratio = Σ single / batch wall (≥ 1.0: the batch loses nothing), and
  the store's share of each call's time (plan + transactional write).
* ``flow``: the Prefect flow over the first ``--flow-subset`` calls: its wall time inside the flow
  (after the temporary server is up) against Σ single for those calls = flow + store overhead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from qa_pipeline.asr import get_transcriber
from qa_pipeline.batch import run_batch
from qa_pipeline.metadata import CallSource
from qa_pipeline.pipeline import discover_calls, inspect_call
from qa_pipeline.rubric import load_rubric
from qa_pipeline.settings import PROJECT_ROOT, BatchSettings, Settings, StoreSettings

CALL_DIRS = [PROJECT_ROOT / "benchmarks/data/batch_eval/calls", PROJECT_ROOT / "benchmarks/data/asr_eval/calls",
             PROJECT_ROOT / "samples/calls"]


def call_set(settings: Settings, limit: int | None) -> list[CallSource]:
    """All calls, with call ids made unique by their folder (the two eval sets reuse file names)."""
    sources = []
    for folder in CALL_DIRS:
        for source in discover_calls([folder], settings=settings):
            sources.append(CallSource(source.path, f"{folder.parent.name}-{source.call_id}", source.metadata))
    return sources[:limit] if limit else sources


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N calls")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--flow-subset", type=int, default=20, help="calls for the Prefect flow run (0: skip)")
    parser.add_argument("--skip-single", action="store_true", help="reuse single-call times from the last run")
    args = parser.parse_args()
    settings = Settings()
    sources = call_set(settings, args.limit)
    out = PROJECT_ROOT / "benchmarks/results/batch.json"
    figures = json.loads(out.read_text()) if args.skip_single and out.exists() else {}
    print(f"{len(sources)} calls", flush=True)

    if not args.skip_single:
        rubric, transcriber = load_rubric(settings.rubric), get_transcriber(settings)
        single_s, audio_s = {}, 0.0
        for source in sources:
            started = time.perf_counter()
            card = inspect_call(source, settings=settings, rubric=rubric, transcriber=transcriber)
            single_s[source.call_id] = time.perf_counter() - started
            audio_s += card.duration_s
        figures = {"calls": len(sources), "audio_h": round(audio_s / 3600, 3),
                   "single": {"sum_s": round(sum(single_s.values()), 1),
                              "median_call_s": round(statistics.median(single_s.values()), 2),
                              "audio_h_per_wall_h": round(audio_s / sum(single_s.values()), 2)},
                   "single_per_call_s": {k: round(v, 3) for k, v in single_s.items()}}
        print(json.dumps(figures["single"]), flush=True)
    single_sum = figures["single"]["sum_s"]

    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            batch_settings = settings.model_copy(update={"store": StoreSettings(url=f"sqlite:///{tmp}/r.db"),
                                                         "batch": BatchSettings(workers=workers)})
            summary = run_batch(sources, batch_settings)
        elapsed = sum(r.elapsed_s for r in summary.results)
        figures[f"batch_w{workers}"] = {
            "wall_s": round(summary.wall_s, 1),
            "counts": summary.counts,
            "audio_h_per_wall_h": round(summary.audio_s / summary.wall_s, 2),
            "ratio_to_single_sum": round(single_sum / summary.wall_s, 3),
            "store_share_of_call_time": round(sum(r.store_s for r in summary.results) / elapsed, 4),
            "store_ms_per_call_median": round(1000 * statistics.median(r.store_s for r in summary.results), 1),
        }
        print(workers, json.dumps(figures[f"batch_w{workers}"]), flush=True)

    if args.flow_subset:
        figures["flow"] = _bench_flow(sources[: args.flow_subset], figures["single_per_call_s"])
        print(json.dumps(figures["flow"]), flush=True)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    summary_only = {k: v for k, v in figures.items() if k != "single_per_call_s"}
    print(json.dumps(summary_only, indent=2))
    return 0


def _bench_flow(sources: list[CallSource], single_per_call_s: dict[str, float]) -> dict:
    """The flow over these calls (one process, as the default deployment runs)."""
    import os  # noqa: PLC0415

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows.inspect_batch import inspect_batch  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "calls"
        folder.mkdir()
        for source in sources:  # the flow takes folders/files; links keep the unique call ids
            (folder / f"{source.call_id}{source.path.suffix}").symlink_to(source.path.resolve())
        started = time.perf_counter()
        result = inspect_batch(source=[str(folder)], db=f"sqlite:///{tmp}/r.db")
        total_s = time.perf_counter() - started
    single = sum(single_per_call_s[s.call_id] for s in sources)
    inside = result["wall_s"]
    return {"calls": len(sources), "counts": result["counts"], "flow_wall_s": inside,
            "with_server_start_s": round(total_s, 1), "single_sum_s": round(single, 1),
            "overhead_per_call_s": round((inside - single) / len(sources), 3),
            "overhead_share": round((inside - single) / single, 4)}


if __name__ == "__main__":
    sys.path.insert(0, str(PROJECT_ROOT))
    sys.exit(main())
