"""Transcription stage: a decoded recording in, a ``Transcript`` of turns out.

Stereo call-center recordings hold one party per channel: each channel is transcribed on its own
and the turns are interleaved by time. Mono recordings give one channel's turns (speakers are
told apart by diarization, a later stage).
"""

from __future__ import annotations

from qa_pipeline.asr import AsrSegment, Transcriber
from qa_pipeline.audio import DecodedAudio
from qa_pipeline.types import Recording, Transcript, Turn, Word, round_s


def transcribe_recording(
    recording: Recording,
    audio: DecodedAudio,
    transcriber: Transcriber,
    *,
    turn_split_gap_s: float = 1.0,
) -> Transcript:
    """Transcribe every channel and interleave the turns by start time.

    Args:
        recording: the facts about the audio (call id, hash, duration).
        audio: its decoded samples.
        transcriber: a loaded ASR adapter.
        turn_split_gap_s: a pause between two words longer than this starts a new turn (an ASR
            segment can span several utterances of one party while the other party talks).

    Returns:
        A transcript whose turns carry channel, speaker (``ch0``/``ch1``), text and word times;
        roles are still unknown (see ``roles.assign_roles``).
    """
    duration_s = recording.duration_s
    turns: list[Turn] = []
    for channel in range(audio.num_channels):
        for segment in transcriber.transcribe(audio.channel(channel)):
            for start_s, end_s, text, words in _split_at_pauses(segment, turn_split_gap_s):
                words = tuple(_clip_word(word, duration_s) for word in words)
                start_s = min(start_s, duration_s)
                turns.append(
                    Turn(
                        start_s=start_s,
                        end_s=min(max(end_s, start_s), duration_s),
                        channel=channel,
                        speaker=f"ch{channel}",
                        text=text,
                        words=words,
                    )
                )
    turns.sort(key=lambda turn: (turn.start_s, turn.channel))
    warnings = () if turns else ("no speech was recognised in the recording",)
    return Transcript(
        call_id=recording.call_id,
        recording_sha256=recording.sha256,
        duration_s=duration_s,
        num_channels=audio.num_channels,
        turns=tuple(turns),
        asr=transcriber.provenance,
        warnings=warnings,
    )


def _split_at_pauses(
    segment: AsrSegment, gap_s: float
) -> list[tuple[float, float, str, tuple[Word, ...]]]:
    """Cut a segment where its words pause for longer than ``gap_s``."""
    if len(segment.words) < 2:
        return [(segment.start_s, segment.end_s, segment.text, segment.words)]
    groups: list[list[Word]] = [[segment.words[0]]]
    for previous, word in zip(segment.words, segment.words[1:]):
        if word.start_s - previous.end_s > gap_s:
            groups.append([])
        groups[-1].append(word)
    if len(groups) == 1:
        return [(segment.start_s, segment.end_s, segment.text, segment.words)]
    return [
        (group[0].start_s, group[-1].end_s, "".join(word.text for word in group), tuple(group))
        for group in groups
    ]


def _clip_word(word: Word, duration_s: float) -> Word:
    if word.end_s <= duration_s:
        return word
    start_s = min(word.start_s, duration_s)
    return word.model_copy(update={"start_s": round_s(start_s), "end_s": round_s(duration_s)})
