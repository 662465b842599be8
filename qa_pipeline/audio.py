"""Audio ingest: the only module that touches PyAV.

``read_recording`` checks and decodes one file (WAV PCM/A-law/μ-law, MP3, FLAC, OGG, M4A, …; any
sample rate; mono or stereo) into 16 kHz float32 per channel, and describes it as a ``Recording``.
Every problem raises an ``AudioError`` subclass whose message names the file and what is wrong.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa_pipeline.errors import (
    AudioDecodeError,
    AudioNotFoundError,
    AudioTooLongError,
    AudioTooShortError,
    EmptyAudioError,
    NoSpeechError,
    UnsupportedAudioError,
)
from qa_pipeline.settings import AudioSettings
from qa_pipeline.types import CallMetadata, Recording, round_s

SAMPLE_RATE_HZ = 16_000  # what Whisper and Silero VAD take
_LAYOUTS = {1: "mono", 2: "stereo"}


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """Decoded samples: shape (num_channels, num_samples), float32 in [-1, 1], 16 kHz."""

    samples: np.ndarray
    sample_rate_hz: int = SAMPLE_RATE_HZ

    @property
    def num_channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / self.sample_rate_hz

    def channel(self, index: int) -> np.ndarray:
        return self.samples[index]


def seconds_to_samples(seconds: float, sample_rate_hz: int = SAMPLE_RATE_HZ) -> int:
    return int(round(seconds * sample_rate_hz))


def speech_regions(
    samples: np.ndarray, *, min_silence_s: float = 0.3, speech_pad_s: float = 0.03, min_speech_s: float = 0.15
) -> list[tuple[float, float]]:
    """Speech (start_s, end_s) in 16 kHz samples by Silero VAD (bundled with faster-whisper).

    Pauses of ``min_silence_s`` split regions; each region is widened by ``speech_pad_s`` on both
    sides; shorter bursts than ``min_speech_s`` are not speech.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps  # noqa: PLC0415

    options = VadOptions(min_silence_duration_ms=round(min_silence_s * 1000), speech_pad_ms=round(speech_pad_s * 1000),
                         min_speech_duration_ms=round(min_speech_s * 1000))
    stamps = get_speech_timestamps(samples.astype(np.float32), options, sampling_rate=SAMPLE_RATE_HZ)
    return [(stamp["start"] / SAMPLE_RATE_HZ, stamp["end"] / SAMPLE_RATE_HZ) for stamp in stamps]


def sha256_of_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def read_recording(
    path: Path,
    *,
    settings: AudioSettings,
    call_id: str | None = None,
    metadata: CallMetadata | None = None,
    sha256: str | None = None,
) -> tuple[Recording, DecodedAudio]:
    """Check, hash and decode one audio file.

    Args:
        path: the audio file.
        settings: limits (duration, size, silence level).
        call_id: defaults to the file name without extension.
        metadata: what the center knows about the call.
        sha256: the file's hash when the caller already has it (a batch hashes each file to
            plan it); computed otherwise.

    Returns:
        The ``Recording`` and its samples at 16 kHz.

    Raises:
        AudioError: (a subclass naming the file) missing, empty, not audio, corrupt, truncated,
            too long, too short, more than two channels, or silent.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioNotFoundError(path, "file not found")
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise EmptyAudioError(path, "file is empty (0 bytes)")
    if size_bytes > settings.max_file_size_bytes:
        raise AudioTooLongError(
            path,
            f"file is {size_bytes / 1e6:.0f} MB, over the limit of "
            f"{settings.max_file_size_bytes / 1e6:.0f} MB; raise ZHIJIAN_AUDIO__MAX_FILE_SIZE_BYTES",
        )
    samples, info = _decode(path, settings)
    audio = DecodedAudio(samples)
    if audio.duration_s < settings.min_duration_s:
        raise AudioTooShortError(
            path, f"only {audio.duration_s:.2f} s of audio (minimum {settings.min_duration_s} s)"
        )
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    peak_dbfs = 20 * math.log10(peak) if peak > 0 else -math.inf
    if peak_dbfs < settings.silence_peak_dbfs:
        raise NoSpeechError(
            path, f"silent: loudest sample {peak_dbfs:.0f} dBFS (threshold {settings.silence_peak_dbfs:.0f})"
        )
    recording = Recording(
        call_id=call_id or path.stem,
        path=path,
        sha256=sha256 or sha256_of_file(path),
        duration_s=round_s(audio.duration_s),
        sample_rate_hz=info.sample_rate_hz,
        num_channels=audio.num_channels,
        codec=info.codec,
        container_format=info.container_format,
        metadata=metadata or CallMetadata(),
    )
    return recording, audio


@dataclass(frozen=True, slots=True)
class _StreamInfo:
    sample_rate_hz: int
    num_channels: int
    codec: str
    container_format: str
    declared_duration_s: float | None


def _decode(path: Path, settings: AudioSettings) -> tuple[np.ndarray, _StreamInfo]:
    import av  # noqa: PLC0415  (the one place PyAV is used)

    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioDecodeError(path, f"not a readable audio file ({_reason(exc)})") from exc
    with container:
        if not container.streams.audio:
            raise AudioDecodeError(path, "contains no audio stream")
        stream = container.streams.audio[0]
        num_channels = stream.codec_context.channels
        if num_channels not in _LAYOUTS:
            raise UnsupportedAudioError(
                path, f"has {num_channels} channels; only mono and stereo (one party per channel) are supported"
            )
        info = _StreamInfo(
            sample_rate_hz=stream.codec_context.sample_rate or 0,
            num_channels=num_channels,
            codec=stream.codec_context.name,
            container_format=container.format.name,
            declared_duration_s=_declared_duration_s(container, stream),
        )
        if info.declared_duration_s is not None and info.declared_duration_s > settings.max_duration_s:
            raise AudioTooLongError(path, _too_long(info.declared_duration_s, settings))
        resampler = av.AudioResampler(format="fltp", layout=_LAYOUTS[num_channels], rate=SAMPLE_RATE_HZ)
        chunks: list[np.ndarray] = []
        decoded_samples = 0
        max_samples = seconds_to_samples(settings.max_duration_s)
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler count samples; broken timestamps don't matter
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    decoded_samples += out.samples
                if decoded_samples > max_samples:
                    raise AudioTooLongError(path, _too_long(decoded_samples / SAMPLE_RATE_HZ, settings))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except av.error.FFmpegError as exc:
            at_s = decoded_samples / SAMPLE_RATE_HZ
            raise AudioDecodeError(path, f"corrupt audio data after {at_s:.1f} s ({_reason(exc)})") from exc
    if not chunks:
        raise AudioDecodeError(path, "no audio could be decoded (truncated or corrupt)")
    samples = np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32)
    np.clip(samples, -1.0, 1.0, out=samples)
    decoded_s = samples.shape[1] / SAMPLE_RATE_HZ
    expected_s = _wav_declared_duration_s(path) if info.container_format == "wav" else info.declared_duration_s
    if expected_s is not None and decoded_s + settings.truncation_tolerance_s < expected_s:
        raise AudioDecodeError(
            path, f"truncated: header declares {expected_s:.1f} s but only {decoded_s:.1f} s could be decoded"
        )
    return samples, info


def _declared_duration_s(container: object, stream: object) -> float | None:
    duration = getattr(stream, "duration", None)
    time_base = getattr(stream, "time_base", None)
    if duration and time_base:
        return float(duration * time_base)
    container_duration = getattr(container, "duration", None)
    if container_duration:
        return container_duration / 1_000_000
    return None


def _wav_declared_duration_s(path: Path) -> float | None:
    """Duration that a RIFF/WAVE header declares, or None if it declares none we can trust.

    FFmpeg sizes WAV files by their length on disk, so a file cut short decodes without error;
    comparing with the header's ``data`` chunk size is how truncation shows.
    """
    with path.open("rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        byte_rate = None
        while chunk := handle.read(8):
            if len(chunk) < 8:
                return None
            chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"fmt ":
                fmt = handle.read(chunk_size)
                if len(fmt) >= 12:
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                if chunk_size % 2:
                    handle.seek(1, 1)
                continue
            if chunk_id == b"data":
                # 0 and 0xFFFFFFFF mean "still recording / unknown" in streaming writers.
                if not byte_rate or chunk_size in (0, 0xFFFFFFFF):
                    return None
                return chunk_size / byte_rate
            handle.seek(chunk_size + (chunk_size % 2), 1)
    return None


def _too_long(duration_s: float, settings: AudioSettings) -> str:
    return (
        f"{duration_s:.0f} s long, over the limit of {settings.max_duration_s:.0f} s; "
        "raise ZHIJIAN_AUDIO__MAX_DURATION_S to inspect it"
    )


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
