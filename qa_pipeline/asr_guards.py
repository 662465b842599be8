"""Hallucination guards: ASR segments that are not speech are dropped before they become turns.

Whisper invents text where there is none: it repeats its prompt on silence, writes video-subtitle
boilerplate (「字幕由…提供」「请不吝点赞订阅」) on music, loops on a phrase, or emits low-confidence
text on noise. Every rule reads only a segment's text and scores, so it holds for any engine.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from qa_pipeline.text import normalize_for_matching

# Phrases from subtitle credits and video outros that Whisper learned from its training data.
BOILERPLATE = (
    "字幕由", "字幕提供", "字幕制作", "中文字幕", "请不吝点赞", "点赞订阅", "订阅转发", "打赏支持", "明镜与点点",
    "谢谢观看", "感谢观看", "欢迎订阅", "小铃铛", "amara", "本视频", "下期再见", "我们下期",
)
PROMPT_ECHO_MIN_CHARS = 8
_REPEAT = re.compile(r"(.{2,12}?)\1{3,}")  # a unit of 2-12 characters said 4+ times in a row


@dataclass(frozen=True, slots=True)
class GuardOptions:
    max_no_speech_prob: float = 0.6  # with a low log-probability: silence decoded as text
    min_avg_logprob: float = -1.0
    max_compression_ratio: float = 2.4  # gzip ratio of the text; Whisper's own loop threshold
    max_repeated_share: float = 0.5  # share of a segment taken by one repeated unit


def is_hallucination(
    text: str,
    *,
    avg_logprob: float = 0.0,
    no_speech_prob: float = 0.0,
    prompt: str | None = None,
    options: GuardOptions | None = None,
) -> str | None:
    """Why a segment looks invented, or None if it looks like speech.

    >>> is_hallucination("以下是普通话的句子。", prompt="以下是普通话的句子。")
    'repeats the prompt'
    >>> is_hallucination("我的电话是幺三八一二三四五六七八", prompt="以下是普通话的句子。我的电话是幺三八一二三四五六七八。")
    'repeats the prompt'
    >>> is_hallucination("我的电话是", prompt="以下是普通话的句子。我的电话是幺三八一二三四五六七八。") is None
    True
    >>> is_hallucination("您好，请问有什么可以帮您？") is None
    True
    """
    options = options or GuardOptions()
    normalized = normalize_for_matching(text)
    if not normalized:
        return "no words"
    if prompt:
        normalized_prompt = normalize_for_matching(prompt)
        # A piece of the prompt counts once it is long enough not to be what a caller says
        # (「我的电话是」, 「工号」 alone are speech; 「我的电话是13812345678」 is the prompt's).
        long_enough = len(normalized) >= min(PROMPT_ECHO_MIN_CHARS, len(normalized_prompt))
        if normalized_prompt and ((long_enough and normalized in normalized_prompt) or normalized_prompt in normalized):
            return "repeats the prompt"
    lowered = normalized.lower()
    if any(phrase in lowered for phrase in _NORMALIZED_BOILERPLATE):
        return "subtitle boilerplate"
    if no_speech_prob > options.max_no_speech_prob and avg_logprob < options.min_avg_logprob:
        return "no speech, low confidence"
    if _loops(normalized, options):
        return "repetition loop"
    return None


def is_repetition_loop(text: str, options: GuardOptions | None = None) -> bool:
    """Whether the text is Whisper looping on a phrase: it compresses too well, or one unit of
    2–12 characters said 4+ times in a row takes most of it.

    >>> is_repetition_loop("请问有什么好请问有什么好请问有什么好请问有什么好")
    True
    >>> is_repetition_loop("好的好的，我明白了。")
    False
    """
    return _loops(normalize_for_matching(text), options or GuardOptions())


def _loops(normalized: str, options: GuardOptions) -> bool:
    if len(normalized) >= 12 and _compression_ratio(normalized) > options.max_compression_ratio:
        return True
    loop = _REPEAT.search(normalized)
    return bool(loop and len(loop.group(0)) >= options.max_repeated_share * len(normalized) and len(loop.group(0)) >= 8)


def find_hotword_echo(normalized: str, hotwords: tuple[str, ...], *, min_chain: int = 3) -> tuple[int, int] | None:
    """Where the text recites the hotword list: ``min_chain`` or more hotwords, adjacent (at most one
    character apart), either in the list's order (Whisper continuing its prompt) or with one of
    them said again (Whisper looping on the list's end: 「订单号预留订单号订单号」). Three hotwords
    in a row in any other order can be real talk (「话费套餐账单」) and are kept.

    Returns the (start, end) character span in ``normalized``, or None.

    >>> find_hotword_echo("办得很快的好来电客服账单号订单号", ("工号", "来电", "客服", "账单", "订单号"))
    (6, 16)
    >>> find_hotword_echo("好的再见订单号预留订单号订单号", ("工号", "预留", "订单号"))
    (4, 15)
    >>> find_hotword_echo("我想查账单，客服说来电", ("工号", "来电", "客服", "账单")) is None
    True
    >>> find_hotword_echo("话费套餐账单都要查", ("话费", "账单", "套餐")) is None
    True
    """
    occurrences = sorted(
        (start, start + len(word), rank)
        for rank, word in enumerate(normalize_for_matching(w) for w in hotwords)
        if word
        for start in _find_all(normalized, word)
    )
    best: tuple[int, int] | None = None
    for first in range(len(occurrences)):
        for in_list_order in (True, False):
            chain = [occurrences[first]]
            for candidate in occurrences[first + 1 :]:
                previous = chain[-1]
                if candidate[0] > previous[1] + 1:
                    break
                if candidate[0] >= previous[1] and (candidate[2] > previous[2] or not in_list_order):
                    chain.append(candidate)
            repeats = len({rank for _, _, rank in chain}) < len(chain)
            if (len(chain) >= min_chain and (in_list_order or repeats)
                    and (best is None or chain[-1][1] - chain[0][0] > best[1] - best[0])):
                best = (chain[0][0], chain[-1][1])
    return best


def _find_all(text: str, word: str) -> list[int]:
    positions, start = [], text.find(word)
    while start >= 0:
        positions.append(start)
        start = text.find(word, start + 1)
    return positions


def _compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data))


_NORMALIZED_BOILERPLATE = tuple(normalize_for_matching(phrase).lower() for phrase in BOILERPLATE)
