"""ASR on long calls: CER of calls decoded one by one against the same calls joined into one long call.

    .venv/bin/python benchmarks/bench_long_calls.py [--calls benchmarks/data/asr_eval/calls]
        [--refs benchmarks/data/asr_eval/scripts] [--per-long 24] [--limit N] [--out F]

Real calls run to a quarter of an hour; the evaluation calls are about 35 s. Here ``--per-long``
consecutive stereo calls are joined channel by channel (1 s of faint line noise between them) into
one long call, and its reference is their references joined the same way. Each call is also
decoded alone. A transcription that holds up over length has about the same CER both ways.

Figures (benchmarks/results/long_calls.json): per long call, its length, the CER (normalized
view, as ``zhijian eval asr``) of its calls decoded alone and of the long call, the
transcriber's warnings on the long call (text dropped as a loop, say) and its decode time; and
the pooled CERs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from qa_pipeline.asr import get_transcriber
from qa_pipeline.audio import SAMPLE_RATE_HZ, DecodedAudio, read_recording
from qa_pipeline.evaluation import CerCounts, Reference, call_cer, find_reference
from qa_pipeline.settings import PROJECT_ROOT, Settings
from qa_pipeline.transcribe import transcribe_recording

DATA = PROJECT_ROOT / "benchmarks" / "data" / "asr_eval"
GAP_S = 1.0
GAP_NOISE_RMS = 1e-4  # about -80 dBFS: the line between two calls, not digital silence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, default=DATA / "calls")
    parser.add_argument("--refs", type=Path, default=DATA / "scripts")
    parser.add_argument("--per-long", type=int, default=24, help="calls joined into each long call")
    parser.add_argument("--limit", type=int, default=0, help="only the first N calls")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "long_calls.json")
    args = parser.parse_args()

    settings = Settings()
    transcriber = get_transcriber(settings)
    files = sorted(args.calls.glob("*.wav"))[: args.limit or None]
    rng = np.random.default_rng(0)
    rows, short_total, long_total = [], CerCounts(), CerCounts()
    for first in range(0, len(files) - args.per_long + 1, args.per_long):
        group = files[first: first + args.per_long]
        channels: list[list[np.ndarray]] = [[], []]
        texts = {0: "", 1: ""}
        short, recording = CerCounts(), None
        for path in group:
            reference = find_reference(path, args.refs)
            call, audio = read_recording(path, settings=settings.audio)
            recording = recording or call
            short.add(call_cer(transcribe_recording(call, audio, transcriber, settings.asr), reference).normalized)
            for channel in (0, 1):
                channels[channel] += [audio.channel(channel),
                                      rng.normal(0, GAP_NOISE_RMS, int(GAP_S * SAMPLE_RATE_HZ)).astype(np.float32)]
                texts[channel] += reference.texts[channel]
        long_audio = DecodedAudio(np.stack([np.concatenate(channels[0]), np.concatenate(channels[1])]))
        name = f"{group[0].stem}..{group[-1].stem}"
        long_recording = recording.model_copy(update={"call_id": name, "duration_s": round(long_audio.duration_s, 3)})
        started = time.perf_counter()
        transcript = transcribe_recording(long_recording, long_audio, transcriber, settings.asr)
        decode_s = time.perf_counter() - started
        long = call_cer(transcript, Reference(path=Path(name), texts=texts)).normalized
        short_total.add(short)
        long_total.add(long)
        row = {"long_call": name, "calls": len(group), "duration_s": round(long_audio.duration_s, 1),
               "cer_calls_alone": round(short.cer or 0, 4), "cer_long_call": round(long.cer or 0, 4),
               "decode_s": round(decode_s, 1), "warnings": list(transcript.warnings)}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    summary = {"calls_dir": str(args.calls), "per_long": args.per_long, "long_calls": len(rows),
               "cer_calls_alone": round(short_total.cer or 0, 4), "cer_long_calls": round(long_total.cer or 0, 4)}
    report = json.dumps({"summary": summary, "long_calls": rows}, ensure_ascii=False, indent=1)
    args.out.write_text(report + "\n", encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
