"""Speech recognition: the ``Transcriber`` protocol and its faster-whisper adapter.

The adapter is the only module that imports ``faster_whisper`` and ``ctranslate2``. Models are
loaded once per process (``get_transcriber`` is cached on what identifies a loaded model) and
never per call. Stereo channels are decoded in parallel by separate model workers: on a small CPU
machine that beats giving one decode all the threads.
"""

from __future__ import annotations

import os
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from qa_pipeline.asr_guards import is_repetition_loop
from qa_pipeline.audio import SAMPLE_RATE_HZ, speech_regions
from qa_pipeline.errors import ModelLoadError
from qa_pipeline.registry import ModelRegistry, ResolvedModel
from qa_pipeline.settings import ASRSettings, Settings
from qa_pipeline.text import joined_in_words, to_simplified
from qa_pipeline.types import AsrProvenance, Word, round_s

SKIPPED_SPEECH_S = 2.0  # this much speech without a word was skipped by the decoder
MAX_WORD_S = 1.5  # a word lasting longer than this is stretched over speech it did not decode
# Tokens a decode of a skipped stretch may write: Mandarin is ~1.35 Whisper tokens a character and
# rarely over 7 characters a second, so 16 a second leaves room; a loop stops there instead of at
# Whisper's 448 (one 6 s stretch looping at three temperatures took 24 s).
HOLE_TOKENS_PER_S = 16
HOLE_TOKENS_BASE = 24
# A skipped stretch decoded again keeps only confident text: on its clip's silent tail Whisper
# writes short sentences of its own (「这些人都不认识」, log-probability -1.8; real text: -0.3 to -0.6).
HOLE_MIN_AVG_LOGPROB = -1.0
MAX_CHUNK_S = 30.0  # speech decoded at once: one Whisper window (speech_chunks)
VAD_SPEECH_PAD_S = 0.4  # speech regions are decoded with this much of their surroundings (faster-whisper's)
# Whisper's word times run on over pauses: a word after a pause starts where the word before it
# ended (faster-whisper trims such words only at sentence ends). Only this much per character,
# up to the word's end, is taken as where it was said.
SPOKEN_CHAR_S = 0.3


@dataclass(frozen=True, slots=True)
class AsrSegment:
    """One decoded stretch of speech on one channel, times relative to the channel's start."""

    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


class Transcriber(Protocol):
    """Turns 16 kHz mono float32 samples into segments of Simplified Chinese text."""

    @property
    def provenance(self) -> AsrProvenance: ...

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]: ...

    def transcribe_channels(self, channels: list[np.ndarray]) -> list[list[AsrSegment]]: ...


@dataclass(frozen=True, slots=True)
class DevicePlan:
    """Where and how a model runs, once ``auto`` values are resolved."""

    device: str
    compute_type: str
    cpu_threads: int
    num_workers: int


def plan_device(settings: ASRSettings, *, cuda_devices: int | None = None, cpu_count: int | None = None) -> DevicePlan:
    """Resolve ``device: auto`` (CUDA if present), ``compute_type: auto`` (float16 on CUDA, int8 on
    CPU) and ``cpu_threads: 0`` (the cores shared among the workers).

    >>> plan_device(ASRSettings(device="auto", compute_type="auto"), cuda_devices=1, cpu_count=16)
    DevicePlan(device='cuda', compute_type='float16', cpu_threads=8, num_workers=2)
    >>> plan_device(ASRSettings(device="auto", compute_type="auto"), cuda_devices=0, cpu_count=2)
    DevicePlan(device='cpu', compute_type='int8', cpu_threads=1, num_workers=2)
    """
    if cuda_devices is None:
        cuda_devices = _cuda_device_count() if settings.device in ("auto", "cuda") else 0
    device = settings.device
    if device == "auto":
        device = "cuda" if cuda_devices > 0 else "cpu"
    elif device == "cuda" and cuda_devices == 0:
        raise ModelLoadError("ZHIJIAN_ASR__DEVICE=cuda but no CUDA device is visible; use 'cpu' or 'auto'")
    compute_type = settings.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    cores = cpu_count or os.cpu_count() or 1
    cpu_threads = settings.cpu_threads or max(1, cores // settings.num_workers)
    return DevicePlan(device, compute_type, cpu_threads, settings.num_workers)


class FasterWhisperTranscriber:
    """Whisper through faster-whisper (CTranslate2), with Silero VAD and word timestamps."""

    def __init__(self, model: ResolvedModel, settings: ASRSettings) -> None:
        try:
            from faster_whisper import WhisperModel  # noqa: PLC0415
        except ImportError as exc:  # pragma: no cover - faster-whisper is a core dependency
            raise ModelLoadError("faster-whisper is not installed; run: pip install faster-whisper") from exc
        self._settings = settings
        self._model_info = model
        self._plan = plan_device(settings)
        try:
            self._model = WhisperModel(
                str(model.path),
                device=self._plan.device,
                compute_type=self._plan.compute_type,
                cpu_threads=self._plan.cpu_threads,
                num_workers=self._plan.num_workers,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelLoadError(
                f"model {model.name!r} at {model.path} could not be loaded on {self._plan.device}/"
                f"{self._plan.compute_type}: {exc}"
            ) from exc
        self._pool = ThreadPoolExecutor(max_workers=self._plan.num_workers, thread_name_prefix="asr")

    @property
    def provenance(self) -> AsrProvenance:
        s = self._settings
        return AsrProvenance(
            engine="faster-whisper",
            model=self._model_info.name,
            model_revision=self._model_info.revision,
            options={
                "language": s.language,
                "beam_size": s.beam_size,
                "no_repeat_ngram_size": s.no_repeat_ngram_size,
                "temperatures": ",".join(map(str, s.temperatures)),
                "device": self._plan.device,
                "compute_type": self._plan.compute_type,
                "vad_filter": s.vad_filter,
                "initial_prompt": s.initial_prompt,
                "hotwords": s.hotwords_text,
            },
        )

    def transcribe_channels(self, channels: list[np.ndarray]) -> list[list[AsrSegment]]:
        """Decode each channel; channels run in parallel, one model worker each."""
        return list(self._pool.map(self.transcribe, channels))

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        """Decode speech in ``samples``; speech the decoder skipped is decoded again on its own.

        Whisper sometimes jumps ahead: it stretches a word or a segment over seconds of speech it
        never wrote, or starts its next segment far later (seen on mixed mono calls: one sentence
        for 30 s of dialogue), or loops on one phrase over all of it (「请问有什么好」 × 20). Speech
        that VAD finds and no word covers, for at least ``SKIPPED_SPEECH_S``, is cut out and
        decoded by itself, once; a loop's words count as covering nothing.
        """
        segments = decode_skipped_speech(samples, self._speech_regions(samples), self._decode)
        return [converted for segment in segments if (converted := _convert(segment)) is not None]

    def _speech_regions(self, samples: np.ndarray) -> list[tuple[float, float]]:
        """The speech VAD finds in ``samples``, with faster-whisper's padding and no minimum length."""
        return speech_regions(samples, min_silence_s=self._settings.min_silence_duration_ms / 1000,
                              speech_pad_s=VAD_SPEECH_PAD_S, min_speech_s=0.0)

    def _decode(self, samples: np.ndarray, speech_s: list[tuple[float, float]] | None = None, *,
                hole: bool = False) -> list[Any]:
        """faster-whisper segments of the speech in ``samples`` (``speech_s``, VAD's regions, when
        the caller has them; all of ``samples`` with ``vad_filter`` off). A hole is decoded without
        hotwords (on a clip that may start mid-sentence they get recited) and may write only as
        many tokens as its length can hold (``hole_token_budget``). No temperature fallback for
        holes either: on the evaluation sets every text it gave was invented, on the silent tail
        of the clip (「这些人都不认识」)."""
        s = self._settings
        if not s.vad_filter:
            regions = [(0.0, len(samples) / SAMPLE_RATE_HZ)]
        else:
            regions = self._speech_regions(samples) if speech_s is None else speech_s
        if not regions:
            return []
        # The speech end to end, a window's worth at a time (``speech_chunks``); the times are put
        # back on the recording's timeline here (``restore_times``), not by faster-whisper.
        restored = []
        for chunk in speech_chunks(regions, MAX_CHUNK_S):
            speech = np.concatenate([samples[round(start_s * SAMPLE_RATE_HZ) : round(end_s * SAMPLE_RATE_HZ)]
                                     for start_s, end_s in chunk])
            segments, _info = self._model.transcribe(
                speech,
                language=s.language,
                beam_size=s.beam_size,
                no_repeat_ngram_size=s.no_repeat_ngram_size,
                temperature=list(s.temperatures),
                initial_prompt=s.initial_prompt,
                hotwords=None if hole else s.hotwords_text,
                max_new_tokens=hole_token_budget(len(speech) / SAMPLE_RATE_HZ) if hole else None,
                condition_on_previous_text=False,  # avoids Whisper's repetition loops on long audio
                vad_filter=False,
                word_timestamps=True,
            )
            restored.extend(restore_times(list(segments), chunk))
        return restored


def speech_chunks(regions_s: Sequence[tuple[float, float]], max_s: float) -> list[list[tuple[float, float]]]:
    """Consecutive speech regions grouped into chunks of at most ``max_s`` of speech (a region
    longer than that is a chunk by itself), each decoded on its own.

    faster-whisper decodes long audio a 30 s window at a time, each window starting where the
    last segment of the one before ended. On a quarter of an hour of one party's speech put end
    to end, one misplaced end made it read a stretch twice, loop (「请问请问…」) or carry a
    phrase into the wrong place; a chunk that fits one window starts where its speech starts.

    >>> speech_chunks([(0.0, 10.0), (12.0, 25.0), (30.0, 40.0), (41.0, 90.0), (95.0, 96.0)], 30.0)
    [[(0.0, 10.0), (12.0, 25.0)], [(30.0, 40.0)], [(41.0, 90.0)], [(95.0, 96.0)]]
    """
    chunks: list[list[tuple[float, float]]] = []
    length_s = 0.0
    for start_s, end_s in regions_s:
        if chunks and length_s + (end_s - start_s) <= max_s:
            chunks[-1].append((start_s, end_s))
            length_s += end_s - start_s
        else:
            chunks.append([(start_s, end_s)])
            length_s = end_s - start_s
    return chunks


def spoken_span(start_s: float, end_s: float, text: str) -> tuple[float, float]:
    """Where a word that Whisper dates ``start_s``–``end_s`` was said: its end, and at most
    ``SPOKEN_CHAR_S`` per character before it.

    The agent's 「您」 after the customer's 「喂，你好」 comes from Whisper as 1.36–2.44 s when it
    was said at about 2.2–2.44 s.

    >>> spoken_span(1.36, 2.44, "您")
    (2.14, 2.44)
    >>> spoken_span(5.0, 5.4, "服务。")
    (5.0, 5.4)
    """
    return max(start_s, round(end_s - SPOKEN_CHAR_S * _spoken_characters(text), 3)), end_s


def _spoken_characters(text: str) -> int:
    """How many characters of ``text`` are said (punctuation aside), at least one."""
    return max(sum(character.isalnum() for character in text), 1)


def restore_times(segments: Sequence[Any], regions_s: Sequence[tuple[float, float]]) -> list[Any]:
    """faster-whisper ``segments`` decoded from the speech ``regions_s`` put end to end, with their
    times on the timeline the regions come from.

    A word goes to the region where it was said (``spoken_span``), and stays inside it.
    faster-whisper's own VAD filter goes by the word's middle instead, and Whisper starts the
    first word after a pause where the word before it ended, so that word was dated to the end
    of the region before: on an agent's channel, 「那边线路在维修」, said after the customer's
    turn, came out as 「地址说一下那」 + 「边线路在维修」. Whisper's words are mostly single
    characters: those of one dictionary word (``text.joined_in_words``: 「您」「好」) are said in
    one breath and go to one region, the one where the whole word was said.
    """
    ends_on_speech_s = np.cumsum([end_s - start_s for start_s, end_s in regions_s]).tolist()
    last = len(regions_s) - 1

    def on_timeline(time_s: float, region: int) -> float:
        start_s, end_s = regions_s[region]
        return round(min(max(start_s + time_s - (ends_on_speech_s[region] - (end_s - start_s)), start_s), end_s), 3)

    def region_of(span_s: tuple[float, float]) -> int:
        return min(bisect_left(ends_on_speech_s, sum(span_s) / 2), last)

    restored = []
    for segment in segments:
        if not segment.words:
            start_s = on_timeline(segment.start, min(bisect_right(ends_on_speech_s, segment.start), last))
            end_s = on_timeline(segment.end, min(bisect_left(ends_on_speech_s, segment.end), last))
            restored.append(replace(segment, start=start_s, end=max(end_s, start_s)))
            continue
        words = []
        for group in _dictionary_words(segment.words):
            first, last_word = group[0], group[-1]
            region = region_of(spoken_span(first.start, last_word.end, "".join(word.word for word in group)))
            placed = [replace(word, start=on_timeline(word.start, region), end=on_timeline(word.end, region))
                      for word in group]
            words.extend(_with_length(placed, regions_s[region]))
        restored.append(replace(segment, start=words[0].start, end=words[-1].end, words=words))
    return restored


def _with_length(words: list[Any], region_s: tuple[float, float]) -> list[Any]:
    """The words of one dictionary word, kept inside their region, none of them without length.

    A character Whisper dated outside the region its word went to comes out of the clamp with no
    length (「您」 2.45–2.45 s before 「好」 2.45–3.2 s): the word's span is then shared among its
    characters. A word left with no span at all (dated wholly past its region's edge) gets up to
    ``SPOKEN_CHAR_S`` a character, inside the region, from the edge it was clamped to.

    >>> from faster_whisper.transcribe import Word
    >>> you, good = Word(start=2.45, end=2.45, word="您", probability=0.9), Word(2.45, 3.2, "好", 0.9)
    >>> [(word.start, word.end) for word in _with_length([you, good], (2.45, 16.88))]
    [(2.45, 2.825), (2.825, 3.2)]
    >>> [(word.start, word.end) for word in _with_length([Word(5.0, 5.0, "后", 0.4)], (3.0, 5.0))]
    [(4.7, 5.0)]
    """
    if all(word.end > word.start for word in words):
        return words
    region_start_s, region_end_s = region_s
    start_s, end_s = words[0].start, words[-1].end
    characters = [_spoken_characters(word.word) for word in words]
    if end_s <= start_s:
        length_s = SPOKEN_CHAR_S * sum(characters)
        if start_s >= region_end_s:
            start_s = max(region_end_s - length_s, region_start_s)
        else:
            end_s = min(start_s + length_s, region_end_s)
    edges = np.round(start_s + (end_s - start_s) * np.cumsum([0, *characters]) / sum(characters), 3).tolist()
    return [replace(word, start=edges[i], end=edges[i + 1]) for i, word in enumerate(words)]


def _dictionary_words(words: Sequence[Any]) -> list[list[Any]]:
    """faster-whisper's ``words`` in runs that make dictionary words (``text.joined_in_words``)."""
    groups = [[words[0]]]
    for word, joined in zip(words[1:], joined_in_words([word.word for word in words])):
        if joined:
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def hole_token_budget(duration_s: float) -> int | None:
    """How many tokens the decode of a skipped stretch of ``duration_s`` may write; None (Whisper's
    own limit of 448 with the prompt) for stretches long enough to need it.

    >>> hole_token_budget(6.0)
    120
    >>> hole_token_budget(12.0)
    216
    >>> hole_token_budget(13.0) is None
    True
    """
    budget = int(HOLE_TOKENS_BASE + HOLE_TOKENS_PER_S * duration_s)
    # Prompt + new tokens must fit in Whisper's 448. faster-whisper's prompt holds up to 223 tokens
    # of ``initial_prompt`` and 5 of its own: a larger budget fails with a long prompt.
    return budget if budget <= 448 - 223 - 5 else None


def decode_skipped_speech(
    samples: np.ndarray, speech_s: list[tuple[float, float]], decode: Callable[..., list[Any]]
) -> list[Any]:
    """``decode(samples, speech_s)``, plus ``decode(clip, hole=True)`` of each stretch of speech
    it skipped or looped over (see ``FasterWhisperTranscriber.transcribe``), times from the start
    of ``samples``. ``speech_s`` are the speech regions VAD found in ``samples``. A loop is
    replaced by what the decode of its stretch gives; it stays (for the hallucination guard to
    drop and count) when its stretch is not decoded again. Text decoded again with an average
    log-probability under ``HOLE_MIN_AVG_LOGPROB`` is left out."""
    segments = decode(samples, speech_s)
    loops = {id(segment) for segment in segments if is_repetition_loop(segment.text)}
    holes = _uncovered_speech(speech_s, [segment for segment in segments if id(segment) not in loops])
    if not holes:
        return segments
    segments = [_trimmed(segment) for segment in segments
                if id(segment) not in loops or not any(_overlaps(segment, hole) for hole in holes)]
    for start_s, end_s in holes:
        offset_s = max(start_s - 0.2, 0.0)
        clip = samples[int(offset_s * SAMPLE_RATE_HZ) : int((end_s + 0.2) * SAMPLE_RATE_HZ)]
        segments.extend(_shifted(again, offset_s) for again in decode(clip, hole=True)
                        if again.avg_logprob >= HOLE_MIN_AVG_LOGPROB)
    return sorted(segments, key=lambda segment: segment.start)


def _uncovered_speech(speech_s: list[tuple[float, float]], segments: list[Any]) -> list[tuple[float, float]]:
    """Stretches of at least ``SKIPPED_SPEECH_S`` of the speech regions ``speech_s`` that no
    decoded word covers (a word covers at most ``MAX_WORD_S`` from its start: a longer one is
    stretched over what it skipped)."""
    covered = sorted((word.start, min(word.end, word.start + MAX_WORD_S))
                     for segment in segments for word in segment.words or ())
    holes = []
    for position_s, end_s in speech_s:
        for word_start_s, word_end_s in covered:
            if word_end_s <= position_s or word_start_s >= end_s:
                continue
            if word_start_s - position_s >= SKIPPED_SPEECH_S:
                holes.append((position_s, word_start_s))
            position_s = max(position_s, word_end_s)
        if end_s - position_s >= SKIPPED_SPEECH_S:
            holes.append((position_s, end_s))
    return holes


def _overlaps(segment: Any, span: tuple[float, float]) -> bool:
    return segment.start < span[1] and segment.end > span[0]


def _trimmed(segment: Any) -> Any:
    """The segment without the stretches it did not decode: no word longer than ``MAX_WORD_S``,
    the end at its last word."""
    if not segment.words:
        return segment
    words = [replace(word, end=min(word.end, word.start + MAX_WORD_S)) for word in segment.words]
    return replace(segment, words=words, end=max(word.end for word in words))


def _shifted(segment: Any, offset_s: float) -> Any:
    """A faster-whisper segment decoded from a clip, with times from the start of the channel."""
    words = [replace(word, start=word.start + offset_s, end=word.end + offset_s) for word in segment.words or ()]
    return replace(segment, start=segment.start + offset_s, end=segment.end + offset_s, words=words)


def _convert(segment: object) -> AsrSegment | None:
    """A faster-whisper segment as an ``AsrSegment`` in Simplified Chinese (None if empty)."""
    text = to_simplified(segment.text.strip())  # type: ignore[attr-defined]
    if not text:
        return None
    words = tuple(
        Word(
            start_s=round_s(max(word.start, 0.0)),
            end_s=round_s(max(word.end, word.start, 0.0)),
            text=to_simplified(word.word.strip()),
            probability=min(max(word.probability, 0.0), 1.0),
        )
        for word in (segment.words or ())  # type: ignore[attr-defined]
        if word.word.strip()
    )
    start_s = round_s(max(segment.start, 0.0))  # type: ignore[attr-defined]
    return AsrSegment(
        start_s=start_s,
        end_s=round_s(max(segment.end, start_s)),  # type: ignore[attr-defined]
        text=text,
        words=words,
        avg_logprob=segment.avg_logprob,  # type: ignore[attr-defined]
        no_speech_prob=segment.no_speech_prob,  # type: ignore[attr-defined]
    )


def get_transcriber(settings: Settings) -> Transcriber:
    """The process-wide transcriber for these settings (loaded on first use, then reused)."""
    registry = ModelRegistry.load(settings.models_dir / "registry.yaml", settings.resolved_model_cache_dir)
    resolved = registry.resolve(settings.asr.model)
    return _load_transcriber(resolved, settings.asr)


@lru_cache(maxsize=4)
def _load_transcriber(model: ResolvedModel, settings: ASRSettings) -> Transcriber:
    return FasterWhisperTranscriber(model, settings)


def _cuda_device_count() -> int:
    try:
        import ctranslate2  # noqa: PLC0415

        return ctranslate2.get_cuda_device_count()
    except (ImportError, RuntimeError):
        return 0
