"""Helpers shared by the benchmark scripts (run them from the project root with the venv)."""

from __future__ import annotations

from qa_pipeline.registry import ModelRegistry
from qa_pipeline.settings import Settings


def plain_whisper_model(settings: Settings) -> object:
    """The active Whisper weights loaded the way faster-whisper users load them: one worker,
    faster-whisper's default threads, int8 on the CPU. The baseline the pipeline is timed against."""
    from faster_whisper import WhisperModel  # noqa: PLC0415

    registry = ModelRegistry.load(settings.models_dir / "registry.yaml", settings.resolved_model_cache_dir)
    return WhisperModel(str(registry.resolve(settings.asr.model).path), device="cpu", compute_type="int8")
