"""Pipeline speed, its ratio to faster-whisper alone, CER against the call scripts, peak memory.

    .venv/bin/python benchmarks/bench_pipeline.py [--calls samples/calls] [--scripts samples/scripts]
        [--repeat 1] [--out benchmarks/results/pipeline.json]

- Speed: audio seconds per wall second for the whole pipeline (decode, ASR per channel, roles,
  scoring) and for faster-whisper alone on the same files (its own decoder, each channel
  transcribed with the same options, segments materialized). The model is loaded once, before
  timing. Runs alternate pipeline / ASR-alone per call so both see the same machine state.
- CER (jiwer) of each call's transcript against its script, per channel, on two views of the
  text: "normalized" (what the rules read: no punctuation/spaces/fillers, Simplified, digits as
  Arabic numerals on both sides) and "verbatim" (only punctuation and spaces removed).
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
import unicodedata
from pathlib import Path

import jiwer
import yaml

from qa_pipeline.asr import get_transcriber
from qa_pipeline.pipeline import discover_calls, inspect_call
from qa_pipeline.rubric import load_rubric
from qa_pipeline.settings import PROJECT_ROOT, Settings, load_settings
from qa_pipeline.text import normalize_for_matching, to_simplified


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
    whisper = transcriber._model  # noqa: SLF001 - the same loaded model, for the ASR-alone baseline
    scripts = {s["call_id"]: s for s in (yaml.safe_load(p.read_text("utf-8")) for p in args.scripts.glob("*.yaml"))}

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
        script = scripts.get(source.call_id)
        if script:
            row.update(_cer(card, script))
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


def _transcribe_with_faster_whisper_alone(whisper: object, path: Path, settings: Settings) -> None:
    from faster_whisper.audio import decode_audio  # noqa: PLC0415

    s = settings.asr
    left, right = decode_audio(str(path), split_stereo=True)
    for channel in (left, right):
        segments, _ = whisper.transcribe(  # type: ignore[attr-defined]
            channel, language=s.language, beam_size=s.beam_size, initial_prompt=s.initial_prompt,
            condition_on_previous_text=False, vad_filter=s.vad_filter,
            vad_parameters={"min_silence_duration_ms": s.min_silence_duration_ms}, word_timestamps=True,
        )
        list(segments)


def _verbatim(text: str) -> str:
    return "".join(c for c in to_simplified(text) if unicodedata.category(c)[0] not in "PZSC")


def _cer(card: object, script: dict) -> dict:
    """Errors and reference lengths per view, summed over both channels."""
    agent_channel = script["agent_channel"]
    channel_of = {"agent": agent_channel, "customer": 1 - agent_channel}
    references = {0: [], 1: []}
    for line in script["turns"]:
        (role, text), = ((k, v) for k, v in line.items() if k in channel_of)
        references[channel_of[role]].append(text)
    result = {}
    for view, clean in (("normalized", normalize_for_matching), ("verbatim", _verbatim)):
        errors = length = 0
        for channel in (0, 1):
            reference = clean("".join(references[channel]))
            hypothesis = clean("".join(t.text for t in card.turns if t.channel == channel))  # type: ignore[attr-defined]
            if not reference:
                continue
            output = jiwer.process_characters(reference, hypothesis)
            errors += output.substitutions + output.deletions + output.insertions
            length += len(reference)
        result[f"cer_{view}"] = errors / length
        result[f"chars_{view}"] = length
        result[f"errors_{view}"] = errors
    return result


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
