"""Speech recognition: the ``Transcriber`` protocol and its faster-whisper adapter.

The adapter is the only module that imports ``faster_whisper`` and ``ctranslate2``. Models are
loaded once per process (``get_transcriber`` is cached on what identifies a loaded model) and
never per call. Stereo channels are decoded in parallel by separate model workers: on a small CPU
machine that beats giving one decode all the threads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from qa_pipeline.errors import ModelLoadError
from qa_pipeline.registry import ModelRegistry, ResolvedModel
from qa_pipeline.settings import ASRSettings, Settings
from qa_pipeline.text import to_simplified
from qa_pipeline.types import AsrProvenance, Word, round_s


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
        s = self._settings
        segments, _info = self._model.transcribe(
            samples,
            language=s.language,
            beam_size=s.beam_size,
            no_repeat_ngram_size=s.no_repeat_ngram_size,
            temperature=list(s.temperatures),
            initial_prompt=s.initial_prompt,
            hotwords=s.hotwords_text,
            condition_on_previous_text=False,  # avoids Whisper's repetition loops on long audio
            vad_filter=s.vad_filter,
            vad_parameters={"min_silence_duration_ms": s.min_silence_duration_ms},
            word_timestamps=True,
        )
        return [converted for segment in segments if (converted := _convert(segment)) is not None]


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
