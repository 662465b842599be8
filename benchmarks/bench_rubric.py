"""Rubric precision/recall per rule (text and audio paths) and scoring speed.

    .venv/bin/python benchmarks/bench_rubric.py                       # text path + speed
    .venv/bin/python benchmarks/bench_rubric.py --audio samples/calls # + audio path (runs ASR)

- Text path: the labelled transcripts of ``benchmarks/data/rubric_eval.jsonl`` (made by
  ``rubric_eval_set.py``) and perfect transcripts of the sample-call scripts. Precision and recall
  are per rule and per call: a rule is predicted for a call when it has at least one hit.
- Audio path: the sample calls through the whole pipeline (real Whisper), against the hits their
  scripts expect.
- Speed: transcripts scored per second by one process pinned to one core (the eval transcripts,
  scored in rounds for at least ``--seconds``; median and best round, since a shared VM is noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import yaml

from qa_pipeline.rubric import load_rubric, score_transcript
from qa_pipeline.settings import PROJECT_ROOT
from qa_pipeline.types import Role, Transcript

sys.path.insert(0, str(PROJECT_ROOT / "tests"))
from transcripts import conversation  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rubric", type=Path, default=PROJECT_ROOT / "rubrics" / "default.yaml")
    parser.add_argument("--eval-set", type=Path, default=PROJECT_ROOT / "benchmarks" / "data" / "rubric_eval.jsonl")
    parser.add_argument("--scripts", type=Path, default=PROJECT_ROOT / "samples" / "scripts")
    parser.add_argument("--audio", type=Path, help="folder of the sample calls: also measure the audio path")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "rubric.json")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rubric = load_rubric(args.rubric)
    rule_ids = [rule.id for rule in rubric.rules]

    eval_rows = [json.loads(line) for line in args.eval_set.read_text("utf-8").splitlines() if line.strip()]
    eval_cases = [(Transcript.model_validate(row["transcript"]), set(row["expected_hits"])) for row in eval_rows]
    scripts = [yaml.safe_load(path.read_text("utf-8")) for path in sorted(args.scripts.glob("*.yaml"))]
    script_cases = [(_script_transcript(script), set(script["expected_hits"])) for script in scripts]
    text_cases = eval_cases + script_cases
    predictions = [(_predict(transcript, rubric), expected, transcript.call_id) for transcript, expected in text_cases]
    result = {"rubric": f"{rubric.id} v{rubric.version}", "text": _precision_recall(predictions, rule_ids)}
    result["text"]["calls"] = len(text_cases)
    result["text"]["errors"] = _errors(predictions)

    transcripts = [transcript for transcript, _ in eval_cases]
    rates, started = [], time.perf_counter()
    while time.perf_counter() - started < args.seconds or len(rates) < 5:
        round_started = time.perf_counter()
        for transcript in transcripts:
            score_transcript(transcript, rubric, audio="")
        rates.append(len(transcripts) / (time.perf_counter() - round_started))
    mean_turns = sum(len(t.turns) for t in transcripts) / len(transcripts)
    result["speed"] = {
        "transcripts_per_s_one_core_median": round(statistics.median(rates)),
        "transcripts_per_s_one_core_best": round(max(rates)),
        "rounds": len(rates),
        "mean_turns": round(mean_turns, 1),
        "mean_words": round(sum(len(turn.words) for t in transcripts for turn in t.turns) / len(transcripts), 1),
    }

    if args.audio:
        result["audio"] = _audio_path(args.audio, scripts, rubric, rule_ids)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _predict(transcript: Transcript, rubric: object) -> set[str]:
    return {hit.rule_id for hit in score_transcript(transcript, rubric, audio="").hits}  # type: ignore[arg-type]


def _script_transcript(script: dict) -> Transcript:
    lines = []
    for line in script["turns"]:
        (role, text), = ((k, v) for k, v in line.items() if k in ("agent", "customer"))
        lines.append((Role(role), text, float(line.get("pause_s", 0.6))))
    return conversation(lines).model_copy(update={"call_id": script["call_id"]})


def _precision_recall(predictions: list[tuple[set[str], set[str], str]], rule_ids: list[str]) -> dict:
    per_rule = {}
    for rule_id in rule_ids:
        tp = sum(rule_id in p and rule_id in e for p, e, _ in predictions)
        fp = sum(rule_id in p and rule_id not in e for p, e, _ in predictions)
        fn = sum(rule_id not in p and rule_id in e for p, e, _ in predictions)
        per_rule[rule_id] = {
            "positives": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        }
    tp = sum(r["tp"] for r in per_rule.values())
    fp = sum(r["fp"] for r in per_rule.values())
    fn = sum(r["fn"] for r in per_rule.values())
    return {"micro_precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "micro_recall": round(tp / (tp + fn), 3) if tp + fn else None, "per_rule": per_rule}


def _errors(predictions: list[tuple[set[str], set[str], str]]) -> list[dict]:
    return [{"call_id": call_id, "missed": sorted(e - p), "extra": sorted(p - e)}
            for p, e, call_id in predictions if p != e]


def _audio_path(calls: Path, scripts: list[dict], rubric: object, rule_ids: list[str]) -> dict:
    from qa_pipeline.asr import get_transcriber  # noqa: PLC0415
    from qa_pipeline.pipeline import discover_calls, inspect_call  # noqa: PLC0415
    from qa_pipeline.settings import load_settings  # noqa: PLC0415

    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    settings = load_settings()
    transcriber = get_transcriber(settings)
    predictions = []
    for script in scripts:
        (source,) = discover_calls([calls / f"{script['call_id']}.wav"], settings=settings)
        card = inspect_call(source, settings=settings, rubric=rubric, transcriber=transcriber)  # type: ignore[arg-type]
        predictions.append(({hit.rule_id for hit in card.hits}, set(script["expected_hits"]), script["call_id"]))
    result = _precision_recall(predictions, rule_ids)
    result["calls"] = len(predictions)
    result["errors"] = _errors(predictions)
    return result


if __name__ == "__main__":
    sys.exit(main())
