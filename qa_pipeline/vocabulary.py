"""Domain vocabulary: write misheard service words the way they are said on calls.

Whisper base hears 「话费」 as 「花费」, 「机主」 as 「及主」, 「可以」 as 「可疑」: same syllables,
other characters (often another tone). ``VocabularyCorrector`` rewrites a run of characters as a
vocabulary word when every character has the word's toneless pinyin syllable, so the transcript
says what was meant. Rules then match it, and so does a reviewer's search.

Guards against rewriting what was really said:
- numerals are never touched (一级 does not become 移机; digit strings stay as heard);
- a run that is itself a common word is kept: jieba counts it at least ``always_keep_frequency``
  times (以及, 其它), or at least ``keep_frequency`` times and as often as the term (记住 is not
  rewritten as 机主, 手里 not as 受理, 收获 not as 收货);
- longer words win over shorter ones, and a character is rewritten at most once.

Two more rewrites read the words around them, where Whisper base writes a character of the
wrong kind that sounds alike or close (``context_corrections``):
- an amount's 元 heard as 人 in a sentence about money: 「话费是三百人」 → 「话费是三百元」
  (人民币, 人次, 人均 and head counts outside money talk stay);
- a time of day heard as the numeral 五 after a date or a day: 「五号下五」 → 「五号下午」
  (上午, 中午, 下午; 上五十 and 下五个单 stay numbers);
- 星期 heard as 新七 before the day: 「新74上午」 → 「星期4上午」 (新712 stays);
- 是 heard as 十 before an amount or a date, where the 十 makes it no number as said:
  「话费十八十二元」 → 「话费是八十二元」 (十八岁, 十二万, 十二十三号 stay).

The replacement has the same length as what it replaces, so word timestamps stay aligned.
The vocabulary is ``qa_pipeline/resources/service_terms.txt``, the configured hotwords and any
center word lists (``ASRSettings.vocabulary_files``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa_pipeline.itn import MEASURE_WORDS, is_exact_quantity, is_range, is_well_formed
from qa_pipeline.text import read_chinese_text, toneless_syllable

BUILTIN_TERMS_FILE = Path(__file__).with_name("resources") / "service_terms.txt"
_NUMERALS = frozenset("零〇幺一二两三四五六七八九十百千万亿0123456789０１２３４５６７８９")

# An amount heard with 人 for 元: a number of two or more characters (a lone 两人, 三人 is a head
# count) right before 人, in a clause that talks about money before it.
_NUMBER_CHAR = "0-9零〇一二两三四五六七八九十百千万亿"
_AMOUNT_THEN_REN = re.compile(rf"[{_NUMBER_CHAR}][,.{_NUMBER_CHAR}]*[{_NUMBER_CHAR}](人)(?![民次均以左])")
_MONEY_WORDS = re.compile(r"费|价|钱|金额|余额|款|账单|押金|消费|赔|扣|欠|退|付|收取")
_CLAUSE_END = re.compile(r"[。！？!?；;，、：:\s]|,(?![0-9])")
# A time of day heard as 五 after a date or a day: 十二号下五, 明天上五, 周三下五. Not before a unit
# or a measure word: 明天下五个单, 每天上五节课 are numbers.
_DAY_THEN_WU = re.compile(r"(?:[号日天]|周[一二三四五六日天]|星期[一二三四五六日天])[上下中]([五5])"
                          r"(?![0-9十百千万亿个节次张位单件份台笔条块元点])")

# 星期 (xing qi) heard as a 星-sounding character and the numeral 七 before the day: 「星期四上午」 →
# 「新74上午」, 「信七二」. Only before one weekday numeral that no other numeral follows.
_WEEK_HEARD_AS_SEVEN = re.compile(r"[星新信兴心欣辛][7七](?=[1-6一二三四五六日天](?![0-9零〇幺一二两三四五六七八九十百千万]))")

# 是 heard as 十 before an amount or a date: 「话费十八十二元」 (是八十二元) is no number as said, the
# same run without its 十 is one exact number (``itn``), and a measure word follows. Not after a
# numeral or 是 (是十八十二元 stays as heard), nor two numbers in a row (十二十三号: the 12th or 13th),
# nor without a measure word (「十二千福」 was 需要先付).
_SHI_THEN_NUMBER = re.compile(r"(?<![0-9零〇幺一二两三四五六七八九十百千万亿是])十([零〇幺一二两三四五六七八九十百千万亿]{2,})"
                              rf"(?=[{MEASURE_WORDS}])")


def _word_syllables(word: str) -> tuple[str, ...] | None:
    """The word's syllables, read as a word (heteronyms in context: 还款 → huan kuan)."""
    from pypinyin import lazy_pinyin  # noqa: PLC0415

    syllables = lazy_pinyin(word, errors="default")
    if len(syllables) != len(word) or any(syllable == char for syllable, char in zip(syllables, word)):
        return None
    return tuple(syllables)


@lru_cache(maxsize=2)
def _word_frequencies(min_frequency: int) -> dict[str, int]:
    """Words of two to four characters that jieba's dictionary counts at least ``min_frequency``."""
    import jieba  # noqa: PLC0415

    frequencies = {}
    with jieba.dt.get_dict_file() as dictionary:
        for line in dictionary:
            word, frequency, *_ = line.decode("utf-8").split(" ")
            if 2 <= len(word) <= 4 and int(frequency) >= min_frequency:
                frequencies[word] = int(frequency)
    return frequencies


def read_terms(path: Path) -> list[str]:
    """The words of a vocabulary file (UTF-8 or GBK): whitespace-separated, '#' starts a comment.

    Raises:
        ConfigurationError: the file cannot be read, or is in neither encoding.
    """
    lines = read_chinese_text(path, "vocabulary file").splitlines()
    return [word for line in lines for word in line.split("#", 1)[0].split()]


@dataclass(frozen=True, slots=True)
class Correction:
    """One rewrite: ``heard`` at character ``start`` became ``term``."""

    start: int
    heard: str
    term: str


class VocabularyCorrector:
    """Rewrites homophones of vocabulary words (see the module docstring)."""

    def __init__(self, terms: Iterable[str], *, keep_frequency: int = 1000, always_keep_frequency: int = 5000) -> None:
        by_first_syllable: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        kept = set()
        for term in sorted(set(terms), key=lambda word: (-len(word), word)):
            syllables = _word_syllables(term) if len(term) >= 2 else None
            if syllables is None or any(char in _NUMERALS for char in term):
                continue  # single characters, Latin words and numerals are left to the decoder
            by_first_syllable.setdefault(syllables[0], []).append((term, syllables))
            kept.add(term)
        self._by_first_syllable = by_first_syllable
        self._frequencies = _word_frequencies(keep_frequency) if keep_frequency else {}
        self._always_keep_frequency = always_keep_frequency
        self.terms = frozenset(kept)

    @property
    def fingerprint(self) -> str:
        """Identifies the vocabulary (it changes transcripts, so stored results note it)."""
        return hashlib.sha256("\n".join(sorted(self.terms)).encode()).hexdigest()[:12]

    def corrections(self, text: str) -> list[Correction]:
        """What would be rewritten in ``text``, left to right, longest word first at each place."""
        syllables = [None if char in _NUMERALS else toneless_syllable(char) for char in text]
        taken = [False] * len(text)
        found = []
        for start, first in enumerate(syllables):
            if first is None or taken[start]:
                continue
            for term, term_syllables in self._by_first_syllable.get(first, ()):
                end = start + len(term)
                heard = text[start:end]
                if (
                    end > len(text)
                    or any(taken[start:end])
                    or tuple(syllables[start:end]) != term_syllables
                ):
                    continue
                if heard != term and not self._is_common_word(heard, term):
                    found.append(Correction(start, heard, term))
                taken[start:end] = [True] * len(term)  # a matching word, rewritten or not, is settled
                break
        found += [correction for correction in context_corrections(text) if not taken[correction.start]]
        return sorted(found, key=lambda correction: correction.start)

    def _is_common_word(self, heard: str, term: str) -> bool:
        frequency = self._frequencies.get(heard, 0)
        return bool(frequency) and (frequency >= self._always_keep_frequency or frequency >= self._frequencies.get(term, 0))

    def correct(self, text: str) -> str:
        """``text`` with homophones of vocabulary words rewritten (same length).

        >>> corrector = VocabularyCorrector(["话费", "收货", "可以", "机主", "移机"])
        >>> corrector.correct("我想查一下花费，及主可疑改吗？请记住，以及一级")
        '我想查一下话费，机主可以改吗？请记住，以及一级'
        """
        return _applied(text, self.corrections(text))


def context_corrections(text: str) -> list[Correction]:
    """Rewrites that read the words around them (see the module docstring).

    >>> [(c.start, c.heard, c.term) for c in context_corrections("话费是三百人，我们两人，十二号下五三点，新74上门")]
    [(5, '人', '元'), (16, '五', '午'), (20, '新7', '星期')]
    >>> [(c.start, c.heard, c.term) for c in context_corrections("话费十八十二元，费用十二千零七十九元")]
    [(2, '十', '是'), (10, '十', '是')]
    >>> context_corrections("一共三百人报名，价格五十人民币，上五十个，十五六个，是十八十二元，十二十三号，十二千福")
    []
    """
    found = []
    for match in _AMOUNT_THEN_REN.finditer(text):
        clause = _CLAUSE_END.split(text[: match.start()])[-1]
        if _MONEY_WORDS.search(clause):
            found.append(Correction(match.start(1), "人", "元"))
    for match in _DAY_THEN_WU.finditer(text):
        found.append(Correction(match.start(1), match.group(1), "午"))
    for match in _WEEK_HEARD_AS_SEVEN.finditer(text):
        found.append(Correction(match.start(), match.group(0), "星期"))
    # Read after the rewrites above (「费用十八十四人」: 元 heard as 人 too); they keep the length.
    for match in _SHI_THEN_NUMBER.finditer(_applied(text, found)):
        run = match.group(0)
        if not is_well_formed(run) and not is_range(run) and is_exact_quantity(match.group(1)):
            found.append(Correction(match.start(), "十", "是"))
    return found


def _applied(text: str, corrections: Iterable[Correction]) -> str:
    """``text`` with ``corrections`` made (each replacement as long as what it replaces)."""
    chars = list(text)
    for correction in corrections:
        chars[correction.start : correction.start + len(correction.term)] = correction.term
    return "".join(chars)


def build_corrector(files: Iterable[Path], extra_terms: Iterable[str] = (), *, builtin: bool = True) -> VocabularyCorrector:
    """A corrector for the built-in service terms (unless ``builtin`` is False), the words in
    ``files`` and ``extra_terms`` (the hotwords)."""
    terms = list(extra_terms)
    for path in ([BUILTIN_TERMS_FILE] if builtin else []) + list(files):
        terms += read_terms(Path(path))
    return VocabularyCorrector(terms)
