"""ASR: CER on the numbers-heavy evaluation calls, speed against plain per-channel decoding, and
words produced on a minute of silence, noise and hold music.

    .venv/bin/python benchmarks/bench_asr.py [--calls benchmarks/data/asr_eval/calls]
        [--refs benchmarks/data/asr_eval/scripts] [--hotwords default|none] [--vocabulary on|off]
        [--prompt TEXT] [--beam-size N] [--limit N] [--out F] [--cer-only]

Sets: ``benchmarks/data/asr_eval`` (48 numbers-heavy calls, on which settings and the vocabulary
were chosen) and ``benchmarks/data/asr_alt`` (40 calls of other businesses and wording, written
afterwards: ``--calls benchmarks/data/asr_alt/calls --refs benchmarks/data/asr_alt/scripts``).

(Make the calls first: see benchmarks/asr_eval_set.py.)

- CER: as `zhijian eval asr` computes it (qa_pipeline.evaluation), per channel, pooled over calls.
- Speed: the pipeline's transcription stage (decode, VAD, both channels side by side, guards,
  turns) in audio seconds per wall second, and its time over the time of a plain
  ``WhisperModel.transcribe(channel, language="zh")`` of each channel (faster-whisper defaults:
  beam 5, no VAD), run one after the other on the same files, one call at a time.
- Zero words: 60 s stereo files of near-silence (line hiss), white noise and a tone melody.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from common import plain_whisper_model

from qa_pipeline.asr import get_transcriber
from qa_pipeline.audio import DecodedAudio, read_recording
from qa_pipeline.evaluation import CerCounts, call_cer, find_reference
from qa_pipeline.settings import ASRSettings, PROJECT_ROOT, Settings, load_settings
from qa_pipeline.transcribe import transcribe_recording
from qa_pipeline.types import Recording

DATA = PROJECT_ROOT / "benchmarks" / "data" / "asr_eval"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, default=DATA / "calls")
    parser.add_argument("--refs", type=Path, default=DATA / "scripts")
    parser.add_argument("--hotwords", choices=["default", "none"], default="default")
    parser.add_argument("--vocabulary", choices=["on", "off"], default="on",
                        help="rewrite homophones of service words (ASRSettings.correct_homophones)")
    parser.add_argument("--prompt", help="initial prompt instead of the configured one")
    parser.add_argument("--beam-size", type=int, help="beam size instead of the configured one")
    parser.add_argument("--cer-only", action="store_true", help="skip the plain decoding and the no-speech files")
    parser.add_argument("--limit", type=int, default=0, help="only the first N calls")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "asr.json")
    args = parser.parse_args()
    settings = load_settings()
    asr_overrides = {}
    if args.hotwords == "none":
        asr_overrides["hotwords"] = ()
    if args.vocabulary == "off":
        asr_overrides["correct_homophones"] = False
    if args.prompt:
        asr_overrides["initial_prompt"] = args.prompt
    if args.beam_size:
        asr_overrides["beam_size"] = args.beam_size
    if asr_overrides:
        settings = load_settings(asr=ASRSettings(**{**settings.asr.model_dump(), **asr_overrides}))
    transcriber = get_transcriber(settings)
    plain_model = None if args.cer_only else plain_whisper_model(settings)

    files = sorted(args.calls.glob("*.wav"))[: args.limit or None]
    if not files:
        print(f"no calls in {args.calls}; make them with benchmarks/asr_eval_set.py", file=sys.stderr)
        return 2
    normalized, verbatim = CerCounts(), CerCounts()
    rows, audio_s, pipeline_s, plain_s = [], 0.0, 0.0, 0.0
    for path in files:
        reference = find_reference(path, args.refs)
        recording, audio = read_recording(path, settings=settings.audio)
        started = time.perf_counter()
        transcript = transcribe_recording(recording, audio, transcriber, settings.asr)
        pipeline_call_s = time.perf_counter() - started
        started = time.perf_counter()
        for channel in range(audio.num_channels if plain_model is not None else 0):
            segments, _ = plain_model.transcribe(audio.channel(channel), language=settings.asr.language)
            list(segments)
        plain_call_s = time.perf_counter() - started
        audio_s += recording.duration_s
        pipeline_s += pipeline_call_s
        plain_s += plain_call_s
        row = {"call_id": recording.call_id, "duration_s": recording.duration_s,
               "pipeline_s": round(pipeline_call_s, 2), "plain_s": round(plain_call_s, 2)}
        if reference is not None:
            result = call_cer(transcript, reference)
            normalized.add(result.normalized)
            verbatim.add(result.verbatim)
            row.update(cer=round(result.normalized.cer or 0, 4), cer_verbatim=round(result.verbatim.cer or 0, 4))
        rows.append(row)
        print(f"{recording.call_id}: {row}", flush=True)

    summary = {
        "asr": transcriber.provenance.model_dump(mode="json"),
        "calls_dir": str(args.calls),
        "vocabulary": args.vocabulary,
        "calls": len(rows),
        "audio_s": round(audio_s, 1),
        "cer_normalized": round(normalized.cer, 4) if normalized.length else None,
        "cer_verbatim": round(verbatim.cer, 4) if verbatim.length else None,
        "pipeline_audio_s_per_wall_s": round(audio_s / pipeline_s, 2),
        "plain_audio_s_per_wall_s": round(audio_s / plain_s, 2) if plain_model else None,
        "pipeline_time_over_plain": round(pipeline_s / plain_s, 3) if plain_model else None,
        "words_on_60s_without_speech": None if args.cer_only else _words_without_speech(settings, transcriber),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "calls": rows}, ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def _words_without_speech(settings: Settings, transcriber: object) -> dict[str, int]:
    sample_rate_hz, seconds = 16_000, 60
    rng = np.random.default_rng(3)
    t = np.arange(seconds * sample_rate_hz) / sample_rate_hz
    notes = [262, 294, 330, 349, 392, 440, 494, 523]
    melody = np.zeros_like(t)
    for index in range(seconds * 2):
        note = (t >= index * 0.5) & (t < index * 0.5 + 0.45)
        melody[note] = 0.25 * np.sin(2 * np.pi * notes[index % 8] * t[note])
    signals = {"silence": np.zeros_like(t), "line_hiss": 0.003 * rng.standard_normal(t.size),
               "white_noise": 0.1 * rng.standard_normal(t.size), "hold_music": melody}
    counts = {}
    for name, signal in signals.items():
        stereo = np.stack([signal, signal[::-1]]).astype(np.float32)
        recording = Recording(call_id=name, path=Path(f"{name}.wav"), sha256="0" * 64, duration_s=seconds,
                              sample_rate_hz=sample_rate_hz, num_channels=2, codec="pcm_f32le", container_format="wav")
        transcript = transcribe_recording(recording, DecodedAudio(stereo), transcriber, settings.asr)  # type: ignore[arg-type]
        counts[name] = sum(len(turn.words) for turn in transcript.turns)
    return counts


if __name__ == "__main__":
    sys.exit(main())
