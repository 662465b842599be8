"""Word times against where the words were said: the share of words dated outside their party's speech.

    .venv/bin/python benchmarks/bench_word_times.py --set dev [--mono] [--limit N] [--out F]

A hit points at the second its words were said, and turns are cut where words stop: a word dated
in its party's silence (at the end of that party's previous turn, say) moves the hit and joins
two phrases that were said apart. Each word's spoken span (``transcribe.said_span``: its end and
0.3 s a character before it) is compared with the speech of its party, found on the party's clean
channel by frame energy (``evaluation.speech_by_energy``, independent of the VAD under test).
A word is misdated when its spoken span is more than ``TOLERANCE_S`` away from that speech, and
dated in silence when it is that far from either party's speech too (on mono, a misdated word
that is not dated in silence went to the wrong speaker: a diarization error, not a timing one).

Stereo: each channel's words against that channel. ``--mono``: the mix of the two channels,
diarized and decoded as the pipeline does (by voice where sound tells the voices apart); each
speaker's words against the channel that speaker maps to (pyannote's optimal mapping), words of
unmapped speakers left out. Sets are bench_diarization's (``samples``, ``dev``, ``heldout``,
``roles_dev``, ``roles_heldout``). To compare code versions, run this script on each, e.g. an
older commit checked out in a worktree with ``PYTHONPATH=<worktree>``.

Figures (benchmarks/results/word_times_<set>[_mono].json): words, misdated words and their
share, words dated in silence and their share, misdated first words of turns (the word after a
pause) and their share, the calls with at least one misdated word, and the words dated with no
length (end at their start).
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from bench_diarization import SETS, hypothesis_annotation, mono_call
from pyannote.metrics.diarization import DiarizationErrorRate

from qa_pipeline.asr import get_transcriber
from qa_pipeline.audio import DecodedAudio, read_recording
from qa_pipeline.diarization import EmbeddingDiarizer
from qa_pipeline.evaluation import speech_by_energy
from qa_pipeline.settings import PROJECT_ROOT, Settings
from qa_pipeline.transcribe import said_span, transcribe_recording

warnings.filterwarnings("ignore", message=".*uem.*")

TOLERANCE_S = 0.25  # Whisper's word edges and the energy reference's edges each move this much


def distance_to_speech_s(span: tuple[float, float], speech: list[tuple[float, float]]) -> float:
    """How far the span lies from the nearest stretch of speech (0 when they overlap).

    >>> distance_to_speech_s((2.0, 2.3), [(0.0, 1.0), (2.2, 3.0)])
    0.0
    >>> distance_to_speech_s((1.5, 1.7), [(0.0, 1.0), (2.2, 3.0)])
    0.5
    """
    start_s, end_s = span
    return min((max(speech_start_s - end_s, start_s - speech_end_s, 0.0) for speech_start_s, speech_end_s in speech),
               default=float("inf"))


def measure_call(path: Path, settings: Settings, *, mono: bool) -> dict[str, object]:
    recording, audio = read_recording(path, settings=settings.audio)
    transcriber = get_transcriber(settings)
    speech = {channel: speech_by_energy(audio.channel(channel)) for channel in range(audio.num_channels)}
    if mono:
        mix, reference = mono_call(audio)
        diarization = EmbeddingDiarizer(settings.diarization).diarize(mix)
        mapping = DiarizationErrorRate().optimal_mapping(reference, hypothesis_annotation(diarization))
        transcript = transcribe_recording(recording.model_copy(update={"num_channels": 1}), DecodedAudio(mix[None, :]),
                                          transcriber, settings.asr, diarization=diarization)
        party = {speaker: int(label[2:]) for speaker, label in mapping.items()}
    else:
        transcript = transcribe_recording(recording, audio, transcriber, settings.asr)
        party = {f"ch{channel}": channel for channel in range(audio.num_channels)}
    anyone = sorted(span for spans in speech.values() for span in spans)
    words = misdated = in_silence = first_words = misdated_first = without_length = 0
    examples = []
    for turn in transcript.turns:
        channel = party.get(turn.speaker)
        if channel is None:
            continue
        for index, word in enumerate(turn.words):
            span = said_span(word)
            off = distance_to_speech_s(span, speech[channel]) > TOLERANCE_S
            words += 1
            misdated += off
            in_silence += off and distance_to_speech_s(span, anyone) > TOLERANCE_S
            first_words += index == 0
            misdated_first += off and index == 0
            without_length += word.end_s <= word.start_s
            if off:
                examples.append(f"{word.text}@{word.start_s:.2f}-{word.end_s:.2f} in 「{turn.text}」")
    return {"call": path.stem, "words": words, "misdated": misdated, "in_silence": in_silence,
            "first_words": first_words, "misdated_first_words": misdated_first, "without_length": without_length,
            "examples": examples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=sorted(SETS), default="dev")
    parser.add_argument("--mono", action="store_true", help="the mixed-down calls, diarized")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings()
    calls_dir, _scripts = SETS[args.set]
    rows = []
    for path in sorted(calls_dir.glob("*.wav"))[: args.limit]:
        row = measure_call(path, settings, mono=args.mono)
        rows.append(row)
        print(f"{row['call']}: {row['misdated']}/{row['words']} misdated", *row["examples"], sep="\n    ", flush=True)
    counts = ("words", "misdated", "in_silence", "first_words", "misdated_first_words", "without_length")
    total = {key: sum(row[key] for row in rows) for key in counts}
    summary = {
        "set": args.set, "mono": args.mono, "calls": len(rows), "tolerance_s": TOLERANCE_S, **total,
        "misdated_share": round(total["misdated"] / max(total["words"], 1), 4),
        "in_silence_share": round(total["in_silence"] / max(total["words"], 1), 4),
        "misdated_first_word_share": round(total["misdated_first_words"] / max(total["first_words"], 1), 4),
        "calls_with_misdated_words": sum(row["misdated"] > 0 for row in rows),
    }
    out = args.out or PROJECT_ROOT / "benchmarks/results" / f"word_times_{args.set}{'_mono' if args.mono else ''}.json"
    report = json.dumps({"summary": summary, "calls": rows}, ensure_ascii=False, indent=1)
    out.write_text(report + "\n", encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
