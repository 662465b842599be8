"""Mono calls decoded one voice at a time vs at once: time and agreement with the stereo card.

    .venv/bin/python benchmarks/bench_mono_decoding.py --set roles_dev [--limit N]

Each stereo call of the set is mixed down to mono (as in bench_diarization.py, without talk-over)
and diarized once; the mix is then transcribed twice in the same process, with
``[asr] decode_by_speaker`` off (the mix decoded at once, its words shared out by voice) and on
(each voice that sound tells apart decoded by itself: ``transcribe.speaker_streams``), the order
alternating from call to call. Both transcripts get roles and are scored with the configured
rubric; each mono card is compared with the stereo card of the same call (the rules each breaks,
``interruption`` aside: it is not judged on mono).

Figures (benchmarks/results/mono_decoding_<set>.json), over all calls and over the calls where
sound told two or more voices apart (the only calls the setting changes):
* ASR seconds for each way, and their ratio;
* the share of mono cards breaking the same rules as the stereo card, each way;
* on the calls told apart by sound, the number whose agent is found on mono, each way (the first
  agent speaker maps to the agent's channel, as in bench_diarization.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import yaml
from bench_diarization import SETS, agent_found, hypothesis_annotation, mono_call

from qa_pipeline.asr import get_transcriber
from qa_pipeline.audio import DecodedAudio, read_recording
from qa_pipeline.diarization import EmbeddingDiarizer
from qa_pipeline.pipeline import AUDIO_SUFFIXES
from qa_pipeline.roles import assign_roles
from qa_pipeline.rubric.engine import score_transcript
from qa_pipeline.rubric.schema import load_rubric
from qa_pipeline.settings import PROJECT_ROOT, Settings
from qa_pipeline.transcribe import transcribe_recording

warnings.filterwarnings("ignore", message=".*uem.*")
WAYS = {"at_once": False, "by_speaker": True}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="roles_dev")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    settings = Settings()
    calls_dir, scripts_dir = SETS[args.set]
    if not calls_dir.is_dir():
        print(f"{calls_dir}: no such folder (make the calls first: see the README, 'Measuring')", file=sys.stderr)
        return 2
    files = sorted(p for p in calls_dir.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)[: args.limit]
    transcriber = get_transcriber(settings)
    diarizer = EmbeddingDiarizer(settings.diarization)
    rubric = load_rubric(settings.rubric)
    rows = []
    for index, path in enumerate(files):
        script_path = scripts_dir / f"{path.stem}.yaml"
        agent_channel = yaml.safe_load(script_path.read_text("utf-8")).get("agent_channel") if script_path.is_file() else None
        recording, audio = read_recording(path, settings=settings.audio)
        if audio.num_channels != 2:
            continue
        stereo = assign_roles(transcribe_recording(recording, audio, transcriber, settings.asr), agent_channel="auto",
                              metadata=recording.metadata)
        stereo_hits = _hits(stereo, rubric)
        mono, reference = mono_call(audio)
        diarization = diarizer.diarize(mono)
        mono_audio = DecodedAudio(mono[None, :])
        mono_recording = recording.model_copy(update={"num_channels": 1})
        row = {"call": recording.call_id, "speakers": diarization.num_speakers,
               "told_apart_by_sound": diarization.num_speakers >= 2 and not diarization.two_voice_splits,
               "hits_stereo": stereo_hits}
        ways = list(WAYS.items()) if index % 2 == 0 else list(WAYS.items())[::-1]
        for way, by_speaker in ways:
            options = settings.asr.model_copy(update={"decode_by_speaker": by_speaker})
            started = time.perf_counter()
            transcript = transcribe_recording(mono_recording, mono_audio, transcriber, options, diarization=diarization)
            row[f"asr_s_{way}"] = round(time.perf_counter() - started, 3)
            transcript = assign_roles(transcript, metadata=recording.metadata, diarization=diarization)
            row[f"hits_{way}"] = _hits(transcript, rubric)
            row[f"same_hits_{way}"] = row[f"hits_{way}"] == stereo_hits
            if agent_channel is not None and row["told_apart_by_sound"]:
                # Sound's speakers: no split by what is said renames them on these calls.
                row[f"agent_right_{way}"] = agent_found(transcript, reference, hypothesis_annotation(diarization),
                                                        agent_channel)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    apart = [row for row in rows if row["told_apart_by_sound"]]
    summary = {"set": args.set, "calls": len(rows), "calls_told_apart_by_sound": len(apart)}
    for name, group in (("all", rows), ("told_apart", apart)):
        if not group:
            continue
        for way in WAYS:
            summary[f"{name}_asr_s_{way}"] = round(sum(row[f"asr_s_{way}"] for row in group), 1)
            summary[f"{name}_same_hits_{way}"] = round(sum(row[f"same_hits_{way}"] for row in group) / len(group), 4)
            if name == "told_apart":
                summary[f"{name}_agent_right_{way}"] = sum(bool(row.get(f"agent_right_{way}")) for row in group)
        summary[f"{name}_asr_time_by_speaker_over_at_once"] = round(
            summary[f"{name}_asr_s_by_speaker"] / summary[f"{name}_asr_s_at_once"], 3)
    out = PROJECT_ROOT / f"benchmarks/results/mono_decoding_{args.set}.json"
    out.write_text(json.dumps({"summary": summary, "calls": rows}, ensure_ascii=False, indent=2))
    print(json.dumps(summary, indent=2))
    return 0


def _hits(transcript, rubric) -> list[str]:  # type: ignore[no-untyped-def]
    """The rules the transcript's card breaks, interruption aside (not judged on mono)."""
    card = score_transcript(transcript, rubric, audio="")
    return sorted({hit.rule_id for hit in card.hits} - {"interruption"})


if __name__ == "__main__":
    raise SystemExit(main())
