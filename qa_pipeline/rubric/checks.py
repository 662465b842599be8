"""The checks behind rule types. Each is a function ``(rule, view) -> list[Hit]`` registered in
``CHECKS`` by the rule's ``type``; points are assigned (and capped) by the engine, not here.
"""

from __future__ import annotations

from collections.abc import Callable

from qa_pipeline.rubric.schema import OrderRule, PhraseAbsentRule, PhrasePresentRule, SilenceRule
from qa_pipeline.rubric.view import CallView, PhraseMatch
from qa_pipeline.types import Hit, Role, round_s

_MAX_QUOTE_CHARS = 80
_ROLE_NAMES = {Role.AGENT: "坐席", Role.CUSTOMER: "客户", Role.UNKNOWN: "通话方"}


def check_phrase_present(rule: PhrasePresentRule, view: CallView) -> list[Hit]:
    role = rule.applies_to
    if rule.within_first_s is not None:
        window = (view.speech_start_s, view.speech_start_s + rule.within_first_s)
    elif rule.within_last_s is not None:
        window = (max(view.speech_end_s - rule.within_last_s, 0.0), view.speech_end_s)
    else:
        window = (view.speech_start_s, view.speech_end_s)
    found = [
        match for match in view.find(rule.phrases, role, by_sound=rule.by_sound)
        if (rule.within_first_s is None or match.start_s <= window[1])
        and (rule.within_last_s is None or match.end_s >= window[0])
    ]
    if found:
        return []
    said = [turn.text for _, turn in view.turns_for(role) if turn.end_s >= window[0] and turn.start_s <= window[1]]
    who = _ROLE_NAMES[role or Role.UNKNOWN]
    evidence = _quote(" / ".join(said)) if said else f"（该时段{who}无发言）"
    return [
        Hit(
            rule_id=rule.id, rule_type=rule.type, severity=rule.severity, points=0.0,
            start_s=round_s(window[0]), end_s=round_s(max(window[1], window[0])),
            role=role or Role.UNKNOWN, evidence=evidence, description=rule.description,
        )
    ]


def check_phrase_absent(rule: PhraseAbsentRule, view: CallView) -> list[Hit]:
    return [_match_hit(rule, match) for match in view.find(rule.phrases, rule.applies_to, by_sound=rule.by_sound)]


def check_order(rule: OrderRule, view: CallView) -> list[Hit]:
    role = rule.applies_to
    disclosures = view.find(rule.then_phrases, role, by_sound=rule.by_sound)
    if not disclosures:
        return []
    first_said = view.find(rule.first_phrases, role, by_sound=rule.by_sound)
    first_disclosure = disclosures[0]
    if first_said and first_said[0].start_s <= first_disclosure.start_s:
        return []
    return [_match_hit(rule, first_disclosure)]


def check_silence(rule: SilenceRule, view: CallView) -> list[Hit]:
    hits = []
    for start_s, end_s in view.silences():
        if end_s - start_s > rule.max_silence_s:
            hits.append(
                Hit(
                    rule_id=rule.id, rule_type=rule.type, severity=rule.severity, points=0.0,
                    start_s=round_s(start_s), end_s=round_s(end_s), role=rule.applies_to or Role.UNKNOWN,
                    evidence=f"静音 {end_s - start_s:.1f} 秒（上限 {rule.max_silence_s:g} 秒）",
                    description=rule.description,
                )
            )
    return hits


CHECKS: dict[str, Callable[..., list[Hit]]] = {
    "phrase_present": check_phrase_present,
    "phrase_absent": check_phrase_absent,
    "order": check_order,
    "silence": check_silence,
}


def _match_hit(rule: PhraseAbsentRule | OrderRule, match: PhraseMatch) -> Hit:
    return Hit(
        rule_id=rule.id, rule_type=rule.type, severity=rule.severity, points=0.0,
        start_s=round_s(match.start_s), end_s=round_s(match.end_s), role=match.turn.role,
        evidence=_quote(match.turn.text), matched=match.phrase, turn_index=match.turn_index,
        description=rule.description,
    )


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _MAX_QUOTE_CHARS else text[: _MAX_QUOTE_CHARS - 1] + "…"
