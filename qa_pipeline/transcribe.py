"""Transcription stage: a decoded recording in, a ``Transcript`` of turns out.

Stereo call-center recordings hold one party per channel: the channels are decoded side by side
(speech only, VAD inside the adapter) and the turns interleaved by time. Segments that look
invented (prompt echoes, subtitle boilerplate, loops) are dropped and counted. Each turn keeps
the verbatim text and a normalized view with spoken numbers as digits. On a mono recording
with a diarization (``qa_pipeline.diarization``), each voice that sound tells apart is decoded
by itself, as a stereo channel is (``speaker_streams``); otherwise the mix is decoded at once and
its turns are cut by speaker (``split_by_speaker``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa_pipeline.asr import AsrSegment, Transcriber, spoken_span
from qa_pipeline.asr_guards import find_hotword_echo, is_hallucination
from qa_pipeline.audio import SAMPLE_RATE_HZ, DecodedAudio
from qa_pipeline.itn import inverse_normalize
from qa_pipeline.settings import ASRSettings, Settings
from qa_pipeline.text import normalize_for_matching
from qa_pipeline.types import Diarization, Recording, Transcript, Turn, Word, round_s
from qa_pipeline.vocabulary import VocabularyCorrector, build_corrector


def transcribe_recording(
    recording: Recording,
    audio: DecodedAudio,
    transcriber: Transcriber,
    options: ASRSettings | None = None,
    diarization: Diarization | None = None,
) -> Transcript:
    """Transcribe every channel and interleave the turns by start time.

    Args:
        recording: the facts about the audio (call id, hash, duration).
        audio: its decoded samples.
        transcriber: a loaded ASR adapter.
        options: the ASR settings the transcriber was given; used here for ``turn_split_gap_s``
            (a longer pause between words starts a new turn: an ASR segment can span several
            utterances of one party while the other talks), ``drop_hallucinations`` and the
            prompt and hotwords whose echoes are dropped, and the vocabulary whose homophones
            are rewritten (``correct_homophones``, ``vocabulary_files``).
        diarization: for a mono recording, who spoke when. With two or more speakers told
            apart by sound (no ``two_voice_splits`` left for role detection to choose from) and
            ``decode_by_speaker``, each speaker's speech is decoded by itself, the others'
            left out (``speaker_streams``), as the channels of a stereo call are: Whisper then
            does not run one party's words into the other's. Otherwise the mix is decoded at
            once and its turns are cut where the speaker changes, each word going to the
            speaker whose segment it falls in (what is said may still change the split).

    Returns:
        A transcript whose turns carry channel, speaker (``ch0``/``ch1``), text, normalized text
        and word times; roles are still unknown (see ``roles.assign_roles``).
    """
    options = options or ASRSettings()
    duration_s = recording.duration_s
    turns: list[Turn] = []
    dropped: dict[str, int] = {}
    corrector = vocabulary_corrector(options)
    by_speaker = (options.decode_by_speaker and diarization is not None and audio.num_channels == 1
                  and len({segment.speaker for segment in diarization.segments}) >= 2
                  and not diarization.two_voice_splits)
    if by_speaker:  # (channel, speaker or None, samples) of each decode
        sources = [(0, speaker, stream) for speaker, stream in speaker_streams(audio.channel(0), diarization).items()]
    else:
        sources = [(index, None, audio.channel(index)) for index in range(audio.num_channels)]
    per_source = transcriber.transcribe_channels([samples for _, _, samples in sources])
    for (channel, speaker, _), segments in zip(sources, per_source):
        for segment in segments:
            if options.drop_hallucinations:
                segment, reason = _guard(segment, options)
                if reason is not None:
                    dropped[reason] = dropped.get(reason, 0) + 1
                if segment is None:
                    continue
            if corrector is not None:
                segment = correct_segment(segment, corrector)
            for start_s, end_s, text, words in _split_at_pauses(segment, options.turn_split_gap_s):
                start_s = min(start_s, duration_s)
                turn = Turn(
                    start_s=start_s,
                    end_s=min(max(end_s, start_s), duration_s),
                    channel=channel,
                    speaker=speaker or f"ch{channel}",
                    text=text,
                    normalized_text=inverse_normalize(text),
                    words=tuple(_clip_word(word, duration_s) for word in words),
                )
                turns.append(turn if speaker is None else _with_diarization_confidence(turn, diarization))
    if diarization is not None and audio.num_channels == 1 and diarization.segments and not by_speaker:
        turns = [piece for turn in turns for piece in split_by_speaker(turn, diarization)]
    turns.sort(key=lambda turn: (turn.start_s, turn.channel))
    provenance = transcriber.provenance
    if corrector is not None:
        provenance = provenance.model_copy(
            update={"options": {**provenance.options, "vocabulary": corrector.fingerprint}}
        )
    transcript = Transcript(
        call_id=recording.call_id,
        recording_sha256=recording.sha256,
        duration_s=duration_s,
        num_channels=audio.num_channels,
        turns=tuple(turns),
        asr=provenance,
    )
    warnings = [] if turns else ["no speech was recognised in the recording"]
    warnings.extend(silent_channel_warnings(transcript.silent_channels))
    if dropped:
        reasons = ", ".join(f"{count} × {reason}" for reason, count in sorted(dropped.items()))
        warnings.append(f"dropped ASR text that looked invented: {reasons}")
    return transcript.model_copy(update={"warnings": tuple(warnings)})


# Raised when a code change makes other transcripts (text, turns, speakers, roles) from the same
# audio and settings, so that stored calls are inspected again. 2: mono voices told apart by what
# they say (roles.split_by_content). 3: more role cues (您/你, outbound calls), a quiet party's
# voice offered to that split, no mono turn left without a diarized speaker. 4: the normalized
# view reads colloquial amounts (三千五 → 3500) and keeps numeral words (万一, 千万) as words;
# loops over the hotwords are cut; mono voices barely apart are checked by what they say. 5: mono
# speaker segments leave out the short pauses inside them (diarization.leave_out_pauses). 6: a
# one-voice mono transcript is cut turn by turn by what each turn says (roles.split_by_sentences).
# 7: one mono voice that talks only like the agent is the agent (roles._lone_agent); a word goes
# to the voice where it ends (said_span), not to the one its run-on start falls in. 8: context
# corrections (an amount's 元 heard as 人, 下午 heard as 下五); the normalized view keeps 亿, drops
# thousands separators and reads 幺 heard as 要 more than once in a phone number. 9: one mono
# voice is sorted into agent and customer sentence by sentence, not turn by turn (roles.sentences).
# 10: 下五 before a measure word (明天下五个单) stays a number. 11: on mono, a short piece at a
# change of speaker that reads as the other party's is theirs (roles.move_edge_pieces). 12: mono
# voices told apart by sound are decoded one by one (speaker_streams). 13: the first word after a
# pause is dated where it was said, not at the end of the speech before the pause, and the
# characters of one dictionary word are dated together (asr.restore_times). 14: no character
# of such a word is left without length (asr._with_length); a whole mono turn sound was certain
# of stays with its voice (roles._heard_for_sure). 15: a party's speech is decoded at most 30 s
# at a time (asr.speech_chunks), not end to end over the whole call. 16: 是 heard as 十 before a
# number (话费十八十二元) is rewritten; the normalized view makes no number of a run that is none
# as said (十八千五百 → 十8500); 您好 is no 您 of address; two mono voices that both talk like
# the agent are sorted sentence by sentence (roles.split_by_content). 17: 星期 heard as 新七 is
# rewritten; on mono, a sentence talk-over ran both parties into is cut in two, and a pause after
# a possessive (我的｜工号是) ends no sentence (roles._sides_of_sentence, roles.sentences). 18: on
# mono, k = 2 is also fitted by speech region (diarization._two_voices), and a split that places
# the cues better replaces two voices that already talk as two parties (roles.split_by_content).
# 19: on mono, two voices sound set apart wrongly in places have the sentences that read as the
# other party's moved across (roles.move_sentences_across); agent phrases Whisper wrote with 你
# for 您 count as the phrases, on stereo too (roles.voice_evidence). 20: on mono, the first speaker
# is whoever says the first turn lasting a second; the closing 还有其他问题 / 感谢来电 are agent cues;
# the 您 of 谢谢您 / 麻烦您 is no sign of the agent (roles.voice_evidence).
TRANSCRIPT_REVISION = 20


def transcript_key(settings: Settings) -> str:
    """What identifies the transcripts these settings make, for the results store:
    ``Settings.fingerprint`` plus the words of the homophone vocabulary (the built-in list and the
    content of ``vocabulary_files``): after a word list is edited, the next batch transcribes
    the calls again instead of skipping them. ``TRANSCRIPT_REVISION`` does the same after an
    upgrade that makes other transcripts from the same audio and settings.

    Raises:
        ConfigurationError: a vocabulary file cannot be read.
    """
    corrector = vocabulary_corrector(settings.asr)
    words = corrector.fingerprint if corrector is not None else "-"
    return hashlib.sha256(f"{settings.fingerprint()}:{words}:{TRANSCRIPT_REVISION}".encode()).hexdigest()[:16]


def vocabulary_corrector(options: ASRSettings) -> VocabularyCorrector | None:
    """The homophone corrector these settings ask for, or None. Built once per process, and again
    only when a word list file changes."""
    if not options.correct_homophones:
        return None
    return _corrector(options.vocabulary_files, options.hotwords, _file_stamps(options.vocabulary_files))


@lru_cache(maxsize=4)
def _corrector(files: tuple[Path, ...], hotwords: tuple[str, ...], _stamps: tuple[object, ...]) -> VocabularyCorrector:
    return build_corrector(files, hotwords)


def _file_stamps(files: tuple[Path, ...]) -> tuple[object, ...]:
    """Modification time and size of each file (None if it cannot be read: building then says why)."""
    stamps: list[object] = []
    for path in files:
        try:
            stat = Path(path).stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def correct_segment(segment: AsrSegment, corrector: VocabularyCorrector) -> AsrSegment:
    """The segment with vocabulary homophones rewritten in its text and its words alike.

    Corrections are found on the words joined together (a word may hold part of a term) and
    written back character by character, so each word keeps its times.
    """
    if not segment.words:
        text = corrector.correct(segment.text)
        return segment if text == segment.text else replace(segment, text=text)
    joined = "".join(word.text for word in segment.words)
    corrected = corrector.correct(joined)
    if corrected == joined:
        return segment
    words, position = [], 0
    for word in segment.words:
        piece = corrected[position : position + len(word.text)]
        position += len(word.text)
        words.append(word if piece == word.text else word.model_copy(update={"text": piece}))
    return replace(segment, text=corrector.correct(segment.text), words=tuple(words))


def silent_channel_warnings(channels: Iterable[int]) -> list[str]:
    """The warning for each of a stereo call's ``Transcript.silent_channels``: one party only (the
    scorecard sends such a call to review)."""
    return [f"no speech was recognised on channel {channel}: only one party is heard (an unanswered call, "
            "or a muted or unrecorded channel?); rules about the other party have nothing to read"
            for channel in sorted(channels)]


# Speaker streams change from one speaker to the next over this long (a fade: no click for the
# decoder to hear at a change of speaker inside speech).
STREAM_FADE_S = 0.01
STREAM_CHUNK_S = 60  # streams are written this many seconds at a time
STREAM_MIN_NOISE = 1e-5  # the background noise of a recording with digital silence in it


def speaker_streams(samples: np.ndarray, diarization: Diarization) -> dict[str, np.ndarray]:
    """The mono ``samples`` once per diarized speaker, with only the line's background noise
    wherever another speaker is nearer.

    Every instant goes to the speaker of the nearest segment (inside one: that one's; in a pause:
    the nearer side's), so no speech is lost between the streams, even where the diarizer's VAD
    heard none; where segments of two speakers overlap, both streams keep it. The other speakers'
    stretches get noise at the level of the recording's quietest frames, not digital silence:
    Whisper knows digital silence only as the padding after the end of the audio, and on
    speech after it writes loops (「对此为此为此…」).

    >>> from qa_pipeline.types import SpeakerSegment
    >>> diarization = Diarization(segments=(SpeakerSegment(start_s=0.0, end_s=1.0, speaker="spk0"),
    ...                                     SpeakerSegment(start_s=2.0, end_s=3.0, speaker="spk1")),
    ...                           num_speakers=2, method="embedding")
    >>> speech = np.zeros(4 * SAMPLE_RATE_HZ, dtype=np.float32)
    >>> speech[:SAMPLE_RATE_HZ] = speech[2 * SAMPLE_RATE_HZ: 3 * SAMPLE_RATE_HZ] = 0.5
    >>> streams = speaker_streams(speech, diarization)
    >>> [(speaker, round(float(np.abs(stream[:SAMPLE_RATE_HZ]).mean()), 3),
    ...   round(float(np.abs(stream[2 * SAMPLE_RATE_HZ: 3 * SAMPLE_RATE_HZ]).mean()), 3))
    ...  for speaker, stream in streams.items()]
    [('spk0', 0.5, 0.0), ('spk1', 0.0, 0.5)]
    """
    speakers = list(dict.fromkeys(segment.speaker for segment in diarization.segments))
    centres_s = (np.arange(int(np.ceil(len(samples) / SAMPLE_RATE_HZ / STREAM_FADE_S))) + 0.5) * STREAM_FADE_S
    distances = np.stack([_distance_to_segments(centres_s, [(segment.start_s, segment.end_s)
                                                            for segment in diarization.segments
                                                            if segment.speaker == speaker])
                          for speaker in speakers])
    nearest = (distances <= distances.min(axis=0) + 1e-9).astype(np.float32)  # per 10 ms frame
    noise_level = _background_level(samples)
    noise = np.random.default_rng(0)  # the same noise for the same recording
    streams = {speaker: np.empty_like(samples) for speaker in speakers}
    chunk = STREAM_CHUNK_S * SAMPLE_RATE_HZ  # a 3-hour call is not held several times over in float64
    for start in range(0, len(samples), chunk):
        piece = samples[start: start + chunk]
        times_s = np.arange(start, start + len(piece)) / SAMPLE_RATE_HZ
        background = noise.normal(0.0, noise_level, len(piece)).astype(samples.dtype)
        for index, speaker in enumerate(speakers):
            kept = np.interp(times_s, centres_s, nearest[index]).astype(samples.dtype)
            streams[speaker][start: start + len(piece)] = piece * kept + background * (1 - kept)
    return streams


def _background_level(samples: np.ndarray) -> float:
    """The RMS of the recording's quietest frames: the 5th percentile of its 10 ms frames' RMS."""
    frame = int(STREAM_FADE_S * SAMPLE_RATE_HZ)
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    if not len(frames):
        return STREAM_MIN_NOISE
    energy = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frame
    return max(float(np.percentile(np.sqrt(energy), 5)), STREAM_MIN_NOISE)


def _distance_to_segments(times_s: np.ndarray, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    """Seconds from each time to the nearest of ``spans`` (0 inside one).

    >>> _distance_to_segments(np.array([0.0, 1.5, 2.5, 5.0]), [(3.0, 4.0), (1.0, 2.0)]).tolist()
    [1.0, 0.0, 0.5, 1.0]
    """
    ordered = sorted(spans)
    starts = np.array([start_s for start_s, _ in ordered] + [np.inf])
    ends_so_far = np.maximum.accumulate(np.array([end_s for _, end_s in ordered]))
    last = np.searchsorted(starts, times_s, side="right") - 1  # the last span starting at or before
    since_end = np.where(last >= 0, times_s - ends_so_far[np.maximum(last, 0)], np.inf)
    return np.minimum(np.maximum(since_end, 0), starts[last + 1] - times_s)


def _with_diarization_confidence(turn: Turn, diarization: Diarization) -> Turn:
    """A turn decoded from its speaker's stream, with the lowest confidence of that speaker's
    segments it overlaps (None when they have none)."""
    confidences = [segment.confidence for segment in diarization.segments
                   if segment.speaker == turn.speaker and segment.confidence is not None
                   and segment.start_s < turn.end_s and turn.start_s < segment.end_s]
    return turn.model_copy(update={"diarization_confidence": min(confidences)}) if confidences else turn


def split_by_speaker(turn: Turn, diarization: Diarization) -> list[Turn]:
    """Cut a mono turn where the diarized speaker changes (each word goes to the speaker whose
    segment overlaps most where it was said: ``said_span``); words outside every segment stay
    with their neighbours, and a turn outside them all goes to the nearest speaker (it must not
    make a speaker of its own)."""
    assigned = [diarization.speaker_at(*said_span(word)) for word in turn.words]
    known = [segment for segment in assigned if segment is not None]
    if not known:
        segment = diarization.speaker_at(turn.start_s, turn.end_s, max_distance_s=None)
        if segment is None:
            return [turn]
        return [turn.model_copy(update={"speaker": segment.speaker, "diarization_confidence": segment.confidence})]
    previous = known[0]
    for i, segment in enumerate(assigned):  # fill gaps from the left (the first known from the right)
        assigned[i] = previous = segment or previous
    groups: list[tuple[str, list[Word], list[float]]] = []  # speaker, words, confidences
    for word, segment in zip(turn.words, assigned):
        if not groups or groups[-1][0] != segment.speaker:
            groups.append((segment.speaker, [], []))
        groups[-1][1].append(word)
        if segment.confidence is not None:
            groups[-1][2].append(segment.confidence)
    return [turn_of_words(turn, words, speaker=speaker,
                          diarization_confidence=min(confidences) if confidences else None)
            for speaker, words, confidences in groups]


def turn_of_words(turn: Turn, words: Sequence[Word], **update: object) -> Turn:
    """A piece of ``turn`` holding ``words``: its text, normalized text and times from them (the
    start from its first word unless ``update`` says otherwise), anything else as in ``turn``."""
    text = "".join(word.text for word in words)
    return turn.model_copy(update={
        "start_s": words[0].start_s, "end_s": max(words[-1].end_s, words[0].start_s), "text": text,
        "normalized_text": inverse_normalize(text), "words": tuple(words), **update})


def said_span(word: Word) -> tuple[float, float]:
    """Where a word was said: its end, and at most ``asr.SPOKEN_CHAR_S`` per character before it
    (``asr.spoken_span``).

    >>> said_span(Word(start_s=1.36, end_s=2.44, text="您"))
    (2.14, 2.44)
    """
    start_s, end_s = spoken_span(word.start_s, word.end_s, word.text)
    return round_s(start_s), end_s


def _guard(segment: AsrSegment, options: ASRSettings) -> tuple[AsrSegment | None, str | None]:
    """The segment without invented text (None if nothing is left), and why text was dropped."""
    reason = is_hallucination(
        segment.text, avg_logprob=segment.avg_logprob, no_speech_prob=segment.no_speech_prob,
        prompt=options.initial_prompt,
    )
    if reason is not None:
        return None, reason
    if not options.hotwords or not segment.words:
        return segment, None
    pieces = [normalize_for_matching(word.text) for word in segment.words]
    echo = find_hotword_echo("".join(pieces), options.hotwords)
    if echo is None:
        return segment, None
    kept, kept_chars, position = [], 0, 0
    for word, piece in zip(segment.words, pieces):
        inside = echo[0] <= position and position + len(piece) <= echo[1] and piece
        if not inside:
            kept.append(word)
            kept_chars += len(piece)
        position += len(piece)
    if not kept_chars:
        return None, "recites the hotwords"
    text = "".join(word.text for word in kept)
    return replace(segment, text=text, words=tuple(kept), end_s=kept[-1].end_s), "recites the hotwords"


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
