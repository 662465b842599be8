"""Synthesize test audio in any container and codec with PyAV (as lhotse's testing dummies do)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

LAYOUTS = {1: "mono", 2: "stereo"}


def tone(duration_s: float, sample_rate_hz: int, frequency_hz: float = 440.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(duration_s * sample_rate_hz))) / sample_rate_hz
    return (amplitude * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def write_audio(
    path: Path,
    samples: np.ndarray,
    sample_rate_hz: int,
    *,
    codec: str = "pcm_s16le",
    container_format: str | None = None,
) -> Path:
    """Write (channels, n) or (n,) float samples with the given codec."""
    samples = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    num_channels = samples.shape[0]
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=sample_rate_hz, layout=LAYOUTS[num_channels])
        sample_format = stream.codec_context.codec.audio_formats[0].name
        frame_size = stream.codec_context.frame_size or 1024
        for start in range(0, samples.shape[1], frame_size):
            chunk = np.ascontiguousarray(samples[:, start : start + frame_size])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=LAYOUTS[num_channels])
            frame.sample_rate = sample_rate_hz
            resampler = av.AudioResampler(format=sample_format, layout=LAYOUTS[num_channels], rate=sample_rate_hz)
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
