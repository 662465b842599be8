"""The rubric (质检标准) schema: YAML validated by pydantic at load time.

A rubric has an id, a version, a base score and a pass mark, and a list of rules (质检项). Each
rule has a ``type`` that names its check (see ``rubric.checks.CHECKS``), the role it applies to,
its severity and points. Mistakes fail at load, with the file, the rule id and the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union, get_args

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from qa_pipeline.errors import RubricError
from qa_pipeline.types import Role, RubricRef, Severity

_RULE_ID = r"^[a-z][a-z0-9_]*$"


class _RuleBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_RULE_ID)
    description: str = ""  # shown in reports, e.g. 「未使用标准开场白」
    category: str = "general"
    role: Literal["agent", "customer", "any"] = "agent"
    severity: Severity = Severity.DEDUCTION
    points: float = Field(default=0.0, ge=0.0)  # deducted per hit
    max_points: float | None = Field(default=None, ge=0.0)  # cap per call; None: no cap

    @property
    def applies_to(self) -> Role | None:
        """The role whose turns this rule reads; None for every turn."""
        return None if self.role == "any" else Role(self.role)


def _check_phrases(phrases: tuple[str, ...]) -> tuple[str, ...]:
    from qa_pipeline.text import normalize_for_matching  # noqa: PLC0415

    for phrase in phrases:
        if not normalize_for_matching(phrase):
            raise ValueError(f"phrase {phrase!r} is empty once punctuation and spaces are removed")
    return phrases


# YAML reads 12315 as a number: phrases accept numbers and keep them as text.
Phrase = Annotated[str, BeforeValidator(lambda value: str(value) if isinstance(value, int | float) else value)]
Phrases = Annotated[tuple[Phrase, ...], Field(min_length=1), AfterValidator(_check_phrases)]


class _MatchingRule(_RuleBase):
    # "pinyin": phrases match words that sound the same (forgives ASR homophones: 工号/公号);
    # "exact": the same characters (after removing punctuation, spaces and filler words).
    match: Literal["pinyin", "exact"] = "pinyin"

    @property
    def by_sound(self) -> bool:
        return self.match == "pinyin"


class _PhraseRule(_MatchingRule):
    phrases: Phrases


class PhrasePresentRule(_PhraseRule):
    """One of ``phrases`` must be said (by ``role``) in the window; a hit when none is."""

    type: Literal["phrase_present"]
    within_first_s: float | None = Field(default=None, gt=0)  # after the call's first speech
    within_last_s: float | None = Field(default=None, gt=0)  # before the call's last speech

    @model_validator(mode="after")
    def _one_window(self) -> PhrasePresentRule:
        if self.within_first_s is not None and self.within_last_s is not None:
            raise ValueError("set within_first_s or within_last_s, not both")
        return self


class PhraseAbsentRule(_PhraseRule):
    """None of ``phrases`` may be said (by ``role``); each occurrence is a hit."""

    type: Literal["phrase_absent"]


class OrderRule(_MatchingRule):
    """``then_phrases`` may only be said after one of ``first_phrases`` (e.g. verify, then disclose)."""

    type: Literal["order"]
    first_phrases: Phrases
    then_phrases: Phrases


class SilenceRule(_RuleBase):
    """Dead air: no one speaks for longer than ``max_silence_s``; each gap is a hit."""

    type: Literal["silence"]
    max_silence_s: float = Field(gt=0)


RULE_CLASSES = (PhrasePresentRule, PhraseAbsentRule, OrderRule, SilenceRule)
RULE_TYPES: tuple[str, ...] = tuple(get_args(cls.model_fields["type"].annotation)[0] for cls in RULE_CLASSES)
Rule = Annotated[Union[RULE_CLASSES], Field(discriminator="type")]


class Rubric(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    version: int = Field(ge=1)
    name: str = ""
    base_score: float = Field(default=100.0, gt=0)
    pass_score: float = Field(default=80.0, ge=0)
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
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise RubricError(f"{path}: a rubric is a mapping with id, version and rules")
    try:
        return Rubric.model_validate(raw)
    except ValidationError as exc:
        raise RubricError(f"{path}: {_describe(exc, raw)}") from exc


def _describe(exc: ValidationError, raw: dict) -> str:
    problems = []
    rules = raw.get("rules") if isinstance(raw.get("rules"), list) else []
    for error in exc.errors():
        loc = list(error["loc"])
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

