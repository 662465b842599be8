"""Re-scoring N stored calls with a new rubric version: one command, wall-clock time.

    .venv/bin/python benchmarks/bench_rescore.py [--count 10000] [--mode db|json|both] [--db URL]

``db`` (issue 7): N calls are stored in a results database (SQLite file by default; pass
``--db postgresql+psycopg://...`` for PostgreSQL), then ``zhijian rescore --db URL --rubric NEW``
re-scores every current transcript and stores the new scorecards and hits. ``json``: the same
over a folder of scorecard JSON files (``zhijian rescore --json-in``).

The stored calls are made from the labelled eval transcripts (benchmarks/data/rubric_eval.jsonl)
under distinct call ids, so each holds a realistic transcript with word times. The new rubric is
the default one with its version bumped and one forbidden phrase added: a YAML edit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from qa_pipeline.batch import rubric_fingerprint
from qa_pipeline.metadata import CallSource
from qa_pipeline.rubric import load_rubric, score_transcript
from qa_pipeline.settings import PROJECT_ROOT, Settings
from qa_pipeline.store import ResultStore
from qa_pipeline.types import CallMetadata, Transcript

ZHIJIAN = str(Path(sys.executable).parent / "zhijian")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--mode", choices=["db", "json", "both"], default="both")
    parser.add_argument("--db", help="database URL for --mode db (default: a SQLite file in a temp folder)")
    parser.add_argument("--rubric", type=Path, default=PROJECT_ROOT / "rubrics" / "default.yaml")
    parser.add_argument("--eval-set", type=Path, default=PROJECT_ROOT / "benchmarks" / "data" / "rubric_eval.jsonl")
    args = parser.parse_args()
    transcripts = [Transcript.model_validate(json.loads(line)["transcript"])
                   for line in args.eval_set.read_text("utf-8").splitlines() if line.strip()]
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        new_rubric = _new_version(args.rubric, Path(tmp) / "rubric_v_next.yaml")
        if args.mode in ("db", "both"):
            figures["db"] = _bench_db(args, transcripts, new_rubric, args.db or f"sqlite:///{tmp}/results.db")
        if args.mode in ("json", "both"):
            figures["json"] = _bench_json(args, transcripts, new_rubric, Path(tmp))
    print(json.dumps(figures, indent=2))
    return 0


def _bench_db(args: argparse.Namespace, transcripts: list[Transcript], new_rubric: Path, url: str) -> dict:
    rubric = load_rubric(args.rubric)
    store = ResultStore(url)
    asr_key, rubric_hash = Settings().fingerprint(), rubric_fingerprint(rubric)
    started = time.perf_counter()
    for index in range(args.count):
        call_id = f"call-{index:06d}"
        transcript = transcripts[index % len(transcripts)].model_copy(
            update={"call_id": call_id, "recording_sha256": f"{index:064x}"})
        card = score_transcript(transcript, rubric, audio=f"/calls/{call_id}.wav")
        store.save_scorecard(CallSource(Path(f"/calls/{call_id}.wav"), call_id, CallMetadata()), card,
                             asr_key=asr_key, rubric_hash=rubric_hash)
    fill_s = time.perf_counter() - started
    before = store.counts()
    started = time.perf_counter()
    completed = subprocess.run([ZHIJIAN, "rescore", "--rubric", str(new_rubric), "--db", url],
                               check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = store.counts()
    print(completed.stdout.strip())
    return {"calls": args.count, "database": store.engine.dialect.name,
            "store_one_call_ms": round(1000 * fill_s / args.count, 2),
            "rescore_wall_s": round(elapsed, 1), "rescored_per_s": round(args.count / elapsed),
            "scorecards_before": before["scorecards"], "scorecards_after": after["scorecards"],
            "hits_added": after["hits"] - before["hits"]}


def _bench_json(args: argparse.Namespace, transcripts: list[Transcript], new_rubric: Path, tmp: Path) -> dict:
    rubric = load_rubric(args.rubric)
    stored, rescored = tmp / "stored", tmp / "rescored"
    stored.mkdir()
    for index in range(args.count):
        transcript = transcripts[index % len(transcripts)].model_copy(update={"call_id": f"call-{index:06d}"})
        card = score_transcript(transcript, rubric, audio=f"/calls/call-{index:06d}.wav")
        (stored / f"{card.call_id}.json").write_text(card.model_dump_json(), "utf-8")
    size_mb = sum(path.stat().st_size for path in stored.iterdir()) / 1e6
    started = time.perf_counter()
    completed = subprocess.run([ZHIJIAN, "rescore", "--rubric", str(new_rubric), "--json-in", str(stored),
                                "--json-out", str(rescored)], check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    print(completed.stdout.strip())
    return {"scorecards": args.count, "stored_mb": round(size_mb, 1),
            "written": len(list(rescored.glob("*.json"))), "wall_s": round(elapsed, 1),
            "per_s": round(args.count / elapsed)}


def _new_version(rubric_path: Path, out: Path) -> Path:
    """The rubric with its version bumped and one more forbidden phrase (a YAML-only change)."""
    rubric = yaml.safe_load(rubric_path.read_text("utf-8"))
    rubric["version"] += 1
    for rule in rubric["rules"]:
        if rule["type"] == "phrase_absent" and rule.get("phrases"):
            rule["phrases"] = [*rule["phrases"], "不归我管"]
            break
    out.write_text(yaml.safe_dump(rubric, allow_unicode=True, sort_keys=False), "utf-8")
    load_rubric(out)  # still valid
    return out


if __name__ == "__main__":
    sys.exit(main())
