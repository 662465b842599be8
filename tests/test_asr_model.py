"""The real Whisper model on audio that has no speech, on a very short call, on a mixed mono
call, and the times of its words on sample calls (marked `model`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from audio_factory import write_audio
from conftest import SAMPLES_DIR

from qa_pipeline.asr import get_transcriber
from qa_pipeline.audio import read_recording
from qa_pipeline.evaluation import speech_by_energy
from qa_pipeline.settings import Settings
from qa_pipeline.transcribe import said_span, transcribe_recording

SAMPLE_RATE_HZ = 8000


def _hold_music(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    notes = [262, 294, 330, 349, 392, 440, 494, 523]
    music = np.zeros_like(t)
    for index in range(int(seconds / 0.5)):
        frequency = notes[index % 8]
        note = (t >= index * 0.5) & (t < index * 0.5 + 0.45)
        music[note] = 0.2 * np.sin(2 * np.pi * frequency * t[note]) + 0.1 * np.sin(4 * np.pi * frequency * t[note])
    return music


def _background(kind: str, seconds: float = 60.0) -> np.ndarray:
    rng = np.random.default_rng(7)
    n = int(seconds * SAMPLE_RATE_HZ)
    if kind == "near_silence":  # line hiss just above the silence threshold
        return 0.003 * rng.standard_normal(n)
    if kind == "noise":
        return 0.1 * rng.standard_normal(n)
    return _hold_music(seconds)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


@pytest.mark.model
@pytest.mark.parametrize("kind", ["near_silence", "noise", "hold_music"])
def test_no_words_on_a_minute_without_speech(tmp_path, settings, kind):
    both = np.stack([_background(kind), _background(kind)[::-1]])
    path = write_audio(tmp_path / f"{kind}.wav", both, SAMPLE_RATE_HZ, codec="pcm_alaw")
    recording, audio = read_recording(path, settings=settings.audio)
    result = transcribe_recording(recording, audio, get_transcriber(settings), settings.asr)
    assert result.turns == (), [turn.text for turn in result.turns]


@pytest.mark.model
def test_a_three_second_call_is_transcribed(tmp_path, settings):
    recording, audio = read_recording(SAMPLES_DIR / "calls" / "20261121_agent1024_teamA_in_0001.wav", settings=settings.audio)
    short = write_audio(tmp_path / "short.wav", audio.samples[:, : 3 * 16000], 16000)
    recording, audio = read_recording(short, settings=settings.audio)
    result = transcribe_recording(recording, audio, get_transcriber(settings), settings.asr)
    assert result.duration_s == 3.0
    assert result.turns and "您好" in result.turns[0].text and result.turns[0].channel == 0
    assert all(word.end_s <= 3.0 for turn in result.turns for word in turn.words)


@pytest.mark.model
def test_every_party_of_a_mixed_mono_call_is_transcribed(settings):
    """Every turn of the three-voice transfer call (one channel, three voices) has words within it,
    and no word is stretched over a turn (Whisper can jump ahead on mixed calls; see
    test_asr_parts for the re-decoding of what it skipped)."""
    data = Path(__file__).parent / "data"
    recording, audio = read_recording(data / "three_voices.wav", settings=settings.audio)
    result = transcribe_recording(recording, audio, get_transcriber(settings), settings.asr)
    words = [word for turn in result.turns for word in turn.words]
    for turn in yaml.safe_load((data / "three_voices.yaml").read_text("utf-8"))["turns"]:
        inside = [w for w in words if turn["start_s"] - 0.5 <= (w.start_s + w.end_s) / 2 <= turn["end_s"] + 0.5]
        assert len(inside) >= 3, (turn, [turn.text for turn in result.turns])
    assert max(word.end_s - word.start_s for word in words) <= 3.0


@pytest.mark.model
@pytest.mark.parametrize("call", ["20261122_agent5120_teamC_in_0005", "20261122_agent3012_teamC_in_0007",
                                  "20261122_agent6001_teamD_out_0008"])
def test_words_are_dated_where_their_party_speaks(settings, call):
    """Each word lies where its channel has speech (by frame energy on the clean channel, to
    0.25 s): the first word after the other party's turn is not left at the end of its party's
    turn before (「六六八八没有」 + 「…」: faster-whisper dated 「没有」 by its middle, half of it in
    the pause), nor in the other party's speech (where it made a false interruption)."""
    recording, audio = read_recording(SAMPLES_DIR / "calls" / f"{call}.wav", settings=settings.audio)
    result = transcribe_recording(recording, audio, get_transcriber(settings), settings.asr)
    speech = {channel: speech_by_energy(audio.channel(channel)) for channel in range(audio.num_channels)}

    def near_speech(channel: int, span: tuple[float, float]) -> bool:
        return any(start_s - 0.25 <= span[1] and span[0] <= end_s + 0.25 for start_s, end_s in speech[channel])

    misdated = [(turn.channel, word.text, word.start_s, word.end_s) for turn in result.turns for word in turn.words
                if not near_speech(turn.channel, said_span(word))]
    assert sum(len(turn.words) for turn in result.turns) > 50
    assert misdated == []
