"""Shared fixtures: test audio, settings, sample-call scripts (fake ASR adapters live in fakes.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

# Whisper's int8 matrix products run in Intel MKL, which picks its code path by CPU (AVX2, AVX-512,
# AMX) and gets slightly different numbers on each, so a word can come out differently (「您好」 or
# 「以后」). The model tests pin MKL's reproducible AVX2 path so that they hear the same on any x86
# CPU with AVX2 (machines differ); set before ctranslate2 loads, inherited by batch workers. The
# application itself keeps the fastest path.
os.environ.setdefault("MKL_CBWR", "AVX2")

sys.path.insert(0, str(Path(__file__).parent))

from audio_factory import tone, write_audio  # noqa: E402
from fakes import FakeTranscriber, segment  # noqa: E402,F401  (re-exported for the tests)

from qa_pipeline.settings import Settings  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = PROJECT_ROOT / "samples"


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
