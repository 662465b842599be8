"""Inverse text normalization (ITN): spoken Chinese numbers written as digits.

What QA rules, redaction and reviewers read: 「工号一零二四」→「工号1024」, 「幺三八…」→「138…」,
「三千二百元」→「3200元」, 「十二月十三号」→「12月13号」, 「三点五」→「3.5」, 「百分之五十」→「50%」. Amounts of 亿 and more keep
亿, as they are written (「六百五十八亿」→「658亿」, 「一亿二千万」→「1.2亿」), and digits written
with thousands separators lose them (「3,119元」→「3119元」), so a rule reads one number.
The verbatim transcript is kept for display; this is a second, normalized view.

A run of numerals with units (十百千万亿) is a quantity, said the colloquial way too (三千五 is
3500, 一万二 is 12000); a run of two or more bare digits is read digit by digit (phone, order and
agent numbers). A single numeral becomes a number only before a measure word (三笔, 五号, 两点),
and 一 never does on its own, so 一下, 一点, 一个 stay words. Words made of numerals stay words:
a run that starts with 百, 千, 万 or 亿 (万一, 千万不要, 百分百), units alone without a measure word
(十万火急), a run next to 几 (几十块, 三十几岁: no exact number was said), and a run that is no
number as said (「十二千」: ``is_well_formed``; 「十八十二」 is 十 before 八十二). 一点二十 is a time.
"""

from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "幺": 1, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_LARGE_UNITS = {"万": 10_000, "亿": 100_000_000}
_UNITS = _SMALL_UNITS | _LARGE_UNITS
MEASURE_WORDS = "元块角分号月日年岁次笔张个位天楼层室栋秒点周期台件单份条倍"
_NUMERAL = "零〇幺一二两三四五六七八九十百千万亿"
# Phone numbers say 幺 for 1, which Whisper often writes 要: inside a digit string, or before six or
# more digits, some of them 幺 written 要 too (需要三五八… stays a word only when fewer digits follow).
_DIGIT_OR_YAO = rf"(?:[0-9{_NUMERAL}]|[要腰妖](?=[0-9{_NUMERAL}]))"
_YAO = re.compile(rf"(?<=[0-9{_NUMERAL}])[要腰妖](?=[0-9{_NUMERAL}])|[要腰妖](?={_DIGIT_OR_YAO}{{6}})")
# Digits written before 万 (Whisper writes 「5万」 for 五万): the whole number, as for 五万.
_ARABIC_WITH_UNIT = re.compile(r"(?<![0-9.])(\d+(?:\.\d+)?)([万亿])(?![0-9零〇幺一二两三四五六七八九十百千])")
# A fraction after 点 is bare digits (三点五); 一点二十 (a time) is left to the two runs it is.
_THOUSANDS = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9,])")
_RUN = re.compile(rf"百分之[{_NUMERAL}]+(?:点[{_NUMERAL}]+)?"
                  rf"|[{_NUMERAL}]+(?:点[零〇幺一二三四五六七八九]+(?![十百千万亿点]))?")
_WORD_STARTS = frozenset("百千万亿")  # 万一, 千万 (don't), 百分百: words, not numbers
_MINUTES = re.compile(rf"[{_NUMERAL}]+|[半钟]")
_VAGUE = "几"  # 几十, 三十几: an approximate number, kept as said


def inverse_normalize(text: str) -> str:
    """Write the spoken numbers in ``text`` as digits.

    >>> inverse_normalize("工号一零二四，金额三千二百元，十二月十三号，三点五倍，百分之五十，等一下")
    '工号1024，金额3200元，12月13号，3.5倍，50%，等一下'
    >>> inverse_normalize("电话是要3180967929，158要809948，我要3个")
    '电话是13180967929，1581809948，我要3个'
    >>> inverse_normalize("开了5万公里，1.5亿，五万公里，3万5千，三亿五千万，话费3,119元")
    '开了50000公里，1.5亿，50000公里，3万5千，3.5亿，话费3119元'
    """
    text = _THOUSANDS.sub(lambda match: match.group(0).replace(",", ""), text)
    text = _YAO.sub(lambda match: "1" if text[match.end()].isdigit() else "幺", text)
    text = _ARABIC_WITH_UNIT.sub(_scaled, text)
    return _RUN.sub(lambda match: _convert(match.group(0), text, match.end()), text)


def _scaled(match: re.Match[str]) -> str:
    """「5万」→「50000」; 「1.5亿」 stays (see ``_written``)."""
    if match.group(2) == "亿":
        return match.group(0)
    value = float(match.group(1)) * _LARGE_UNITS[match.group(2)]
    return str(int(value)) if value == int(value) else match.group(0)


def _written(value: int) -> str:
    """A quantity in digits; from 亿 up in 亿 with at most four decimals, as amounts that large are
    written: 65800000000 → 658亿, 350000000 → 3.5亿 (123456789 stays digits)."""
    yi, rest = divmod(value, 100_000_000)
    if not yi or rest % 10_000:
        return str(value)
    return f"{yi}.{rest:08d}".rstrip("0").rstrip(".") + "亿"


def _convert(run: str, text: str, end: int) -> str:
    start = end - len(run)
    if (start > 0 and text[start - 1] == _VAGUE) or text[end : end + 1] == _VAGUE:
        return run
    if run.startswith("百分之"):
        return _convert(run[3:], text, end) + "%" if run[3:] else run
    if run[0] in _WORD_STARTS:
        return run
    whole, _, fraction = run.partition("点")
    if not is_well_formed(whole):
        # No number was said the way Whisper wrote it. A 十 before one exact number is most likely
        # something else heard as 十 (是八千五百: 十八千五百), so the number after it is written;
        # anything else stays as heard, two numbers in a row too (十二十三号, the 12th or 13th).
        if not fraction and whole[0] == "十" and is_exact_quantity(whole[1:]) and not is_range(whole):
            return "十" + _written(_quantity(whole[1:]))
        return run
    if fraction:
        return f"{_quantity(whole) if _has_units(whole) else _digit_string(whole)}.{_digit_string(fraction)}"
    if len(run) >= 2:
        return _written(_quantity(run)) if _has_units(run) else _digit_string(run)
    # One character: a number only before a measure word. 一 stays a word (一下, 一点, 一个);
    # 十分 is "very" unless it is 十分钟.
    following = text[end : end + 2]
    if run == "一" and not _is_clock_time(text, end):
        return run
    if not _before_measure(text, end):
        return run
    if run == "十" and following[0] == "分" and following != "分钟":
        return run
    return _written(_quantity(run)) if _has_units(run) else _digit_string(run)


def _before_measure(text: str, end: int) -> bool:
    return text[end : end + 1] != "" and text[end] in MEASURE_WORDS


def _is_clock_time(text: str, end: int) -> bool:
    """一点二十, 一点零五, 一点半, 一点钟: one o'clock (一点 alone is "a little", 一点一点 "bit by bit")."""
    if text[end : end + 1] != "点":
        return False
    minutes = _MINUTES.match(text, end + 1)
    return minutes is not None and (len(minutes.group(0)) >= 2 or minutes.group(0) in "半钟十")


def is_well_formed(run: str) -> bool:
    """Whether a run of numerals could be one number as said: between 万 and 亿, the units 千, 百,
    十 come in that order, each once. 「十八十二」 and 「十二千」 are no number (Whisper's 十 for
    是 before 八十二, 二千), so they are not read as one. A run of bare digits, and the
    approximate 三四十, 十五六, are well formed.

    >>> [is_well_formed(run) for run in ("三千零五十", "十五六", "一万二千", "十八十二", "十二千", "三十二百")]
    [True, True, True, False, False, False]
    """
    last_unit = None
    for char in run:
        if char in _LARGE_UNITS:
            last_unit = None
        elif char in _SMALL_UNITS:
            if last_unit is not None and _SMALL_UNITS[char] >= _SMALL_UNITS[last_unit]:
                return False
            last_unit = char
    return True


def is_exact_quantity(run: str) -> bool:
    """Whether a run of numerals is one exact number said with units: 八十二, 二千零七十九, not
    三四十 (thirty or forty), 十八十二, 千万 or a digit string.

    >>> [is_exact_quantity(run) for run in ("八十二", "二千零七十九", "三四十", "十八十二", "千万", "一二三")]
    [True, True, False, False, False, False]
    """
    return (
        _has_units(run)
        and run[0] not in _WORD_STARTS
        and is_well_formed(run)
        and not any(a in _DIGITS and b in _DIGITS and "零" not in (a, b) for a, b in zip(run, run[1:]))
    )


def is_range(run: str) -> bool:
    """Whether a run of numerals is two numbers in a row said as an approximate one: 十二十三
    (twelve or thirteen), 二十二十一.

    >>> [is_range(run) for run in ("十二十三", "二十二十一", "十八十二", "十二")]
    [True, True, False, False]
    """
    return any(
        is_exact_quantity(run[:k]) and is_exact_quantity(run[k:]) and abs(_quantity(run[k:]) - _quantity(run[:k])) == 1
        for k in range(1, len(run))
    )


def _has_units(run: str) -> bool:
    return any(char in _UNITS for char in run)


def _digit_string(run: str) -> str:
    return "".join(str(_DIGITS[char]) for char in run if char in _DIGITS)


def _quantity(run: str) -> int:
    """三千二百 → 3200, 十二 → 12, 两万零五百 → 20500, 一亿二千万 → 120000000; a last digit right
    after 百, 千, 万 or 亿 counts in the next unit down, as said: 三千五 → 3500, 一万二 → 12000."""
    above_yi = above_wan = section = digit = 0
    for char in run:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _SMALL_UNITS:
            section += (digit or 1) * _SMALL_UNITS[char]
            digit = 0
        elif char == "万":
            above_wan = (section + digit or 1) * 10_000
            section = digit = 0
        elif char == "亿":
            above_yi = (above_wan + section + digit or 1) * 100_000_000
            above_wan = section = digit = 0
    if len(run) >= 2 and run[-1] in _DIGITS and _UNITS.get(run[-2], 0) >= 100:
        digit *= _UNITS[run[-2]] // 10
    return above_yi + above_wan + section + digit
