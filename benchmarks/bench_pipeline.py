"""Pipeline speed, its ratio to faster-whisper alone, CER against the call scripts, peak memory.

    .venv/bin/python benchmarks/bench_pipeline.py [--calls samples/calls] [--scripts samples/scripts]
        [--repeat 1] [--out benchmarks/results/pipeline.json]

- Speed: audio seconds per wall second for the whole pipeline (decode, ASR of both channels side
  by side, roles, scoring) and for faster-whisper alone on the same files (its own decoder, the
  same weights loaded with its default threads, each channel transcribed with the same options,
  segments materialized). Models are loaded before timing. Runs alternate pipeline / ASR-alone
  per call so both see the same machine state.
- CER of each call's transcript against its script, per channel (qa_pipeline.evaluation, as
  `zhijian eval asr`): "normalized" (numbers as digits, no punctuation/spaces/fillers) and
  "verbatim" (only punctuation and spaces removed).
- Peak memory: max RSS of a separate `zhijian inspect` process on one call.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from qa_pipeline.asr import get_transcriber
from qa_pipeline.pipeline import discover_calls, inspect_call
from qa_pipeline.evaluation import call_cer, find_reference
from qa_pipeline.registry import ModelRegistry
from qa_pipeline.rubric import load_rubric, transcript_of
from qa_pipeline.settings import PROJECT_ROOT, Settings, load_settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, default=PROJECT_ROOT / "samples" / "calls")
    parser.add_argument("--scripts", type=Path, default=PROJECT_ROOT / "samples" / "scripts")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "pipeline.json")
    args = parser.parse_args()

    settings = load_settings()
    rubric = load_rubric(settings.rubric)
    load_started = time.perf_counter()
    transcriber = get_transcriber(settings)
    load_s = time.perf_counter() - load_started
    whisper = _plain_model(settings)  # the same weights, loaded as faster-whisper users load them

    rows = []
    for source in discover_calls([args.calls], settings=settings):
        pipeline_s, asr_alone_s = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            card = inspect_call(source, settings=settings, rubric=rubric, transcriber=transcriber)
            pipeline_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            _transcribe_with_faster_whisper_alone(whisper, source.path, settings)
            asr_alone_s.append(time.perf_counter() - started)
        row = {"call_id": source.call_id, "duration_s": card.duration_s,
               "pipeline_s": min(pipeline_s), "asr_alone_s": min(asr_alone_s)}
        reference = find_reference(source.path, args.scripts)
        if reference is not None:
            result = call_cer(transcript_of(card), reference)
            row.update(cer_normalized=result.normalized.cer, errors_normalized=result.normalized.errors,
                       chars_normalized=result.normalized.length, cer_verbatim=result.verbatim.cer,
                       errors_verbatim=result.verbatim.errors, chars_verbatim=result.verbatim.length)
            script = yaml.safe_load((args.scripts / f"{source.call_id}.yaml").read_text("utf-8"))
            row["expected_hits"] = sorted(script["expected_hits"])
            row["found_hits"] = sorted({hit.rule_id for hit in card.hits})
        rows.append(row)
        print(f"{source.call_id}: {row['duration_s']:.1f} s audio, pipeline {row['pipeline_s']:.2f} s, "
              f"ASR alone {row['asr_alone_s']:.2f} s, CER {row.get('cer_normalized', float('nan')):.3f}", flush=True)

    audio_s = sum(r["duration_s"] for r in rows)
    pipeline_total = sum(r["pipeline_s"] for r in rows)
    asr_total = sum(r["asr_alone_s"] for r in rows)
    scored = [r for r in rows if "cer_normalized" in r]
    summary = {
        "machine": f"{platform.machine()}, {_cpu_count()} cores",
        "asr": transcriber.provenance.model_dump(mode="json"),
        "model_load_s": round(load_s, 2),
        "calls": len(rows),
        "audio_s": round(audio_s, 1),
        "pipeline_audio_s_per_wall_s": round(audio_s / pipeline_total, 2),
        "asr_alone_audio_s_per_wall_s": round(audio_s / asr_total, 2),
        "pipeline_time_over_asr_alone": round(pipeline_total / asr_total, 3),
        "cer_normalized": round(_pooled(scored, "normalized"), 4) if scored else None,
        "cer_verbatim": round(_pooled(scored, "verbatim"), 4) if scored else None,
        "cer_normalized_median_call": round(statistics.median(r["cer_normalized"] for r in scored), 4) if scored else None,
        "expected_hits_found": sum(set(r["expected_hits"]) <= set(r["found_hits"]) for r in scored),
        "calls_with_extra_hits": sum(bool(set(r["found_hits"]) - set(r["expected_hits"])) for r in scored),
        "peak_rss_mb_one_call_cli": _peak_rss_mb(rows[0]["call_id"], args.calls) if rows else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "calls": rows}, ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _plain_model(settings: Settings) -> object:
    from faster_whisper import WhisperModel  # noqa: PLC0415

    registry = ModelRegistry.load(settings.models_dir / "registry.yaml", settings.resolved_model_cache_dir)
    return WhisperModel(str(registry.resolve(settings.asr.model).path), device="cpu", compute_type="int8")


def _transcribe_with_faster_whisper_alone(whisper: object, path: Path, settings: Settings) -> None:
    from faster_whisper.audio import decode_audio  # noqa: PLC0415

    s = settings.asr
    left, right = decode_audio(str(path), split_stereo=True)
    for channel in (left, right):
        segments, _ = whisper.transcribe(  # type: ignore[attr-defined]
            channel, language=s.language, beam_size=s.beam_size, initial_prompt=s.initial_prompt,
            hotwords=s.hotwords_text, condition_on_previous_text=False, vad_filter=s.vad_filter,
            vad_parameters={"min_silence_duration_ms": s.min_silence_duration_ms}, word_timestamps=True,
        )
        list(segments)


def _pooled(rows: list[dict], view: str) -> float:
    return sum(r[f"errors_{view}"] for r in rows) / sum(r[f"chars_{view}"] for r in rows)


def _peak_rss_mb(call_id: str, calls: Path) -> float:
    path = next(calls.rglob(f"{call_id}.*"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([str(Path(sys.executable).parent / "zhijian"), "inspect", str(path)],
                   check=True, stdout=subprocess.DEVNULL)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb <= before:  # ru_maxrss of children is a maximum over all of them so far
        print("warning: an earlier child process used more memory; figure is an upper bound", file=sys.stderr)
    return round(peak_kb / 1024, 1)


def _cpu_count() -> int:
    import os  # noqa: PLC0415

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
