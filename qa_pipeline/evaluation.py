"""ASR accuracy on a center's own labelled calls: character error rate (CER) with jiwer.

A reference has the recording's name and sits beside it (or in a folder of references):
- ``<name>.ch0.txt`` / ``<name>.ch1.txt``: what each channel says (stereo), or
- ``<name>.txt``: what the whole call says (mono, or stereo compared as one text), or
- ``<name>.yaml``: a call script as in ``samples/scripts`` (turns by role, ``agent_channel``).
Text is read as UTF-8 or GB18030 (GBK): what Chinese labelling tools write.

CER is reported on two views: ``normalized`` (what QA rules read: numbers as digits, no punctuation,
spaces or fillers, Simplified characters) and ``verbatim`` (only punctuation and spaces removed).

For diarization, ``speech_by_energy`` gives who spoke when from a party's own clean channel: the
reference for a mono mix of stereo channels, independent of the VAD under test.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from qa_pipeline.errors import ConfigurationError
from qa_pipeline.itn import inverse_normalize
from qa_pipeline.text import normalize_for_matching, read_chinese_text, to_simplified
from qa_pipeline.types import Transcript

WHOLE_CALL = -1  # reference key for a text that covers every channel
ENERGY_FRAME_S = 0.01


def speech_by_energy(channel: np.ndarray, sample_rate_hz: int = 16_000, *, over_floor_db: float = 12.0,
                     bridge_s: float = 0.25, min_speech_s: float = 0.1) -> list[tuple[float, float]]:
    """Speech (start_s, end_s) of one party's clean channel: 10 ms frames ``over_floor_db`` over the
    channel's noise floor (its 10th percentile level) and within 40 dB of its peak, gaps under
    ``bridge_s`` bridged, bursts under ``min_speech_s`` dropped.

    >>> tone = np.sin(np.arange(16_000) / 5).astype(np.float32)
    >>> speech_by_energy(np.concatenate([np.zeros(16_000, np.float32) + 1e-4, tone, tone * 0 + 1e-4]))
    [(1.0, 2.0)]
    """
    hop = int(ENERGY_FRAME_S * sample_rate_hz)
    frames = channel[: len(channel) // hop * hop].reshape(-1, hop)
    level_db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    active = level_db > max(np.percentile(level_db, 10) + over_floor_db, level_db.max() - 40)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(int), [0]])))
    merged: list[list[float]] = []
    for first, last in zip(edges[::2], edges[1::2]):
        start_s, end_s = round(float(first) * ENERGY_FRAME_S, 3), round(float(last) * ENERGY_FRAME_S, 3)
        if merged and start_s - merged[-1][1] < bridge_s:
            merged[-1][1] = end_s
        else:
            merged.append([start_s, end_s])
    return [(start_s, end_s) for start_s, end_s in merged if end_s - start_s >= min_speech_s]


@dataclass(frozen=True)
class Reference:
    """Reference text per channel (or ``WHOLE_CALL``)."""

    path: Path
    texts: dict[int, str]


@dataclass
class CerCounts:
    errors: int = 0
    length: int = 0

    @property
    def cer(self) -> float | None:
        return self.errors / self.length if self.length else None

    def add(self, other: CerCounts) -> None:
        self.errors += other.errors
        self.length += other.length


@dataclass
class CallCer:
    call_id: str
    normalized: CerCounts = field(default_factory=CerCounts)
    verbatim: CerCounts = field(default_factory=CerCounts)


def normalized_view(text: str) -> str:
    """What CER is measured on: numbers as digits, then the matching normalization."""
    return normalize_for_matching(inverse_normalize(to_simplified(text)))


def verbatim_view(text: str) -> str:
    return "".join(char for char in to_simplified(text) if unicodedata.category(char)[0] not in "PZSC")


def find_reference(audio: Path, refs_dir: Path | None = None) -> Reference | None:
    """The reference of ``audio`` (same name, in ``refs_dir`` or beside it), or None."""
    stem = (refs_dir or audio.parent) / audio.stem
    script = stem.with_suffix(".yaml")
    if script.is_file():
        return _reference_from_script(script)
    texts = {}
    for channel in (0, 1):
        path = Path(f"{stem}.ch{channel}.txt")
        if path.is_file():
            texts[channel] = read_chinese_text(path, "reference")
    if not texts and stem.with_suffix(".txt").is_file():
        texts[WHOLE_CALL] = read_chinese_text(stem.with_suffix(".txt"), "reference")
    return Reference(stem, texts) if texts else None


def call_cer(transcript: Transcript, reference: Reference) -> CallCer:
    """CER of one transcript against its reference, per channel where the reference has channels."""
    import jiwer  # noqa: PLC0415

    result = CallCer(transcript.call_id)
    for channel, reference_text in reference.texts.items():
        hypothesis = "".join(
            turn.text for turn in transcript.turns if channel == WHOLE_CALL or turn.channel == channel
        )
        for view, counts in ((normalized_view, result.normalized), (verbatim_view, result.verbatim)):
            ref, hyp = view(reference_text), view(hypothesis)
            if not ref:
                continue
            output = jiwer.process_characters(ref, hyp) if hyp else None
            errors = len(ref) if output is None else output.substitutions + output.deletions + output.insertions
            counts.add(CerCounts(errors, len(ref)))
    return result


def _reference_from_script(path: Path) -> Reference:
    try:
        script = yaml.safe_load(read_chinese_text(path, "reference"))
        agent_channel = int(script["agent_channel"])
        channel_of = {"agent": agent_channel, "customer": 1 - agent_channel}
        texts = {0: "", 1: ""}
        for line in script["turns"]:
            for role, text in line.items():
                if role in channel_of:
                    texts[channel_of[role]] += str(text)
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"{path}: not a call script with agent_channel and turns ({exc})") from exc
    return Reference(path.with_suffix(""), texts)
