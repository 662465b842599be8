"""Diarization and role detection on synthesized calls: DER, role accuracy, cost against ASR.

    .venv/bin/python benchmarks/bench_diarization.py --set heldout [--roles] [--limit N]
    .venv/bin/python benchmarks/bench_diarization.py --calls DIR [--scripts DIR] [--roles] [--out F]

Mono recordings are made from our stereo synthesized calls (one party per channel): the mix of
the two channels. On every third call the first channel is delayed 1.5 s first (``talk_over``),
so the second party's turns start before the first has finished (overlapped speech); nothing is
cut, and that call's stereo card is made from the same delayed channels. The reference of who
spoke when comes from the clean channels themselves (frame energy, independent of the VAD under
test).

Sets: ``samples`` (samples/calls, 8), ``dev`` (benchmarks/data/asr_eval/calls, 48; used while
choosing settings), ``heldout`` (benchmarks/data/batch_eval/calls, 152; see bench_batch.py for how
to make it); these three are inbound calls the agent opens with a 工号. ``roles_dev`` and
``roles_heldout`` (40 each, role_eval_set.py) are calls of every direction and shape: outbound
calls the customer opens, agents without a 工号, complaints, talk-over. All voices are one TTS
voice shifted in pitch and tempo: calls whose two voices are less than ``--min-voice-gap`` cents
apart are reported separately (to an embedding they are one person, as the same person would be).
``--calls DIR`` measures any folder of stereo calls (one party per channel) instead: each call's
``<name>.yaml`` in ``--scripts`` (default: ``DIR/../scripts``) gives its ``agent_channel`` and,
optionally, its ``voices`` (``pitch_cents`` of agent and customer), as the eval-set makers write
them; without a script, a call counts towards DER but not towards role accuracy.

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
  mono call, and the share of calls whose mono card breaks the same rules of the configured
  rubric as the stereo card (``mono_same_hits_as_stereo``; also apart for the calls without and
  with talk-over), and the same among the rules both cards could judge
  (``mono_same_hits_rules_checked_on_both``: interruption is not judged on mono, where both
  parties talking at once are not heard apart).
"""

from __future__ import annotations

import argparse
import warnings
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from qa_pipeline.asr import get_transcriber
from qa_pipeline.audio import DecodedAudio, read_recording, seconds_to_samples
from qa_pipeline.diarization import EmbeddingDiarizer
from qa_pipeline.errors import AudioError
from qa_pipeline.evaluation import speech_by_energy
from qa_pipeline.pipeline import AUDIO_SUFFIXES
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


def talk_over(audio: DecodedAudio) -> DecodedAudio:
    """The stereo call with its first channel delayed ``OVERLAP_SHIFT_S`` (and the second padded
    at the end): each second-party turn starts that much earlier against the first party's talk."""
    shift = np.zeros(seconds_to_samples(OVERLAP_SHIFT_S, audio.sample_rate_hz), dtype=audio.samples.dtype)
    left, right = audio.channel(0), audio.channel(1)
    return DecodedAudio(np.stack([np.concatenate([shift, left]), np.concatenate([right, shift])]),
                        audio.sample_rate_hz)


def mono_call(audio: DecodedAudio) -> tuple[np.ndarray, Annotation]:
    """The mixed-down call and its reference (labels ch0/ch1)."""
    left, right = audio.channel(0).copy(), audio.channel(1).copy()
    reference = energy_reference(left, "ch0")
    reference.update(energy_reference(right, "ch1"))
    return left + right, reference


def hypothesis_annotation(diarization) -> Annotation:  # type: ignore[no-untyped-def]
    annotation = Annotation()
    for segment in diarization.segments:
        annotation[Segment(segment.start_s, segment.end_s)] = segment.speaker
    return annotation


def agent_found(transcript, reference: Annotation, hypothesis: Annotation, agent_channel: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether the first agent speaker of a mono transcript maps to the agent's channel (the
    optimal mapping of the hypothesis' speakers to ch0/ch1)."""
    mapping = DiarizationErrorRate().optimal_mapping(reference, hypothesis)
    agents = transcript.roles.agent_speakers
    return bool(agents) and mapping.get(agents[0]) == f"ch{agent_channel}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="heldout")
    parser.add_argument("--calls", type=Path, help="a folder of stereo calls to measure instead of --set")
    parser.add_argument("--scripts", type=Path, help="their <name>.yaml scripts (default: the folder's ../scripts)")
    parser.add_argument("--out", type=Path, help="results file (default: benchmarks/results/diarization_<set>.json)")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--roles", action="store_true", help="also role accuracy and cost vs ASR (runs ASR)")
    parser.add_argument("--min-voice-gap", type=int, default=250, help="cents between the two voices")
    parser.add_argument("--talk-over", choices=("every-third", "none"), default="every-third",
                        help="delay the first channel of every third call (default), or of none: the calls as recorded")
    args = parser.parse_args()
    settings = Settings()
    if args.calls is not None:
        calls_dir, scripts_dir = args.calls, args.scripts or args.calls.parent / "scripts"
        set_name = args.calls.parent.name if args.calls.name == "calls" else args.calls.name
    else:
        (calls_dir, scripts_dir), set_name = SETS[args.set], args.set
    if not calls_dir.is_dir():
        print(f"{calls_dir}: no such folder (make the calls first: see the README, 'Measuring')", file=sys.stderr)
        return 2
    files = sorted(p for p in calls_dir.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)[: args.limit]
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
        script_path = scripts_dir / f"{path.stem}.yaml"
        script = yaml.safe_load(script_path.read_text("utf-8")) if script_path.is_file() else {}
        gap = _voice_gap(script)
        distinct = _distinct_voices(gap, args.min_voice_gap)
        try:
            recording, audio = read_recording(path, settings=settings.audio)
        except AudioError as exc:
            print(f"left out: {exc}", file=sys.stderr)
            continue
        if audio.num_channels != 2:
            print(f"{path}: {audio.num_channels} channel(s); the benchmark mixes stereo calls: left out", file=sys.stderr)
            continue
        overlap = args.talk_over == "every-third" and index % 3 == 2
        if overlap:
            audio = talk_over(audio)
            recording = recording.model_copy(update={"duration_s": round(audio.duration_s, 3)})
        mono, reference = mono_call(audio)
        started = time.perf_counter()
        diarization = diarizer.diarize(mono)
        diarize_s = time.perf_counter() - started
        hypothesis = hypothesis_annotation(diarization)
        der = metrics["all"](reference, hypothesis)
        nist["before"](reference, hypothesis)
        if gap is not None:
            metrics["distinct" if distinct else "close_voices"](reference, hypothesis)
        if overlap:
            metrics["overlap"](reference, hypothesis)
        one_voice = [diarizer.diarize(audio.channel(c).copy()) for c in (0, 1)]
        row = {"call": path.stem, "voice_gap_cents": gap, "overlap": overlap, "der": round(der, 4),
               "speakers": diarization.num_speakers, "diarize_s": round(diarize_s, 3),
               "duration_s": round(recording.duration_s, 1),
               "speakers_one_voice": [d.num_speakers for d in one_voice]}
        if transcriber is not None:
            row.update(_roles(recording, audio, mono, diarization, one_voice, reference, script, transcriber,
                              settings, rubric))
            final_hypothesis = row.pop("final_hypothesis")
            row["der_after_roles"] = round(metrics_after_roles["all"](reference, final_hypothesis), 4)
            nist["after_roles"](reference, final_hypothesis)
            for name, member in (("distinct", distinct), ("overlap", overlap)):
                if member:
                    metrics_after_roles[name](reference, final_hypothesis)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    summary = {"set": set_name, "calls_dir": str(calls_dir), "calls": len(rows), "collar_s": 0.25,
               "der": round(abs(metrics["all"]), 4),
               "der_distinct_voices": _value(metrics["distinct"]), "der_close_voices": _value(metrics["close_voices"]),
               "der_overlap_calls": _value(metrics["overlap"]),
               "der_nist_collar": _value(nist["before"]),
               "calls_distinct_voices": sum(_distinct_voices(r["voice_gap_cents"], args.min_voice_gap) for r in rows),
               "speakers_found": {str(k): sum(r["speakers"] == k for r in rows) for k in sorted({r["speakers"] for r in rows})},
               "one_voice_recordings": 2 * len(rows),
               "one_voice_split": round(sum(n > 1 for r in rows for n in r["speakers_one_voice"]) / (2 * len(rows)), 4),
               "diarize_s_per_audio_min": round(60 * sum(r["diarize_s"] for r in rows) / sum(r["duration_s"] for r in rows), 3)}
    if transcriber is not None:
        distinct_rows = [r for r in rows if _distinct_voices(r["voice_gap_cents"], args.min_voice_gap)]
        talk_over_rows = [r for r in rows if r["overlap"]]
        without_talk_over = [r for r in rows if not r["overlap"]]
        summary.update({
            "role_accuracy_stereo": _share(rows, "agent_right_stereo"),
            "role_accuracy_mono": _share(rows, "agent_right_mono"),
            "role_accuracy_mono_distinct_voices": _share(distinct_rows, "agent_right_mono"),
            "split_by_content": sum(r["split_by_content"] for r in rows),
            "mono_same_hits_as_stereo": _share(rows, "same_hits_as_stereo"),
            "mono_same_hits_as_stereo_without_talk_over": _share(without_talk_over, "same_hits_as_stereo"),
            "mono_same_hits_as_stereo_talk_over": _share(talk_over_rows, "same_hits_as_stereo"),
            "mono_same_hits_rules_checked_on_both": _share(rows, "same_hits_checked_on_both"),
            "mono_same_hits_rules_checked_on_both_talk_over": _share(talk_over_rows, "same_hits_checked_on_both"),
            "mono_rules_only_in_mono": sum(len(set(r["hits_mono"]) - set(r["hits_stereo"])) for r in rows),
            "mono_rules_only_in_stereo": sum(len(set(r["hits_stereo"]) - set(r["hits_mono"])) for r in rows),
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
    suffix = "" if args.talk_over == "every-third" else "_no_talk_over"
    out = args.out or PROJECT_ROOT / f"benchmarks/results/diarization_{set_name}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "calls": rows}, ensure_ascii=False, indent=2))
    print(json.dumps(summary, indent=2))
    return 0


def _roles(recording: Recording, audio: DecodedAudio, mono: np.ndarray, diarization, one_voice,  # type: ignore[no-untyped-def]
           reference: Annotation, script: dict, transcriber, settings: Settings, rubric) -> dict:
    """Roles on the stereo call and on its mono mix (and the mix's speakers after role detection,
    which may split one voice in two by what is said); each clean channel's speakers after role
    detection (one voice alone, transcribed as in the stereo call)."""
    agent_channel = script.get("agent_channel")
    stereo = transcribe_recording(recording, audio, transcriber, settings.asr)
    one_voice_speakers = [len(_speakers(_one_voice_transcript(stereo, channel, one_voice[channel])))
                          for channel in (0, 1)]
    stereo = assign_roles(stereo, agent_channel="auto", metadata=recording.metadata)
    mono_audio = DecodedAudio(mono[None, :])
    mono_recording = recording.model_copy(update={"num_channels": 1})
    started = time.perf_counter()
    mono_transcript = transcribe_recording(mono_recording, mono_audio, transcriber, settings.asr,
                                           diarization=diarization)
    asr_mono_s = time.perf_counter() - started
    content_split = split_by_content(mono_transcript, diarization)
    mono_transcript = assign_roles(mono_transcript, metadata=recording.metadata, diarization=diarization)
    final = diarization.model_copy(update={"segments": content_split.segments}) if content_split else diarization
    final_hypothesis = hypothesis_annotation(final)
    agents = mono_transcript.roles.agent_speakers
    agent_right_mono = None if agent_channel is None else agent_found(mono_transcript, reference, final_hypothesis,
                                                                       agent_channel)
    # The rules each card breaks (on a talk-over call, the stereo card is of the delayed channels too).
    stereo_card, mono_card = (score_transcript(transcript, rubric, audio="") for transcript in (stereo, mono_transcript))
    stereo_hits, mono_hits = (sorted({hit.rule_id for hit in card.hits}) for card in (stereo_card, mono_card))
    # Rules one card could not judge (on mono: interruption; with roles unknown, every role's rule).
    not_checked = set(stereo_card.not_applicable) | set(mono_card.not_applicable)
    return {"agent_right_stereo": None if agent_channel is None else stereo.roles.agent_channel == agent_channel,
            "stereo_confidence": stereo.roles.confidence,
            "agent_right_mono": agent_right_mono, "mono_confidence": mono_transcript.roles.confidence,
            "agent_is_the_one_voice": bool(agents) and len(_speakers(mono_transcript)) == 1,
            "split_by_content": content_split is not None, "speakers_one_voice_after_roles": one_voice_speakers,
            "asr_mono_s": round(asr_mono_s, 3), "final_hypothesis": final_hypothesis,
            "hits_stereo": stereo_hits, "hits_mono": mono_hits,
            "not_checked_on_both": sorted(not_checked), "same_hits_as_stereo": stereo_hits == mono_hits,
            "same_hits_checked_on_both": (sorted(set(stereo_hits) - not_checked) == sorted(set(mono_hits) - not_checked))}


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


def _voice_gap(script: dict) -> int | None:
    """Cents between the agent's and the customer's voice, as the script says (None if it does not)."""
    voices = script.get("voices") or {}
    if "agent" not in voices or "customer" not in voices:
        return None
    return abs(voices["agent"].get("pitch_cents", 0) - voices["customer"].get("pitch_cents", 0))


def _distinct_voices(gap: int | None, min_voice_gap: int) -> bool:
    """Whether the script says the two voices are at least ``min_voice_gap`` cents apart."""
    return gap is not None and gap >= min_voice_gap


def _share(rows: list[dict], key: str) -> float | None:
    """The share of rows where ``key`` is true, of those where it is known."""
    known = [r[key] for r in rows if r[key] is not None]
    return round(sum(known) / len(known), 4) if known else None


def _value(metric: DiarizationErrorRate) -> float | None:
    return round(abs(metric), 4) if metric.results_ else None


if __name__ == "__main__":
    sys.exit(main())
