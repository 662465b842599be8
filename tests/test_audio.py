"""Ingest: every supported format decodes to 16 kHz float32 per channel; every bad input gets a
typed error that names the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_factory import tone, write_audio

from qa_pipeline.audio import SAMPLE_RATE_HZ, read_recording, sha256_of_file
from qa_pipeline.errors import (
    AudioDecodeError, AudioError, AudioNotFoundError, AudioTooLongError, AudioTooShortError, EmptyAudioError,
    NoSpeechError, PermanentError, UnsupportedAudioError,
)
from qa_pipeline.settings import AudioSettings

LIMITS = AudioSettings()


@pytest.mark.parametrize(
    ("name", "codec", "container_format", "sample_rate_hz"),
    [
        ("pcm.wav", "pcm_s16le", None, 8000),
        ("alaw.wav", "pcm_alaw", None, 8000),
        ("mulaw.wav", "pcm_mulaw", None, 8000),
        ("call.mp3", "libmp3lame", None, 8000),
        ("call.flac", "flac", None, 16000),
        ("call.ogg", "libopus", "ogg", 48000),
        ("call.m4a", "aac", "mp4", 44100),
        ("hifi.wav", "pcm_s16le", None, 44100),
    ],
)
def test_formats_decode_to_16k_per_channel(tmp_path, name, codec, container_format, sample_rate_hz):
    stereo = np.stack([tone(2.0, sample_rate_hz, 440), tone(2.0, sample_rate_hz, 1000)])
    path = write_audio(tmp_path / name, stereo, sample_rate_hz, codec=codec, container_format=container_format)
    recording, audio = read_recording(path, settings=LIMITS)
    assert recording.num_channels == 2 and audio.samples.shape[0] == 2
    assert audio.sample_rate_hz == SAMPLE_RATE_HZ and audio.samples.dtype == np.float32
    assert recording.sample_rate_hz == sample_rate_hz
    assert abs(recording.duration_s - 2.0) < 0.1
    assert recording.sha256 == sha256_of_file(path)
    assert recording.call_id == path.stem
    # the channels stay apart: the 440 Hz tone is on channel 0 only
    spectrum = np.abs(np.fft.rfft(audio.channel(0)[: SAMPLE_RATE_HZ]))
    assert abs(int(np.argmax(spectrum)) - 440) <= 2


def test_mono_decodes_to_one_channel(tmp_path):
    path = write_audio(tmp_path / "mono.wav", tone(1.5, 8000), 8000)
    recording, audio = read_recording(path, settings=LIMITS)
    assert recording.num_channels == 1 and audio.samples.shape == (1, int(1.5 * SAMPLE_RATE_HZ))


def _good_wav(tmp_path: Path, seconds: float = 2.0) -> Path:
    return write_audio(tmp_path / "good.wav", tone(seconds, 8000), 8000)


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, type[AudioError], str]]:
    good = _good_wav(tmp_path).read_bytes()
    files = {}

    def put(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    files["zero-byte"] = (put("empty.wav", b""), EmptyAudioError, "empty")
    files["truncated-header"] = (put("header.wav", good[:20]), AudioDecodeError, "not a readable audio file")
    files["truncated-data"] = (put("cut.wav", good[: len(good) // 2]), AudioDecodeError, "truncated")
    # Seeded: some random byte strings happen to probe as a container (then "contains no audio stream").
    random_bytes = np.random.default_rng(7).bytes(50_000)
    files["random-bytes"] = (put("noise.wav", random_bytes), AudioDecodeError, "not a readable audio file")
    files["text-file"] = (put("notes.mp3", "这不是音频文件\n".encode() * 200), AudioDecodeError, "not a readable")
    files["silence-only"] = (write_audio(tmp_path / "silent.wav", np.zeros(16000), 8000), NoSpeechError, "silent")
    files["10-ms"] = (write_audio(tmp_path / "blip.wav", tone(0.01, 8000), 8000), AudioTooShortError, "only 0.01 s")
    files["six-channels"] = (
        write_audio_raw_channels(tmp_path / "surround.wav", 6), UnsupportedAudioError, "6 channels")
    files["missing"] = (tmp_path / "nowhere.wav", AudioNotFoundError, "not found")
    return files


def write_audio_raw_channels(path: Path, num_channels: int) -> Path:
    import wave

    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(num_channels)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes((np.ones((8000, num_channels)) * 1000).astype("<i2").tobytes())
    return path


@pytest.mark.parametrize(
    "case",
    ["zero-byte", "truncated-header", "truncated-data", "random-bytes", "text-file", "silence-only", "10-ms",
     "six-channels", "missing"],
)
def test_bad_input_gets_a_typed_error_naming_the_file(tmp_path, case):
    path, error_type, words = _bad_inputs(tmp_path)[case]
    with pytest.raises(error_type) as caught:
        read_recording(path, settings=LIMITS)
    assert isinstance(caught.value, PermanentError)
    assert str(path) in str(caught.value)
    assert words in str(caught.value)


def test_over_long_file_is_rejected_before_decoding_it_all(tmp_path):
    path = _good_wav(tmp_path, seconds=5.0)
    with pytest.raises(AudioTooLongError, match="ZHIJIAN_AUDIO__MAX_DURATION_S"):
        read_recording(path, settings=AudioSettings(max_duration_s=3))


def test_file_over_the_size_limit_is_rejected(tmp_path):
    path = _good_wav(tmp_path)
    with pytest.raises(AudioTooLongError, match="MAX_FILE_SIZE_BYTES"):
        read_recording(path, settings=AudioSettings(max_file_size_bytes=1000))


def test_corrupted_tail_of_a_compressed_file_names_where_it_broke(tmp_path):
    path = write_audio(tmp_path / "call.mp3", tone(4.0, 8000), 8000, codec="libmp3lame")
    data = bytearray(path.read_bytes())
    data[len(data) // 2 :] = np.random.default_rng(0).bytes(len(data) - len(data) // 2)
    path.write_bytes(bytes(data))
    with pytest.raises(AudioDecodeError, match=r"corrupt audio data after \d+\.\d s") as caught:
        read_recording(path, settings=LIMITS)
    assert str(path) in str(caught.value)


def test_a_streaming_wav_header_with_unknown_size_is_not_called_truncated(tmp_path):
    path = _good_wav(tmp_path)
    data = bytearray(path.read_bytes())
    index = data.find(b"data")
    data[index + 4 : index + 8] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    recording, _ = read_recording(path, settings=LIMITS)
    assert abs(recording.duration_s - 2.0) < 0.01
