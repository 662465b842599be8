"""A read-only index over a transcript that the checks share: built once per call.

For every turn it keeps the normalized text (what phrases match on) and, for each of its
characters, the time span of the word it came from, so a match points at the second it was said.
The turns a rule reads are joined into one text per role and matching mode, so a rule's phrases
are found in one Aho-Corasick pass. It also keeps merged speech intervals per role, for silence,
talk time and overlap.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain, repeat

import ahocorasick

from qa_pipeline.text import normalize_char, normalize_for_matching, sound_keys, to_simplified
from qa_pipeline.types import Role, Transcript, Turn

Interval = tuple[float, float]
_SEPARATOR = "\x00"  # joins turns; normalization removes it from every phrase, so nothing matches across


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    turn_index: int
    turn: Turn
    phrase: str
    start_s: float
    end_s: float
    start_char: int  # in the turn's normalized text


@dataclass(frozen=True)
class _IndexedTurn:
    index: int
    turn: Turn
    text: str  # normalized
    char_spans: tuple[Interval, ...]  # one per character of ``text``
    speech: tuple[Interval, ...]  # merged word intervals

    @cached_property
    def sound_keys(self) -> str:
        return sound_keys(self.text)


@dataclass(frozen=True)
class _Haystack:
    """The normalized (or sound-key) texts of some turns, joined, with where each turn starts."""

    text: str
    starts: tuple[int, ...]  # offset of each turn in ``text``
    turns: tuple[_IndexedTurn, ...]


class CallView:
    """Normalized text and speech intervals of one transcript."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self._turns = tuple(_index_turn(index, turn) for index, turn in enumerate(transcript.turns))
        self._speech_by_role: dict[Role | None, list[Interval]] = {}
        self._haystacks: dict[tuple[Role | None, bool], _Haystack] = {}

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
        return [(item.index, item.turn) for item in self._turns_read_by(role)]

    def turns_of(self, role: Role | None) -> list[Turn]:
        """Turns a rule for ``role`` reads (that role's, and those of unknown role)."""
        return [item.turn for item in self._turns_read_by(role)]

    def turns_said_by(self, role: Role) -> list[tuple[int, Turn]]:
        """(index, turn) of the turns known to be ``role``'s: unknown-role turns excluded."""
        return [(item.index, item.turn) for item in self._turns if item.turn.role is role]

    @cached_property
    def has_roles(self) -> bool:
        """Whether agent and customer are told apart (stereo, or diarized mono)."""
        return any(item.turn.role is not Role.UNKNOWN for item in self._turns)

    def find(self, phrases: tuple[str, ...], role: Role | None, *, by_sound: bool = False) -> list[PhraseMatch]:
        """Occurrences of any phrase in the turns of ``role``, in time order.

        With ``by_sound``, characters that sound alike match (see ``text.sound_key``). Where
        phrases overlap in the same words (我要投诉 and 投诉你们 in 我要投诉你们), the earliest,
        then longest, match is kept: one place is one hit.
        """
        if not phrases:
            return []
        haystack = self._haystack(role, by_sound)
        found = [(end + 1 - length, end + 1, phrase) for end, (length, phrase) in _automaton(phrases, by_sound).iter(haystack.text)]
        return self._locate(haystack, found)

    def find_regex(self, pattern: re.Pattern[str], role: Role | None) -> list[PhraseMatch]:
        """Matches of a regular expression over each turn's normalized text, in time order."""
        haystack = self._haystack(role, False)
        found = [(m.start(), m.end(), m.group(0)) for m in pattern.finditer(haystack.text)
                 if m.end() > m.start() and _SEPARATOR not in m.group(0)]
        return self._locate(haystack, found)

    def text_before(self, match: PhraseMatch, num_chars: int) -> str:
        """The normalized text of the match's turn just before it (at most ``num_chars``)."""
        text = self._turns[match.turn_index].text
        return text[max(match.start_char - num_chars, 0) : match.start_char]

    def speech_intervals(self, role: Role | None = None) -> list[Interval]:
        """Merged intervals where ``role`` (or anyone, for None) is speaking, from word times."""
        if role not in self._speech_by_role:
            spans = [span for item in self._turns if role is None or item.turn.role == role for span in item.speech]
            self._speech_by_role[role] = merge_intervals(spans)
        return self._speech_by_role[role]

    def num_chars(self, role: Role | None) -> int:
        """Characters said by ``role`` (exactly that role; everyone for None), normalized."""
        return sum(len(item.text) for item in self._turns if role is None or item.turn.role == role)

    def silences(self) -> list[Interval]:
        """Gaps between speech, from the call's first speech to its last."""
        speech = self.speech_intervals(None)
        return [(speech[i][1], speech[i + 1][0]) for i in range(len(speech) - 1)]

    def _turns_read_by(self, role: Role | None) -> list[_IndexedTurn]:
        return [item for item in self._turns if role is None or item.turn.role in (role, Role.UNKNOWN)]

    def _haystack(self, role: Role | None, by_sound: bool) -> _Haystack:
        key = (role, by_sound)
        if key not in self._haystacks:
            turns = tuple(self._turns_read_by(role))
            starts, position, texts = [], 0, []
            for item in turns:
                starts.append(position)
                texts.append(item.sound_keys if by_sound else item.text)
                position += len(texts[-1]) + 1
            self._haystacks[key] = _Haystack(_SEPARATOR.join(texts), tuple(starts), turns)
        return self._haystacks[key]

    @staticmethod
    def _locate(haystack: _Haystack, found: list[tuple[int, int, str]]) -> list[PhraseMatch]:
        """Turn offsets in the joined text into matches; keep one match per place."""
        matches, taken_until = [], -1
        for start, end, phrase in sorted(found, key=lambda match: (match[0], -match[1])):
            if start < taken_until:
                continue
            taken_until = end
            slot = bisect_right(haystack.starts, start) - 1
            item, offset = haystack.turns[slot], haystack.starts[slot]
            first, last = item.char_spans[start - offset], item.char_spans[end - 1 - offset]
            matches.append(PhraseMatch(item.index, item.turn, phrase, first[0], max(last[1], first[0]), start - offset))
        matches.sort(key=lambda match: (match.start_s, match.turn_index))
        return matches


def merge_intervals(spans: list[Interval]) -> list[Interval]:
    """Union of intervals, sorted.

    >>> merge_intervals([(3.0, 4.0), (0.0, 1.0), (0.5, 2.0)])
    [(0.0, 2.0), (3.0, 4.0)]
    """
    merged: list[Interval] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
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


def _index_turn(index: int, turn: Turn) -> _IndexedTurn:
    if not turn.words:
        text = normalize_for_matching(turn.text)
        step = turn.duration_s / max(len(text), 1)
        spans = tuple((turn.start_s + i * step, turn.start_s + (i + 1) * step) for i in range(len(text)))
        return _IndexedTurn(index, turn, text, spans, ((turn.start_s, turn.end_s),))
    texts = [word.text for word in turn.words]
    simplified = to_simplified("".join(texts))  # one conversion per turn; per word if lengths change
    if len(simplified) != sum(map(len, texts)):
        texts = [to_simplified(text) for text in texts]
        simplified = "".join(texts)
    # Character-level work stays in C (map, chain, repeat): this runs for every turn of every call.
    normalized = list(map(normalize_char, simplified))
    word_times = [(word.start_s, word.end_s) for word in turn.words]
    word_spans = chain.from_iterable(map(repeat, word_times, map(len, texts)))
    lengths = list(map(len, normalized))
    if lengths.count(1) == len(lengths):
        spans = tuple(word_spans)
    else:  # characters dropped (punctuation, fillers) or expanded by NFKC
        spans = tuple(chain.from_iterable(map(repeat, word_spans, lengths)))
    return _IndexedTurn(index, turn, "".join(normalized), spans, tuple(merge_intervals(word_times)))


@lru_cache(maxsize=1024)
def _automaton(phrases: tuple[str, ...], by_sound: bool) -> ahocorasick.Automaton:
    """An Aho-Corasick automaton over the normalized phrases (built once per rule and mode)."""
    automaton = ahocorasick.Automaton()
    for phrase in phrases:
        needle = normalize_for_matching(phrase)
        if by_sound:
            needle = sound_keys(needle)
        if needle and needle not in automaton:
            automaton.add_word(needle, (len(needle), phrase))
    automaton.make_automaton()
    return automaton
