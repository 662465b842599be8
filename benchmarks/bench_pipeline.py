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
- Peak memory: max RSS of a separate process running `zhijian inspect` on one call.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

from common import plain_whisper_model

from qa_pipeline.asr import get_transcriber
from qa_pipeline.pipeline import discover_calls, inspect_call
from qa_pipeline.evaluation import call_cer, find_reference
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
    # First, while this process is small: Linux carries a parent's peak RSS into its children.
    first_call = discover_calls([args.calls], settings=settings)[0]
    peak_rss_mb = _peak_rss_mb(first_call.call_id, args.calls)
    load_started = time.perf_counter()
    transcriber = get_transcriber(settings)
    load_s = time.perf_counter() - load_started
    whisper = plain_whisper_model(settings)  # the same weights, loaded as faster-whisper users load them

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
        "peak_rss_mb_one_call_cli": peak_rss_mb,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "calls": rows}, ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _transcribe_with_faster_whisper_alone(whisper: object, path: Path, settings: Settings) -> None:
    from faster_whisper.audio import decode_audio  # noqa: PLC0415

    s = settings.asr
    left, right = decode_audio(str(path), split_stereo=True)
    for channel in (left, right):
        segments, _ = whisper.transcribe(  # type: ignore[attr-defined]
            channel, language=s.language, beam_size=s.beam_size, initial_prompt=s.initial_prompt,
            hotwords=s.hotwords_text, temperature=list(s.temperatures), condition_on_previous_text=False,
            vad_filter=s.vad_filter,
            vad_parameters={"min_silence_duration_ms": s.min_silence_duration_ms}, word_timestamps=True,
        )
        list(segments)


def _pooled(rows: list[dict], view: str) -> float:
    return sum(r[f"errors_{view}"] for r in rows) / sum(r[f"chars_{view}"] for r in rows)


def _peak_rss_mb(call_id: str, calls: Path) -> float:
    """Peak RSS of `zhijian inspect` on one call, as the inspecting process itself reports it. Call it
    before loading models here: Linux keeps a forked child's peak at least at its parent's size."""
    path = next(calls.rglob(f"{call_id}.*"))
    probe = (
        "import resource, sys\n"
        "from qa_pipeline.cli import main\n"
        f"main(['inspect', {str(path)!r}])\n"
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    peak_kb = int(completed.stderr.rsplit("PEAK_KB", 1)[1].split()[0])
    return round(peak_kb / 1024, 1)


def _cpu_count() -> int:
    import os  # noqa: PLC0415

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
