"""The checks behind rule types, registered in ``CHECKS`` by the rule's ``type``.

Each check is a function ``(rule, view) -> list[Hit] | NotApplicable``. Points are assigned and
capped by the engine, not here. A check that cannot judge a call (no roles on a mono recording,
too little speech) says why with ``NotApplicable``: never a silent pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from qa_pipeline.rubric.schema import (
    HangUpRule,
    HoldRule,
    IntentRule,
    InterruptionRule,
    OrderRule,
    PhraseAbsentRule,
    PhrasePresentRule,
    RegexRule,
    SilenceRule,
    SpeechRateRule,
    TalkRatioRule,
    _RuleBase,
)
from qa_pipeline.rubric.view import CallView, Interval, PhraseMatch, total_duration_s
from qa_pipeline.text import normalize_for_matching
from qa_pipeline.types import Hit, Role, round_s

# Bump when a check judges the same transcript and rubric differently, so stored scorecards are
# scored again by the next batch or ``zhijian rescore`` instead of being kept (batch.rubric_fingerprint).
# 1: interruption is not applicable on mono recordings. 2: a stereo call with speech on one
# channel only needs review (Transcript.silent_channels).
SCORING_REVISION = 2
_MAX_QUOTE_CHARS = 80
_ROLE_NAMES = {Role.AGENT: "坐席", Role.CUSTOMER: "客户", Role.UNKNOWN: "通话方"}


@dataclass(frozen=True, slots=True)
class NotApplicable:
    reason: str


CheckResult = list[Hit] | NotApplicable


def check_phrase_present(rule: PhrasePresentRule, view: CallView) -> CheckResult:
    if rule.trigger_phrases:
        if not view.find(rule.trigger_phrases, rule.trigger_applies_to, by_sound=rule.by_sound):
            return []
    matches = view.find(rule.phrases, rule.applies_to, by_sound=rule.by_sound)
    return _require(rule, view, matches)


def check_phrase_absent(rule: PhraseAbsentRule, view: CallView) -> CheckResult:
    return [_match_hit(rule, match) for match in view.find(rule.phrases, rule.applies_to, by_sound=rule.by_sound)]


def check_intent(rule: IntentRule, view: CallView) -> CheckResult:
    """One hit per turn that expresses the intent (「打12315投诉」 is one complaint, not two)."""
    negations = [normalize_for_matching(negation) for negation in rule.negations]
    hits, seen_turns = [], set()
    for match in view.find(rule.phrases, rule.applies_to, by_sound=rule.by_sound):
        if match.turn_index in seen_turns or any(
            negation in view.text_before(match, rule.negation_window_chars + len(negation)) for negation in negations
        ):
            continue
        seen_turns.add(match.turn_index)
        hits.append(_match_hit(rule, match))
    return hits


def check_regex(rule: RegexRule, view: CallView) -> CheckResult:
    matches = view.find_regex(_compiled(rule.pattern), rule.applies_to)
    if rule.mode == "forbid":
        return [_match_hit(rule, match) for match in matches]
    return _require(rule, view, matches)


def check_order(rule: OrderRule, view: CallView) -> CheckResult:
    role = rule.applies_to
    disclosures = view.find(rule.then_phrases, role, by_sound=rule.by_sound)
    if not disclosures:
        return []
    first_said = view.find(rule.first_phrases, role, by_sound=rule.by_sound)
    first_disclosure = disclosures[0]
    if first_said and first_said[0].start_s <= first_disclosure.start_s:
        return []
    return [_match_hit(rule, first_disclosure)]


def check_silence(rule: SilenceRule, view: CallView) -> CheckResult:
    hits = []
    for start_s, end_s in view.silences():
        if end_s - start_s <= rule.max_silence_s:
            continue
        if rule.hold_phrases and _said_between(view, rule.hold_phrases, Role.AGENT, start_s - rule.hold_lookback_s, start_s + 0.5):
            continue  # an announced hold, judged by the hold rule
        hits.append(_span_hit(rule, (start_s, end_s), f"静音 {end_s - start_s:.1f} 秒（上限 {rule.max_silence_s:g} 秒）"))
    return hits


def check_hold(rule: HoldRule, view: CallView) -> CheckResult:
    hits = []
    for start_s, end_s in view.silences():
        length_s = end_s - start_s
        if length_s <= rule.min_hold_s:
            continue
        requested = _said_between(view, rule.request_phrases, Role.AGENT, start_s - rule.lookback_s, start_s + 0.5)
        if not requested:
            continue  # unannounced: dead air, judged by the silence rule
        problems = []
        if rule.thank_phrases and not _said_between(view, rule.thank_phrases, Role.AGENT, end_s - 0.5, end_s + rule.lookahead_s):
            problems.append("等待后未致谢")
        if rule.max_hold_s is not None and length_s > rule.max_hold_s:
            problems.append(f"等待过长（上限 {rule.max_hold_s:g} 秒）")
        if problems:
            hits.append(_span_hit(rule, (start_s, end_s), f"等待 {length_s:.1f} 秒：{'，'.join(problems)}"))
    return hits


def check_interruption(rule: InterruptionRule, view: CallView) -> CheckResult:
    """Turns of ``applies_to`` that start while the other party is talking and run on over them.

    Needs one channel per party: on a mono recording the words come from one decoding of the mix,
    each given to one voice, so two parties are never heard at once and a pass would mean nothing.
    """
    if view.transcript.num_channels < 2:
        return NotApplicable("needs one channel per party: on a mono recording both parties talking at once "
                             "are not heard apart")
    if not view.has_roles or rule.applies_to is None:
        return NotApplicable("needs agent and customer told apart")
    other = Role.CUSTOMER if rule.applies_to is Role.AGENT else Role.AGENT
    other_speech = view.speech_intervals(other)
    hits = []
    for index, turn in view.turns_said_by(rule.applies_to):
        start_s = turn.words[0].start_s if turn.words else turn.start_s
        for speech_start, speech_end in other_speech:
            if speech_start < start_s < speech_end:
                overlap_s = min(speech_end, turn.end_s) - start_s
                if overlap_s > rule.min_overlap_s:
                    hits.append(
                        Hit(
                            rule_id=rule.id, rule_type=rule.type, severity=rule.severity, points=0.0,
                            start_s=round_s(start_s), end_s=round_s(start_s + overlap_s), role=rule.applies_to,
                            evidence=_quote(turn.text), turn_index=index, description=rule.description,
                            matched=f"抢话 {overlap_s:.1f} 秒",
                        )
                    )
                break
    return hits


def check_speech_rate(rule: SpeechRateRule, view: CallView) -> CheckResult:
    if rule.applies_to is not None and not view.has_roles:
        return NotApplicable("needs agent and customer told apart")
    speech = view.speech_intervals(rule.applies_to)
    talk_s = total_duration_s(speech)
    if talk_s < rule.min_speech_s:
        return NotApplicable(f"only {talk_s:.1f} s of speech (needs {rule.min_speech_s:g} s)")
    rate = view.num_chars(rule.applies_to) / (talk_s / 60)
    too_fast = rule.max_chars_per_minute is not None and rate > rule.max_chars_per_minute
    if not too_fast and rate >= rule.min_chars_per_minute:
        return []
    limit = f"高于 {rule.max_chars_per_minute:g}" if too_fast else f"低于 {rule.min_chars_per_minute:g}"
    return [_span_hit(rule, (speech[0][0], speech[-1][1]), f"语速 {rate:.0f} 字/分钟（{limit}）")]


def check_talk_ratio(rule: TalkRatioRule, view: CallView) -> CheckResult:
    if not view.has_roles or rule.applies_to is None:
        return NotApplicable("needs agent and customer told apart")
    total_s = total_duration_s(view.speech_intervals(Role.AGENT)) + total_duration_s(view.speech_intervals(Role.CUSTOMER))
    if total_s < rule.min_total_talk_s:
        return NotApplicable(f"only {total_s:.1f} s of talk")
    share = total_duration_s(view.speech_intervals(rule.applies_to)) / total_s
    if rule.min_share <= share <= rule.max_share:
        return []
    return [_span_hit(rule, (view.speech_start_s, view.speech_end_s),
                      f"{_ROLE_NAMES[rule.applies_to]}说话占比 {share:.0%}（范围 {rule.min_share:.0%}–{rule.max_share:.0%}）")]


def check_hang_up(rule: HangUpRule, view: CallView) -> CheckResult:
    if not view.has_roles:
        return NotApplicable("needs agent and customer told apart")
    customer_turns = view.turns_said_by(Role.CUSTOMER)
    if not customer_turns:
        return []
    index, last = max(customer_turns, key=lambda item: item[1].end_s)
    if view.transcript.duration_s - last.end_s > rule.end_margin_s or last.end_s < view.speech_end_s:
        return []
    if rule.unless_phrases and _said_between(view, rule.unless_phrases, Role.CUSTOMER, last.start_s, last.end_s + 0.1):
        return []
    return [
        Hit(
            rule_id=rule.id, rule_type=rule.type, severity=rule.severity, points=0.0, start_s=last.start_s,
            end_s=last.end_s, role=Role.AGENT, evidence=f"客户话未说完通话即结束：「{_quote(last.text)}」",
            turn_index=index, description=rule.description,
        )
    ]


CHECKS: dict[str, Callable[..., CheckResult]] = {
    "phrase_present": check_phrase_present,
    "phrase_absent": check_phrase_absent,
    "regex": check_regex,
    "order": check_order,
    "silence": check_silence,
    "hold": check_hold,
    "interruption": check_interruption,
    "speech_rate": check_speech_rate,
    "talk_ratio": check_talk_ratio,
    "intent": check_intent,
    "hang_up": check_hang_up,
}


def _require(rule: PhrasePresentRule | RegexRule, view: CallView, matches: list[PhraseMatch]) -> CheckResult:
    """A hit when none of ``matches`` falls in the rule's window."""
    role = rule.applies_to
    turns = view.turns_for(role)
    window: Interval
    if rule.within_first_turns is not None or rule.within_last_turns is not None:
        picked = turns[: rule.within_first_turns] if rule.within_first_turns else turns[-rule.within_last_turns :]  # type: ignore[operator]
        indexes = {index for index, _ in picked}
        found = [match for match in matches if match.turn_index in indexes]
        window = (picked[0][1].start_s, picked[-1][1].end_s) if picked else (view.speech_start_s, view.speech_end_s)
    else:
        if rule.within_first_s is not None:
            window = (view.speech_start_s, view.speech_start_s + rule.within_first_s)
        elif rule.within_last_s is not None:
            window = (max(view.speech_end_s - rule.within_last_s, 0.0), view.speech_end_s)
        else:
            window = (view.speech_start_s, view.speech_end_s)
        found = [match for match in matches if match.start_s <= window[1] and match.end_s >= window[0]]
        picked = [(index, turn) for index, turn in turns if turn.end_s >= window[0] and turn.start_s <= window[1]]
    if found:
        return []
    said = [turn.text for _, turn in picked]
    evidence = _quote(" / ".join(said)) if said else f"（该时段{_ROLE_NAMES[role or Role.UNKNOWN]}无发言）"
    return [_span_hit(rule, window, evidence)]


def _said_between(view: CallView, phrases: tuple[str, ...], role: Role, start_s: float, end_s: float) -> bool:
    return any(start_s <= match.start_s <= end_s for match in view.find(phrases, role, by_sound=True))


def _span_hit(rule: _RuleBase, span: Interval, evidence: str) -> Hit:
    return Hit(
        rule_id=rule.id, rule_type=rule.type, severity=rule.severity, points=0.0,  # type: ignore[attr-defined]
        start_s=round_s(span[0]), end_s=round_s(max(span[1], span[0])), role=rule.applies_to or Role.UNKNOWN,
        evidence=evidence, description=rule.description,
    )


def _match_hit(rule: _RuleBase, match: PhraseMatch) -> Hit:
    return Hit(
        rule_id=rule.id, rule_type=rule.type, severity=rule.severity, points=0.0,  # type: ignore[attr-defined]
        start_s=round_s(match.start_s), end_s=round_s(match.end_s), role=match.turn.role,
        evidence=_quote(match.turn.text), matched=match.phrase, turn_index=match.turn_index,
        description=rule.description,
    )


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _MAX_QUOTE_CHARS else text[: _MAX_QUOTE_CHARS - 1] + "…"
