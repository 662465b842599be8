"""A read-only index over a transcript that the checks share: built once per call.

For every turn it keeps the normalized text (what phrases match on) and, for each of its
characters, the time span of the word it came from, so a match points at the second it was said.
It also keeps the merged speech intervals per role, for silence, talk-time and overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from qa_pipeline.text import normalize_char, normalize_for_matching, sound_keys, to_simplified
from qa_pipeline.types import Role, Transcript, Turn

Interval = tuple[float, float]


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    turn_index: int
    turn: Turn
    phrase: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class _IndexedTurn:
    index: int
    turn: Turn
    text: str  # normalized
    char_spans: tuple[Interval, ...]  # one per character of ``text``

    @cached_property
    def sound_keys(self) -> str:
        return sound_keys(self.text)


class CallView:
    """Normalized text and speech intervals of one transcript."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self._turns = tuple(_index_turn(index, turn) for index, turn in enumerate(transcript.turns))

    @property
    def has_speech(self) -> bool:
        return bool(self.transcript.turns)

    @cached_property
    def speech_start_s(self) -> float:
        return min((turn.start_s for turn in self.transcript.turns), default=0.0)

    @cached_property
    def speech_end_s(self) -> float:
        return max((turn.end_s for turn in self.transcript.turns), default=0.0)

    def turns_for(self, role: Role | None) -> list[tuple[int, Turn]]:
        """Turns a rule for ``role`` reads: that role's, plus turns whose role is unknown."""
        return [
            (item.index, item.turn)
            for item in self._turns
            if role is None or item.turn.role in (role, Role.UNKNOWN)
        ]

    def find(self, phrases: tuple[str, ...], role: Role | None, *, by_sound: bool = False) -> list[PhraseMatch]:
        """Occurrences of any phrase in the turns of ``role``, in time order.

        With ``by_sound``, characters that sound alike match (see ``text.sound_key``). Where
        phrases overlap in the same words (我要投诉 and 投诉你们 in 我要投诉你们), the earliest,
        then longest, match is kept: one place is one hit.
        """
        needles = [(phrase, normalize_for_matching(phrase)) for phrase in phrases]
        if by_sound:
            needles = [(phrase, sound_keys(needle)) for phrase, needle in needles]
        matches = []
        for item in self._turns:
            if role is not None and item.turn.role not in (role, Role.UNKNOWN):
                continue
            haystack = item.sound_keys if by_sound else item.text
            found = []  # (start char, end char, phrase)
            for phrase, needle in needles:
                position = haystack.find(needle)
                while position >= 0:
                    found.append((position, position + len(needle), phrase))
                    position = haystack.find(needle, position + 1)
            taken_until = -1
            for start, end, phrase in sorted(found, key=lambda item: (item[0], -item[1])):
                if start < taken_until:
                    continue
                taken_until = end
                first, last = item.char_spans[start], item.char_spans[end - 1]
                matches.append(PhraseMatch(item.index, item.turn, phrase, first[0], max(last[1], first[0])))
        matches.sort(key=lambda match: (match.start_s, match.turn_index))
        return matches

    def speech_intervals(self, role: Role | None = None) -> list[Interval]:
        """Merged intervals where ``role`` (or anyone, for None) is speaking, from word times."""
        if role is None:
            return self._all_speech
        spans = [span for item in self._turns if item.turn.role == role for span in _turn_speech(item.turn)]
        return merge_intervals(spans)

    @cached_property
    def _all_speech(self) -> list[Interval]:
        return merge_intervals([span for item in self._turns for span in _turn_speech(item.turn)])

    def silences(self) -> list[Interval]:
        """Gaps between speech, from the call's first speech to its last."""
        speech = self._all_speech
        return [(speech[i][1], speech[i + 1][0]) for i in range(len(speech) - 1)]


def merge_intervals(spans: list[Interval]) -> list[Interval]:
    """Union of intervals, sorted.

    >>> merge_intervals([(3.0, 4.0), (0.0, 1.0), (0.5, 2.0)])
    [(0.0, 2.0), (3.0, 4.0)]
    """
    merged: list[Interval] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def total_duration_s(intervals: list[Interval]) -> float:
    return sum(end - start for start, end in intervals)


def intersect_intervals(first: list[Interval], second: list[Interval]) -> list[Interval]:
    """Pairwise intersection of two sorted, merged interval lists."""
    result, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        start, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def _turn_speech(turn: Turn) -> list[Interval]:
    if turn.words:
        return [(word.start_s, word.end_s) for word in turn.words]
    return [(turn.start_s, turn.end_s)]


def _index_turn(index: int, turn: Turn) -> _IndexedTurn:
    chars: list[str] = []
    spans: list[Interval] = []
    if turn.words:
        for word in turn.words:
            for char in to_simplified(word.text):
                normalized = normalize_char(char)
                chars.append(normalized)
                spans.extend([(word.start_s, word.end_s)] * len(normalized))
    else:
        text = normalize_for_matching(turn.text)
        step = turn.duration_s / max(len(text), 1)
        for position, char in enumerate(text):
            chars.append(char)
            spans.append((turn.start_s + position * step, turn.start_s + (position + 1) * step))
    return _IndexedTurn(index=index, turn=turn, text="".join(chars), char_spans=tuple(spans))
