"""Fake ASR adapters. A module of its own so that worker processes (spawned) can import them."""

from __future__ import annotations

import os
import time

import numpy as np

from qa_pipeline.asr import AsrSegment
from qa_pipeline.settings import Settings
from qa_pipeline.types import AsrProvenance, Word

SAMPLE_RATE_HZ = 16_000


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


# A short inbound call: the agent (channel 0) greets with a job number, the customer asks.
SERVICE_CALL = {
    0: [segment(0.2, "您好工号一零二四很高兴为您服务"), segment(4.0, "感谢来电再见")],
    1: [segment(2.0, "你好我想查一下账单")],
}
CRASH_DURATION_S = 7.0  # ScriptedTranscriber kills its process on audio of exactly this length
DELAY_ENV = "ZHIJIAN_TEST_ASR_DELAY_S"  # seconds ScriptedTranscriber sleeps per channel


class ScriptedTranscriber(FakeTranscriber):
    """``SERVICE_CALL`` for every recording; sleeps ``$ZHIJIAN_TEST_ASR_DELAY_S`` per channel, and
    dies like a native crash on audio of ``CRASH_DURATION_S``."""

    def __init__(self) -> None:
        super().__init__(SERVICE_CALL)

    def transcribe(self, samples: np.ndarray) -> list[AsrSegment]:
        if abs(samples.size / SAMPLE_RATE_HZ - CRASH_DURATION_S) < 0.01:
            os._exit(70)
        time.sleep(float(os.environ.get(DELAY_ENV, "0")))
        return super().transcribe(samples)

    def transcribe_channels(self, channels: list[np.ndarray]) -> list[list[AsrSegment]]:
        self.calls = 0
        return [self.transcribe(samples) for samples in channels]


def load_scripted_transcriber(settings: Settings) -> ScriptedTranscriber:
    """A ``load_transcriber`` for batches: picklable, so worker processes can call it."""
    return ScriptedTranscriber()
