"""Chinese text helpers: Traditional→Simplified, and the normalized view that rules match on.

The normalized view drops punctuation, spaces and filler, folds width and case, and writes Chinese
digits as Arabic ones, applied the same way to rubric phrases and to transcripts, so 「一二三一五」,
「12315」 and 「１２３１５」 all match each other.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from qa_pipeline.errors import ConfigurationError

_DIGITS = str.maketrans({"零": "0", "〇": "0", "幺": "1", "一": "1", "二": "2", "三": "3", "四": "4",
                         "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"})
# Hesitation sounds that ASR writes between words. Matching ignores them in transcripts and in
# rubric phrases alike, so the set stays small: not 额 (额度, 金额), not 哦.
FILLERS = frozenset("嗯啊呃噢唉诶欸哎")


@lru_cache(maxsize=1)
def _t2s_converter():  # noqa: ANN202 (opencc has no type hints)
    import opencc  # noqa: PLC0415

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _lazy_pinyin():  # noqa: ANN202
    from pypinyin import lazy_pinyin  # noqa: PLC0415

    return lazy_pinyin


@lru_cache(maxsize=1)
def _jieba():  # noqa: ANN202 (jieba has no type hints)
    import jieba  # noqa: PLC0415

    logging.getLogger("jieba").setLevel(logging.WARNING)  # it reports loading its dictionary on stderr
    return jieba


def joined_in_words(pieces: Sequence[str]) -> list[bool]:
    """For each gap between consecutive ``pieces`` of one text (Whisper's words, mostly single
    characters), whether a word of jieba's dictionary runs across it: 「您」「好」 are one word,
    said in one breath, and 「一下」「那」 are not.

    >>> joined_in_words(["说", "一下", "那", "边", "线路"])
    [False, False, True, False]
    >>> joined_in_words(["服务。", "您", "好"])
    [False, True]
    """
    joined = [False] * max(len(pieces) - 1, 0)
    gaps, position = {}, 0
    for index, piece in enumerate(pieces[:-1]):
        position += len(piece)
        gaps[position] = index
    position = 0
    for token in _jieba().cut("".join(pieces), HMM=False):
        for inside in range(position + 1, position + len(token)):
            if inside in gaps:
                joined[gaps[inside]] = True
        position += len(token)
    return joined


_SYLLABLE_CODES: dict[str, str] = {}
_FIRST_CODE = 0xE000  # Private Use Area: normalization drops such characters from any text


@lru_cache(maxsize=65536)
def toneless_syllable(char: str) -> str | None:
    """The toneless pinyin syllable of a Chinese character (its most common reading), else None.

    >>> toneless_syllable("话"), toneless_syllable("花"), toneless_syllable("A")
    ('hua', 'hua', None)
    """
    syllable = _lazy_pinyin()(char, errors="default")[0]
    return None if syllable == char else syllable


@lru_cache(maxsize=65536)
def sound_key(char: str) -> str:
    """One character standing for how ``char`` sounds: its toneless pinyin syllable.

    Characters that sound alike get the same key, so matching on keys forgives the homophone
    substitutions ASR makes (工号/公号/功耗, 账单/张丹, 核实/何时). Each character is read on its
    own (its most common reading), the same way for phrases and transcripts. Non-Chinese
    characters are their own key.

    >>> sound_key("工") == sound_key("公") and sound_key("工") != sound_key("号")
    True
    """
    syllable = toneless_syllable(char)
    if syllable is None:
        return char
    if syllable not in _SYLLABLE_CODES:
        _SYLLABLE_CODES[syllable] = chr(_FIRST_CODE + len(_SYLLABLE_CODES))
    return _SYLLABLE_CODES[syllable]


def sound_keys(normalized: str) -> str:
    """``sound_key`` of every character; same length as the input."""
    return "".join(map(sound_key, normalized))


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (OpenCC ``t2s``)."""
    return _t2s_converter().convert(text) if text else text


def _is_kept(char: str) -> bool:
    category = unicodedata.category(char)
    return not (category[0] in "PZSC" or char in FILLERS)


@lru_cache(maxsize=65536)
def normalize_char(char: str) -> str:
    """The normalized form of one character ('' if it is dropped)."""
    folded = unicodedata.normalize("NFKC", char).lower()
    return "".join(c for c in folded if _is_kept(c)).translate(_DIGITS)


def normalize_for_matching(text: str) -> str:
    """The text that rules match on.

    >>> normalize_for_matching("您好！請問，一二三一五 嗯 是吧？")
    '您好请问12315是吧'
    """
    return "".join(map(normalize_char, to_simplified(text)))


def read_chinese_text(path: Path, what: str) -> str:
    """A text file as Chinese tools write it: UTF-8 (with or without a byte-order mark) or
    GB18030 (which reads GBK and GB2312: what Excel saves a CSV as on Chinese Windows).

    Raises:
        ConfigurationError: the file (``what`` it is, e.g. "manifest") cannot be read, or is
            in neither encoding.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read this {what} ({exc.strerror or exc})") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConfigurationError(f"{path}: this {what} is neither UTF-8 nor GB18030 text; save it as UTF-8")
