"""Re-scoring N stored scorecards with a rubric: one `zhijian rescore` command, wall-clock time.

    .venv/bin/python benchmarks/bench_rescore.py [--count 10000] [--rubric rubrics/default.yaml]

The stored scorecards are made from the labelled eval transcripts (benchmarks/data/rubric_eval.jsonl,
scored once with the default rubric and written as JSON under distinct call ids), so each holds a
realistic transcript with word times. The timed command parses, re-scores and atomically writes
every one of them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qa_pipeline.rubric import load_rubric, score_transcript
from qa_pipeline.settings import PROJECT_ROOT
from qa_pipeline.types import Transcript


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rubric", type=Path, default=PROJECT_ROOT / "rubrics" / "default.yaml")
    parser.add_argument("--eval-set", type=Path, default=PROJECT_ROOT / "benchmarks" / "data" / "rubric_eval.jsonl")
    args = parser.parse_args()
    rubric = load_rubric(args.rubric)
    transcripts = [Transcript.model_validate(json.loads(line)["transcript"])
                   for line in args.eval_set.read_text("utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        stored, rescored = Path(tmp) / "stored", Path(tmp) / "rescored"
        stored.mkdir()
        for index in range(args.count):
            transcript = transcripts[index % len(transcripts)].model_copy(update={"call_id": f"call-{index:06d}"})
            card = score_transcript(transcript, rubric, audio=f"/calls/call-{index:06d}.wav")
            (stored / f"{card.call_id}.json").write_text(card.model_dump_json(), "utf-8")
        size_mb = sum(path.stat().st_size for path in stored.iterdir()) / 1e6
        started = time.perf_counter()
        completed = subprocess.run(
            [str(Path(sys.executable).parent / "zhijian"), "rescore", "--rubric", str(args.rubric),
             "--json-in", str(stored), "--json-out", str(rescored)],
            check=True, capture_output=True, text=True,
        )
        elapsed = time.perf_counter() - started
        written = len(list(rescored.glob("*.json")))
    print(completed.stdout.strip())
    print(json.dumps({"scorecards": args.count, "stored_mb": round(size_mb, 1), "written": written,
                      "wall_s": round(elapsed, 1), "per_s": round(args.count / elapsed)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
