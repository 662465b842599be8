"""Speech recognition: the ``Transcriber`` protocol and its faster-whisper adapter.

The adapter is the only module that imports ``faster_whisper``. Models are loaded once per process
(``get_transcriber`` is cached on what identifies a loaded model) and never per call.
"""

from __future__ import annotations

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


class FasterWhisperTranscriber:
    """Whisper through faster-whisper (CTranslate2), with Silero VAD and word timestamps."""

    def __init__(self, model: ResolvedModel, settings: ASRSettings) -> None:
        try:
            from faster_whisper import WhisperModel  # noqa: PLC0415
        except ImportError as exc:  # pragma: no cover - faster-whisper is a core dependency
            raise ModelLoadError("faster-whisper is not installed; run: pip install faster-whisper") from exc
        self._settings = settings
        self._model_info = model
        try:
            self._model = WhisperModel(
                str(model.path),
                device=settings.device,
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelLoadError(
                f"model {model.name!r} at {model.path} could not be loaded on {settings.device}/"
                f"{settings.compute_type}: {exc}"
            ) from exc

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
                "compute_type": s.compute_type,
                "vad_filter": s.vad_filter,
                "initial_prompt": s.initial_prompt,
            },
        )

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        s = self._settings
        segments, _info = self._model.transcribe(
            samples,
            language=s.language,
            beam_size=s.beam_size,
            initial_prompt=s.initial_prompt,
            condition_on_previous_text=False,  # avoids Whisper's repetition loops on long audio
            vad_filter=s.vad_filter,
            vad_parameters={"min_silence_duration_ms": s.min_silence_duration_ms},
            word_timestamps=True,
        )
        result = []
        for segment in segments:  # the generator does the work: materialize it here
            text = to_simplified(segment.text.strip())
            if not text:
                continue
            words = tuple(
                Word(
                    start_s=round_s(max(word.start, 0.0)),
                    end_s=round_s(max(word.end, word.start, 0.0)),
                    text=to_simplified(word.word.strip()),
                    probability=min(max(word.probability, 0.0), 1.0),
                )
                for word in (segment.words or ())
                if word.word.strip()
            )
            result.append(
                AsrSegment(
                    start_s=round_s(max(segment.start, 0.0)),
                    end_s=round_s(max(segment.end, segment.start, 0.0)),
                    text=text,
                    words=words,
                    avg_logprob=segment.avg_logprob,
                    no_speech_prob=segment.no_speech_prob,
                )
            )
        return result


def get_transcriber(settings: Settings) -> Transcriber:
    """The process-wide transcriber for these settings (loaded on first use, then reused)."""
    registry = ModelRegistry.load(settings.models_dir / "registry.yaml", settings.resolved_model_cache_dir)
    resolved = registry.resolve(settings.asr.model)
    return _load_transcriber(resolved, settings.asr)


@lru_cache(maxsize=4)
def _load_transcriber(model: ResolvedModel, settings: ASRSettings) -> Transcriber:
    return FasterWhisperTranscriber(model, settings)
