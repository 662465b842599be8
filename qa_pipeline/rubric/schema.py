"""The rubric (质检标准) schema: YAML validated by pydantic at load time.

A rubric has an id, a version, a base score and a pass mark, optional per-category caps, and a
list of rules (质检项). Each rule has a ``type`` that names its check (``rubric.checks.CHECKS``),
the role it applies to, its severity and its points. Mistakes fail at load, naming the file, the
rule id and the problem: an unknown type, a bad regex, negative points, a duplicate id...
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Union, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from qa_pipeline.errors import ConfigurationError, RubricError
from qa_pipeline.text import FILLERS, normalize_for_matching, read_chinese_text
from qa_pipeline.types import Role, RubricRef, Severity

_RULE_ID = r"^[a-z][a-z0-9_]*$"
_ROLES = {"agent": Role.AGENT, "customer": Role.CUSTOMER, "any": None}


def _check_phrases(phrases: tuple[str, ...]) -> tuple[str, ...]:
    for phrase in phrases:
        if not normalize_for_matching(phrase):
            raise ValueError(f"phrase {phrase!r} is empty once punctuation and spaces are removed")
        fillers = sorted({char for char in phrase if char in FILLERS})
        if fillers:
            shown = normalize_for_matching(phrase)
            raise ValueError(
                f"phrase {phrase!r} contains {''.join(fillers)}, a filler that matching ignores, so it would "
                f"match every {shown!r}; write {shown!r} if that is meant"
            )
    return phrases


# YAML reads 12315 as a number: phrases accept numbers and keep them as text.
Phrase = Annotated[str, BeforeValidator(lambda value: str(value) if isinstance(value, int | float) else value)]
Phrases = Annotated[tuple[Phrase, ...], Field(min_length=1), AfterValidator(_check_phrases)]
OptionalPhrases = Annotated[tuple[Phrase, ...], AfterValidator(_check_phrases)]
Seconds = Annotated[float, Field(gt=0)]


class _RuleBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_RULE_ID)
    description: str = ""  # shown in reports, e.g. 「未使用标准开场白」
    category: str = "general"  # 开场白, 服务规范, 致命错误...: groups items in reports and caps
    role: Literal["agent", "customer", "any"] = "agent"
    severity: Severity = Severity.DEDUCTION
    points: float = Field(default=0.0, ge=0.0)  # deducted per hit
    max_points: float | None = Field(default=None, ge=0.0)  # cap per call; None: no cap

    @property
    def applies_to(self) -> Role | None:
        """The role whose turns this rule reads; None for every turn."""
        return _ROLES[self.role]


class _MatchingRule(_RuleBase):
    # "pinyin": phrases match words that sound the same (forgives ASR homophones: 工号/公号);
    # "exact": the same characters (after removing punctuation, spaces and filler words).
    match: Literal["pinyin", "exact"] = "pinyin"

    @property
    def by_sound(self) -> bool:
        return self.match == "pinyin"


class _Window(BaseModel):
    """Where a required phrase must be said; at most one of the four."""

    within_first_s: Seconds | None = None  # after the call's first speech
    within_last_s: Seconds | None = None  # before the call's last speech
    within_first_turns: int | None = Field(default=None, ge=1)  # the role's first N turns
    within_last_turns: int | None = Field(default=None, ge=1)  # the role's last N turns

    @model_validator(mode="after")
    def _one_window(self) -> _Window:
        set_windows = [name for name in _WINDOW_FIELDS if getattr(self, name) is not None]
        if len(set_windows) > 1:
            raise ValueError(f"set one window, not {' and '.join(set_windows)}")
        return self


_WINDOW_FIELDS = ("within_first_s", "within_last_s", "within_first_turns", "within_last_turns")


class PhrasePresentRule(_MatchingRule, _Window):
    """One of ``phrases`` must be said by ``role`` in the window; a hit when none is.

    With ``trigger_phrases``, the requirement holds only on calls where one of them was said
    (by ``trigger_role``): e.g. identity verification is required when the customer asks about
    the account.
    """

    type: Literal["phrase_present"]
    phrases: Phrases
    trigger_phrases: OptionalPhrases = ()
    trigger_role: Literal["agent", "customer", "any"] = "any"

    @property
    def trigger_applies_to(self) -> Role | None:
        """The role whose turns the triggers are looked for in; None for every turn."""
        return _ROLES[self.trigger_role]


class PhraseAbsentRule(_MatchingRule):
    """None of ``phrases`` may be said by ``role``; each occurrence is a hit."""

    type: Literal["phrase_absent"]
    phrases: Phrases


class RegexRule(_RuleBase, _Window):
    """A regular expression over the normalized text (no punctuation/spaces, digits as 0-9).

    ``mode: forbid``: each match is a hit. ``mode: require``: a hit when nothing matches (in the
    window). Example: ``工号\\d{3,6}`` requires a spoken agent number.
    """

    type: Literal["regex"]
    pattern: str
    mode: Literal["forbid", "require"] = "forbid"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regex {pattern!r}: {exc}") from exc
        if r"\b" in pattern:
            raise ValueError(r"\b does not work on Chinese text (CJK characters are word characters)")
        return pattern


class OrderRule(_MatchingRule):
    """``then_phrases`` may only be said after one of ``first_phrases`` (verify, then disclose)."""

    type: Literal["order"]
    first_phrases: Phrases
    then_phrases: Phrases


class SilenceRule(_RuleBase):
    """Dead air: no one speaks for longer than ``max_silence_s``; each gap is a hit.

    A gap that the agent announced with one of ``hold_phrases`` (请您稍等) shortly before is a
    hold, not dead air (see ``hold``).
    """

    type: Literal["silence"]
    max_silence_s: Seconds
    hold_phrases: OptionalPhrases = ()
    hold_lookback_s: Seconds = 10.0


class HoldRule(_RuleBase):
    """Hold etiquette: a gap longer than ``min_hold_s`` must be announced (请您稍等) within
    ``lookback_s`` before it and, if ``thank_phrases`` are given, thanked for (感谢您的耐心等待)
    within ``lookahead_s`` after it; a hold longer than ``max_hold_s`` is a hit anyway."""

    type: Literal["hold"]
    min_hold_s: Seconds
    max_hold_s: Seconds | None = None
    request_phrases: Phrases
    thank_phrases: OptionalPhrases = ()
    lookback_s: Seconds = 10.0
    lookahead_s: Seconds = 10.0


class InterruptionRule(_RuleBase):
    """``role`` starts talking while the other party is speaking, and both talk for longer than
    ``min_overlap_s`` (短暂的附和「嗯」「好的」 stays under it); each occurrence is a hit."""

    type: Literal["interruption"]
    min_overlap_s: Seconds = 1.0


class SpeechRateRule(_RuleBase):
    """Characters per minute of ``role``'s speech outside [min, max]; judged once per call
    when the role spoke for at least ``min_speech_s``."""

    type: Literal["speech_rate"]
    min_chars_per_minute: float = Field(default=0.0, ge=0)
    max_chars_per_minute: float | None = Field(default=None, gt=0)
    min_speech_s: Seconds = 10.0


class TalkRatioRule(_RuleBase):
    """``role``'s share of all talk time outside [min_share, max_share]; once per call."""

    type: Literal["talk_ratio"]
    min_share: float = Field(default=0.0, ge=0, le=1)
    max_share: float = Field(default=1.0, ge=0, le=1)
    min_total_talk_s: Seconds = 10.0


class IntentRule(_MatchingRule):
    """An intent of ``role`` (complaint risk, anger...). ``detector: keywords`` finds it by
    ``phrases``; a model-based detector can come later behind the same rule type."""

    type: Literal["intent"]
    intent: str = Field(pattern=_RULE_ID)
    detector: Literal["keywords"] = "keywords"
    phrases: Phrases
    # A phrase right after one of these (within negation_window_chars) is negated: 我不是要投诉.
    negations: OptionalPhrases = ()
    negation_window_chars: int = Field(default=3, ge=1)


class HangUpRule(_RuleBase):
    """The call ends (within ``end_margin_s`` of the recording's end) while the customer is still
    speaking: the agent hung up on them. A last customer turn with one of ``unless_phrases``
    (再见, 拜拜) is a normal goodbye."""

    type: Literal["hang_up"]
    end_margin_s: Seconds = 0.5
    unless_phrases: OptionalPhrases = ()


RULE_CLASSES = (
    PhrasePresentRule, PhraseAbsentRule, RegexRule, OrderRule, SilenceRule, HoldRule, InterruptionRule,
    SpeechRateRule, TalkRatioRule, IntentRule, HangUpRule,
)
RULE_TYPES: tuple[str, ...] = tuple(get_args(cls.model_fields["type"].annotation)[0] for cls in RULE_CLASSES)
Rule = Annotated[Union[RULE_CLASSES], Field(discriminator="type")]


class Category(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    max_points: float | None = Field(default=None, ge=0)  # most a category can deduct in one call


class Rubric(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    version: int = Field(ge=1)
    name: str = ""
    description: str = ""
    base_score: float = Field(default=100.0, gt=0)
    pass_score: float = Field(default=80.0, ge=0)
    categories: dict[str, Category] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Rubric:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        if self.pass_score > self.base_score:
            raise ValueError(f"pass_score {self.pass_score} is above base_score {self.base_score}")
        unknown = {rule.category for rule in self.rules} - set(self.categories) - {"general"}
        if self.categories and unknown:
            raise ValueError(f"rules use categories not declared under categories: {sorted(unknown)}")
        return self

    @property
    def ref(self) -> RubricRef:
        return RubricRef(id=self.id, version=self.version)


def load_rubric(path: Path) -> Rubric:
    """Read and validate a rubric YAML file.

    Raises:
        RubricError: missing file, bad YAML, or an invalid rule; the message names the file, the
            rule id and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise RubricError(f"{path}: rubric file not found")
    try:
        raw = yaml.safe_load(read_chinese_text(path, "rubric"))
    except ConfigurationError as exc:
        raise RubricError(str(exc)) from exc
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RubricError(f"{path}: a rubric is a mapping with id, version and rules")
    # Top-level keys starting with "x-" hold shared lists for YAML anchors (&name / *name).
    raw = {key: value for key, value in raw.items() if not str(key).startswith("x-")}
    try:
        return Rubric.model_validate(raw)
    except ValidationError as exc:
        raise RubricError(f"{path}: {_describe(exc, raw)}") from exc


def _describe(exc: ValidationError, raw: dict) -> str:
    problems = []
    rules = raw.get("rules") if isinstance(raw.get("rules"), list) else []
    errors = exc.errors()
    has_rule_errors = any(len(error["loc"]) > 1 and error["loc"][0] == "rules" for error in errors)
    for error in errors:
        loc = list(error["loc"])
        if has_rule_errors and loc == ["rules"] and error["type"] == "too_short":
            continue  # a side effect of the invalid rule reported on its own
        where = ""
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            index = loc[1]
            rule = rules[index] if index < len(rules) and isinstance(rules[index], dict) else {}
            where = f"rule {rule.get('id', '?')!r} (rules[{index}])"
            field = [str(part) for part in loc[2:] if part not in RULE_TYPES]
            if field:
                where += f", {'.'.join(field)}"
        elif loc:
            where = ".".join(str(part) for part in loc)
        message = error["msg"]
        if error["type"] == "union_tag_invalid":
            message = f"unknown rule type {error['input'].get('type')!r}; known: {', '.join(RULE_TYPES)}"
        elif error["type"] == "union_tag_not_found":
            message = f"missing 'type'; known: {', '.join(RULE_TYPES)}"
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
