"""Diarization and role detection on synthesized calls: DER, role accuracy, cost against ASR.

    .venv/bin/python benchmarks/bench_diarization.py --set heldout [--roles] [--limit N]

Mono recordings are made from our stereo synthesized calls (one party per channel): the mix of
the two channels. On every third call the second channel is moved 1.5 s earlier first, so its
turns start before the other party has finished (overlapped speech). The reference of who spoke
when comes from the clean channels themselves (frame energy, independent of the VAD under test).

Sets: ``samples`` (samples/calls, 8), ``dev`` (benchmarks/data/asr_eval/calls, 48; used while
choosing settings), ``heldout`` (benchmarks/data/batch_eval/calls, 152; see bench_batch.py for how
to make it); these three are inbound calls the agent opens with a 工号. ``roles_dev`` and
``roles_heldout`` (40 each, role_eval_set.py) are calls of every direction and shape: outbound
calls the customer opens, agents without a 工号, complaints, talk-over. All voices are one TTS
voice shifted in pitch and tempo: calls whose two voices are less than ``--min-voice-gap`` cents
apart are reported separately (to an embedding they are one person, as the same person would be).

Figures (benchmarks/results/diarization_<set>.json):
* DER with a 0.25 s collar (pyannote.metrics' ``collar=0.25``: 0.125 s each side of a reference
  boundary), overall and on the calls with overlap; and, for comparison with NIST md-eval
  figures (0.25 s each side), with ``collar=0.5`` (``der_nist_collar``, ``der_after_roles_nist_collar``);
* number of speakers found vs 2;
* one voice alone: each clean channel of the call diarized by itself, and the share of those
  one-voice recordings split into more than one speaker;
* with ``--roles``: the share of calls whose agent is found, stereo (``--agent-channel auto``) and
  mono (diarized speakers; ``agent_is_the_one_voice`` counts the calls where the one voice found
  was taken as the agent: right when it maps to the agent's channel, though the customer's words
  in it, if any, are the agent's too), diarization time as a share of the ASR time on the same
  mono call, and on the calls without talk-over the share whose mono card breaks the same rules
  of the configured rubric as the stereo card (``mono_same_hits_as_stereo``).
"""

from __future__ import annotations

import argparse
import warnings
import json
import statistics
import sys
import time

import numpy as np
import yaml
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from qa_pipeline.asr import get_transcriber
from qa_pipeline.audio import DecodedAudio, read_recording
from qa_pipeline.diarization import EmbeddingDiarizer
from qa_pipeline.evaluation import speech_by_energy
from qa_pipeline.roles import assign_roles, split_by_content
from qa_pipeline.rubric.engine import score_transcript
from qa_pipeline.rubric.schema import load_rubric
from qa_pipeline.settings import PROJECT_ROOT, Settings
from qa_pipeline.transcribe import split_by_speaker, transcribe_recording
from qa_pipeline.types import Recording

warnings.filterwarnings("ignore", message=".*uem.*")

SETS = {
    "samples": (PROJECT_ROOT / "samples/calls", PROJECT_ROOT / "samples/scripts"),
    "dev": (PROJECT_ROOT / "benchmarks/data/asr_eval/calls", PROJECT_ROOT / "benchmarks/data/asr_eval/scripts"),
    "heldout": (PROJECT_ROOT / "benchmarks/data/batch_eval/calls", PROJECT_ROOT / "benchmarks/data/batch_eval/scripts"),
    "roles_dev": (PROJECT_ROOT / "benchmarks/data/roles_dev/calls", PROJECT_ROOT / "benchmarks/data/roles_dev/scripts"),
    "roles_heldout": (PROJECT_ROOT / "benchmarks/data/roles_heldout/calls",
                      PROJECT_ROOT / "benchmarks/data/roles_heldout/scripts"),
}
OVERLAP_SHIFT_S = 1.5


def energy_reference(channel: np.ndarray, label: str) -> Annotation:
    """Speech of one clean channel (``speech_by_energy``), labelled."""
    annotation = Annotation()
    for start_s, end_s in speech_by_energy(channel):
        annotation[Segment(start_s, end_s)] = label
    return annotation


def mono_call(audio: DecodedAudio, overlap: bool) -> tuple[np.ndarray, Annotation]:
    """The mixed-down call and its reference (labels ch0/ch1)."""
    left, right = audio.channel(0).copy(), audio.channel(1).copy()
    if overlap:
        shift = int(OVERLAP_SHIFT_S * audio.sample_rate_hz)
        right = np.concatenate([right[shift:], np.zeros(shift, dtype=right.dtype)])
    reference = energy_reference(left, "ch0")
    reference.update(energy_reference(right, "ch1"))
    return left + right, reference


def hypothesis_annotation(diarization) -> Annotation:  # type: ignore[no-untyped-def]
    annotation = Annotation()
    for segment in diarization.segments:
        annotation[Segment(segment.start_s, segment.end_s)] = segment.speaker
    return annotation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="heldout")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--roles", action="store_true", help="also role accuracy and cost vs ASR (runs ASR)")
    parser.add_argument("--min-voice-gap", type=int, default=250, help="cents between the two voices")
    args = parser.parse_args()
    settings = Settings()
    calls_dir, scripts_dir = SETS[args.set]
    files = sorted(calls_dir.glob("*.wav"))[: args.limit]
    diarizer = EmbeddingDiarizer(settings.diarization)
    diarizer.diarize(np.zeros(16_000, dtype=np.float32))  # warm up (librosa, torch)
    transcriber = get_transcriber(settings) if args.roles else None
    rubric = load_rubric(settings.rubric) if args.roles else None
    metrics = {"all": DiarizationErrorRate(collar=0.25), "distinct": DiarizationErrorRate(collar=0.25),
               "overlap": DiarizationErrorRate(collar=0.25), "close_voices": DiarizationErrorRate(collar=0.25)}
    metrics_after_roles = {name: DiarizationErrorRate(collar=0.25) for name in ("all", "distinct", "overlap")}
    nist = {"before": DiarizationErrorRate(collar=0.5), "after_roles": DiarizationErrorRate(collar=0.5)}
    rows = []
    for index, path in enumerate(files):
        script = yaml.safe_load((scripts_dir / f"{path.stem}.yaml").read_text("utf-8"))
        voices = script.get("voices", {})
        gap = abs(voices.get("agent", {}).get("pitch_cents", 0) - voices.get("customer", {}).get("pitch_cents", 0))
        recording, audio = read_recording(path, settings=settings.audio)
        overlap = index % 3 == 2
        mono, reference = mono_call(audio, overlap)
        started = time.perf_counter()
        diarization = diarizer.diarize(mono)
        diarize_s = time.perf_counter() - started
        hypothesis = hypothesis_annotation(diarization)
        der = metrics["all"](reference, hypothesis)
        nist["before"](reference, hypothesis)
        metrics["distinct" if gap >= args.min_voice_gap else "close_voices"](reference, hypothesis)
        if overlap:
            metrics["overlap"](reference, hypothesis)
        one_voice = [diarizer.diarize(audio.channel(c).copy()) for c in (0, 1)]
        row = {"call": path.stem, "voice_gap_cents": gap, "overlap": overlap, "der": round(der, 4),
               "speakers": diarization.num_speakers, "diarize_s": round(diarize_s, 3),
               "duration_s": round(recording.duration_s, 1),
               "speakers_one_voice": [d.num_speakers for d in one_voice]}
        if transcriber is not None:
            row.update(_roles(recording, audio, mono, diarization, one_voice, reference, script, transcriber,
                              settings, rubric, overlap))
            final_hypothesis = row.pop("final_hypothesis")
            row["der_after_roles"] = round(metrics_after_roles["all"](reference, final_hypothesis), 4)
            nist["after_roles"](reference, final_hypothesis)
            for name, member in (("distinct", gap >= args.min_voice_gap), ("overlap", overlap)):
                if member:
                    metrics_after_roles[name](reference, final_hypothesis)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    summary = {"set": args.set, "calls": len(rows), "collar_s": 0.25,
               "der": round(abs(metrics["all"]), 4),
               "der_distinct_voices": _value(metrics["distinct"]), "der_close_voices": _value(metrics["close_voices"]),
               "der_overlap_calls": _value(metrics["overlap"]),
               "der_nist_collar": _value(nist["before"]),
               "calls_distinct_voices": sum(r["voice_gap_cents"] >= args.min_voice_gap for r in rows),
               "speakers_found": {str(k): sum(r["speakers"] == k for r in rows) for k in sorted({r["speakers"] for r in rows})},
               "one_voice_recordings": 2 * len(rows),
               "one_voice_split": round(sum(n > 1 for r in rows for n in r["speakers_one_voice"]) / (2 * len(rows)), 4),
               "diarize_s_per_audio_min": round(60 * sum(r["diarize_s"] for r in rows) / sum(r["duration_s"] for r in rows), 3)}
    if transcriber is not None:
        distinct = [r for r in rows if r["voice_gap_cents"] >= args.min_voice_gap]
        without_talk_over = [r for r in rows if not r["overlap"]]  # hits compared (see _roles)
        summary.update({
            "role_accuracy_stereo": _share(rows, "agent_right_stereo"),
            "role_accuracy_mono": _share(rows, "agent_right_mono"),
            "role_accuracy_mono_distinct_voices": _share(distinct, "agent_right_mono"),
            "split_by_content": sum(r["split_by_content"] for r in rows),
            "mono_same_hits_as_stereo": _share(without_talk_over, "same_hits_as_stereo"),
            "mono_rules_only_in_mono": sum(len(set(r["hits_mono"]) - set(r["hits_stereo"])) for r in without_talk_over),
            "mono_rules_only_in_stereo": sum(len(set(r["hits_stereo"]) - set(r["hits_mono"])) for r in without_talk_over),
            "agent_is_the_one_voice": sum(r["agent_is_the_one_voice"] for r in rows),
            "der_after_roles": _value(metrics_after_roles["all"]),
            "der_after_roles_distinct_voices": _value(metrics_after_roles["distinct"]),
            "der_after_roles_overlap_calls": _value(metrics_after_roles["overlap"]),
            "der_after_roles_nist_collar": _value(nist["after_roles"]),
            "one_voice_split_after_roles": round(
                sum(n > 1 for r in rows for n in r["speakers_one_voice_after_roles"]) / (2 * len(rows)), 4),
            "diarize_share_of_asr_median": round(statistics.median(r["diarize_s"] / r["asr_mono_s"] for r in rows), 3),
            "diarize_share_of_asr_total": round(sum(r["diarize_s"] for r in rows) / sum(r["asr_mono_s"] for r in rows), 3),
        })
    out = PROJECT_ROOT / f"benchmarks/results/diarization_{args.set}.json"
    out.write_text(json.dumps({"summary": summary, "calls": rows}, ensure_ascii=False, indent=2))
    print(json.dumps(summary, indent=2))
    return 0


def _roles(recording: Recording, audio: DecodedAudio, mono: np.ndarray, diarization, one_voice,  # type: ignore[no-untyped-def]
           reference: Annotation, script: dict, transcriber, settings: Settings, rubric, overlap: bool) -> dict:
    """Roles on the stereo call and on its mono mix (and the mix's speakers after role detection,
    which may split one voice in two by what is said); each clean channel's speakers after role
    detection (one voice alone, transcribed as in the stereo call)."""
    agent_channel = script["agent_channel"]
    stereo = transcribe_recording(recording, audio, transcriber, settings.asr)
    one_voice_speakers = [len(_speakers(_one_voice_transcript(stereo, channel, one_voice[channel])))
                          for channel in (0, 1)]
    stereo = assign_roles(stereo, agent_channel="auto", metadata=recording.metadata)
    mono_audio = DecodedAudio(mono[None, :])
    mono_recording = recording.model_copy(update={"num_channels": 1})
    started = time.perf_counter()
    mono_transcript = transcribe_recording(mono_recording, mono_audio, transcriber, settings.asr)
    asr_mono_s = time.perf_counter() - started
    mono_transcript = transcribe_recording(mono_recording, mono_audio, _Replay(mono_transcript, transcriber),
                                           settings.asr, diarization=diarization)
    content_split = split_by_content(mono_transcript, diarization)
    mono_transcript = assign_roles(mono_transcript, metadata=recording.metadata, diarization=diarization)
    final = diarization.model_copy(update={"segments": content_split.segments}) if content_split else diarization
    final_hypothesis = hypothesis_annotation(final)
    mapping = DiarizationErrorRate().optimal_mapping(reference, final_hypothesis)  # hypothesis speaker -> ch0/ch1
    agents = mono_transcript.roles.agent_speakers
    agent_right_mono = bool(agents) and all(mapping.get(s) == f"ch{agent_channel}" for s in agents[:1])
    # The rules each card breaks; not compared on talk-over calls, whose mix lost the first 1.5 s
    # of one channel.
    stereo_hits, mono_hits = (sorted({hit.rule_id for hit in score_transcript(transcript, rubric, audio="").hits})
                              for transcript in (stereo, mono_transcript))
    return {"agent_right_stereo": stereo.roles.agent_channel == agent_channel,
            "stereo_confidence": stereo.roles.confidence,
            "agent_right_mono": agent_right_mono, "mono_confidence": mono_transcript.roles.confidence,
            "agent_is_the_one_voice": bool(agents) and len(_speakers(mono_transcript)) == 1,
            "split_by_content": content_split is not None, "speakers_one_voice_after_roles": one_voice_speakers,
            "asr_mono_s": round(asr_mono_s, 3), "final_hypothesis": final_hypothesis,
            "hits_stereo": stereo_hits, "hits_mono": mono_hits,
            "same_hits_as_stereo": None if overlap else stereo_hits == mono_hits}


def _one_voice_transcript(stereo, channel: int, diarization):  # type: ignore[no-untyped-def]
    """One channel of a stereo transcript as a mono recording of that voice alone, cut by its
    diarization and given roles."""
    turns = [turn.model_copy(update={"channel": 0}) for turn in stereo.turns if turn.channel == channel]
    if diarization.segments:
        turns = [piece for turn in turns for piece in split_by_speaker(turn, diarization)]
    mono = stereo.model_copy(update={"turns": tuple(turns), "num_channels": 1})
    return assign_roles(mono, diarization=diarization)


def _speakers(transcript) -> set[str]:  # type: ignore[no-untyped-def]
    return {turn.speaker for turn in transcript.turns}


class _Replay:
    """Gives back the segments of a transcript already decoded (ASR runs once per mono call)."""

    def __init__(self, transcript, transcriber) -> None:  # type: ignore[no-untyped-def]
        self._segments = [[_segment(turn) for turn in transcript.turns]]
        self.provenance = transcriber.provenance

    def transcribe_channels(self, channels):  # type: ignore[no-untyped-def]
        return self._segments


def _segment(turn):  # type: ignore[no-untyped-def]
    from qa_pipeline.asr import AsrSegment  # noqa: PLC0415

    return AsrSegment(start_s=turn.start_s, end_s=turn.end_s, text=turn.text, words=turn.words)


def _share(rows: list[dict], key: str) -> float | None:
    return round(sum(r[key] for r in rows) / len(rows), 4) if rows else None


def _value(metric: DiarizationErrorRate) -> float | None:
    return round(abs(metric), 4) if metric.results_ else None


if __name__ == "__main__":
    sys.exit(main())
