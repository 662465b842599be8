"""Shared fixtures: a fake ASR adapter with canned segments, test audio, sample-call scripts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from audio_factory import tone, write_audio  # noqa: E402

from qa_pipeline.asr import AsrSegment  # noqa: E402
from qa_pipeline.settings import Settings  # noqa: E402
from qa_pipeline.types import AsrProvenance, Word  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = PROJECT_ROOT / "samples"


def segment(start_s: float, text: str, seconds_per_char: float = 0.25) -> AsrSegment:
    """A segment whose words are single characters, evenly spread from ``start_s``."""
    words = tuple(
        Word(start_s=start_s + i * seconds_per_char, end_s=start_s + (i + 1) * seconds_per_char, text=char)
        for i, char in enumerate(text)
    )
    return AsrSegment(start_s=start_s, end_s=words[-1].end_s if words else start_s, text=text, words=words)


class FakeTranscriber:
    """Returns canned segments for channels 0, 1, 0, 1… in call order (the order transcription asks)."""

    def __init__(self, segments_by_channel: dict[int, list[AsrSegment]]) -> None:
        self.segments_by_channel = segments_by_channel
        self.calls = 0

    @property
    def provenance(self) -> AsrProvenance:
        return AsrProvenance(engine="fake", model="canned")

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        channel = self.calls % max(len(self.segments_by_channel), 1)
        self.calls += 1
        return list(self.segments_by_channel.get(channel, []))

    def transcribe_channels(self, channels: list[np.ndarray]) -> list[list[AsrSegment]]:
        return [self.transcribe(samples) for samples in channels]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(model_cache_dir=tmp_path / "model-cache")


@pytest.fixture
def stereo_call(tmp_path: Path) -> Path:
    """Six seconds of 8 kHz stereo: channel 0 talks first, then channel 1."""
    sample_rate_hz = 8000
    left = tone(6, sample_rate_hz, 440)
    right = tone(6, sample_rate_hz, 660)
    t = np.arange(left.size) / sample_rate_hz
    left[t >= 3] = 0
    right[t < 3] = 0
    return write_audio(tmp_path / "20261121_agent1024_teamA_in_0001.wav", np.stack([left, right]), sample_rate_hz)


def load_sample_scripts() -> list[dict]:
    return [
        yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted((SAMPLES_DIR / "scripts").glob("*.yaml"))
    ]
