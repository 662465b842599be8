"""Role detection: which channel (stereo) or diarized speaker (mono) is the agent (坐席), and
which the customer (客户).

On stereo, the agent channel comes, in order of precedence, from the call's metadata (manifest),
from the configuration (``agent_channel: 0|1``), or, with ``auto``, from what each channel says:
agents greet with their company and 工号, offer help, verify identity, close with set phrases and
say 您; customers ask, complain, give their details and mostly say 你. Unless the call is known to
be outbound, the first speaker gets a small bonus (on inbound calls the agent speaks first); when
the direction is unknown and the first turn is someone picking up (「喂？哪位？」), it does not. On a
mono mix the first speaker is whoever says the first turn that lasts a second
(``FIRST_TURN_MIN_S``): a shorter one is as often a word sound put in the wrong voice.
Mono recordings cut into speakers by diarization get the same treatment per speaker; with three
or more speakers (a transfer), every speaker who talks like an agent is one. Where diarization
heard one voice, or two it could barely tell apart whose words do not show an agent and a
customer, the first of its other splits into two where one side talks like the agent and the
other like a customer is taken (``split_by_content``): voices too alike to tell apart by sound,
or a party who says too little to be sure of, are told apart by what they say. Where sound's two
voices already talk as agent and customer, another split is taken only if it places their words
better (the agent's 工号 that sound heard in the customer's voice goes back). Where sound heard
one voice and none of its splits does, its sentences are sorted by what each says
(``split_by_sentences``). Where it heard two that are not agent and customer (voices too alike:
the customer's question heard in the agent's voice), the sentences that read as the other
party's move across, the rest keeping the voice sound heard them in
(``move_sentences_across``). One voice left that says agent phrases and nothing of a customer's is
the agent (``_lone_agent``): a customer who spoke only over the agent is not heard apart, and
rules for the customer then have no turns to read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import NamedTuple

from qa_pipeline.text import joined_in_words, normalize_for_matching
from qa_pipeline.transcribe import said_span, split_by_speaker, turn_of_words
from qa_pipeline.types import (
    CallMetadata,
    Diarization,
    Direction,
    Role,
    RoleAssignment,
    SpeakerSegment,
    Transcript,
    Turn,
    Word,
    round_s,
)

# Phrases typical of each role in Mandarin service calls, with weights. Generic domain cues, not
# tuned to any recording.
AGENT_CUES: dict[str, float] = {
    "工号": 3.0, "很高兴为您服务": 3.0, "客服": 2.0, "有什么可以帮您": 3.0, "有什么可以帮到您": 3.0,
    "请问还有其他": 2.5, "还有其他问题": 2.5, "还有其他需要": 2.5,  # the closing question; not 还有其他办法吗
    "感谢您的来电": 3.0, "感谢您来电": 3.0, "感谢来电": 3.0, "祝您生活愉快": 2.5, "请您稍等": 1.5, "为您查询": 2.0,
    "帮您": 1.0, "为您": 1.0, "核实": 1.5, "身份证": 1.0, "机主": 1.5, "请问您是": 1.5,
    "给您带来不便": 2.0, "非常抱歉": 1.0, "您好": 0.5, "回访": 1.5, "请问您": 0.5, "您的": 0.3,
    "客户服务": 2.0, "打扰您": 1.5, "通知您": 1.5, "提醒您": 1.0, "本人吗": 1.5, "满意吗": 1.5, "是否满意": 1.5,
    "提供": 1.0, "请讲": 1.0,  # asking for the customer's details; picking up an inbound call (「您好，请讲」)
}
CUSTOMER_CUES: dict[str, float] = {
    "我想问": 2.0, "我想": 1.0, "我要投诉": 2.5, "投诉": 1.0, "你们": 1.0, "我的": 0.5, "怎么回事": 1.5,
    "为什么": 0.5, "我要": 0.5, "喂": 0.5, "找你们领导": 2.0, "是我": 0.5, "你是哪": 1.5, "哪位": 0.5,
}
# Agents say 您 to the customer; customers mostly say 你 (你好 aside, which both say). Counted per
# use, on top of the phrases.
POLITE_YOU_WEIGHT = 0.3
INFORMAL_YOU_WEIGHT = 0.2
# A voice's 我 counts half towards its being the customer when telling two voices apart by content:
# agents say 我 too (我这边, 我理解, 我是).
FIRST_PERSON_WEIGHT = 0.5
_FIRST_SPEAKER_BONUS = 1.0
# On a mono mix the first speaker is whoever says the first turn this long: a shorter first turn is
# as often a word at the start that sound put in the wrong voice (the agent's 「喂」 heard in the
# customer's), or the 「喂」 of someone picking up. (A channel's first turn is that party's, however short.)
FIRST_TURN_MIN_S = 1.0
_AGENT_EVIDENCE = 3.0  # agent cue score of a voice that talks like the agent (one strong cue)
# ... and the most a customer's voice may have: one weak cue that customers say too (核实, 机主,
# 请您稍等, 帮您, 您好). (On the evaluation sets no voice alone was split with anything up to 3.)
_AGENT_TRACE = 1.5
# The agent's side of a sentence cut in two (``_sides_of_sentence``): one agent phrase's worth.
_PIECE_AGENT_EVIDENCE = 1.0
# A sentence that ends with a possessive (我的, 您的, 我们的) goes on after a pause: 「我的｜工号是…」.
_OPEN_POSSESSIVE = re.compile(r"[我您你他她]们?的$")
# A split replaces sound's two voices (where they already show two parties, or where they are
# set apart wrongly and the cut is sentence by sentence) only if it moves this much more of their
# cues to the right side (one agent phrase's worth), and none to the wrong one.
_BETTER_PLACED_CUES = 1.0
_SECOND_AGENT_MARGIN = 3.0  # agent cues over customer cues for a further speaker to count as an agent
LOW_ROLE_CONFIDENCE = 0.6  # below this, the guess is flagged for a human


def assign_roles(
    transcript: Transcript,
    *,
    agent_channel: int | str = "auto",
    metadata: CallMetadata | None = None,
    diarization: Diarization | None = None,
) -> Transcript:
    """Set each turn's role.

    Args:
        transcript: turns with channels (roles unknown).
        agent_channel: 0 or 1 to force the agent's channel on stereo, or ``"auto"``.
        metadata: the call's metadata; its ``agent_channel`` wins over the setting.
        diarization: the diarization a mono transcript was cut by. Where it offers
            ``two_voice_splits`` (it kept one voice, or two barely apart) and the transcript's
            voices do not talk like an agent and a customer, the turns are cut by the first split
            whose two voices do (``speaks_as_two_parties``).

    Returns:
        A new transcript with roles and the ``RoleAssignment`` that explains them. A mono
        recording diarization did not cut into voices keeps ``unknown`` roles, with a warning,
        unless its one voice talks only like the agent.
    """
    metadata = metadata or CallMetadata()
    warnings = list(transcript.warnings)
    if transcript.num_channels < 2:
        return _assign_speaker_roles(transcript, metadata, warnings, diarization)
    if metadata.agent_channel is not None:
        assignment = RoleAssignment(agent_channel=metadata.agent_channel, source="metadata", confidence=1.0)
    elif agent_channel != "auto":
        assignment = RoleAssignment(agent_channel=int(agent_channel), source="config", confidence=1.0)
    else:
        assignment = detect_agent_channel(transcript, direction=metadata.direction)
        if assignment.confidence is not None and assignment.confidence < LOW_ROLE_CONFIDENCE:
            warnings.append(
                f"agent channel guessed as {assignment.agent_channel} with low confidence "
                f"({assignment.confidence:.2f}); set --agent-channel if the vendor's layout is known"
            )
    return _with_roles(transcript, assignment, warnings, lambda turn: turn.channel == assignment.agent_channel)


def detect_agent_channel(transcript: Transcript, *, direction: Direction | None = None) -> RoleAssignment:
    """Guess the agent's channel of a stereo transcript from what each channel says.

    The confidence is the (smoothed) share of the evidence that points to the chosen channel:
    0.5 is a coin toss; it nears 1.0 as more cues agree.
    """
    turns = [turn for turn in transcript.turns if turn.channel <= 1]
    agent, confidence, _ = _detect_agent(turns, [0, 1], lambda turn: turn.channel, direction)
    return RoleAssignment(agent_channel=agent, source="auto", confidence=confidence)


def detect_agent_speakers(transcript: Transcript, *, direction: Direction | None = None) -> RoleAssignment:
    """Guess which diarized speakers of a mono transcript are agents (see ``detect_agent_channel``)."""
    speakers = list(dict.fromkeys(turn.speaker for turn in transcript.turns))
    agent, confidence, scores = _detect_agent(list(transcript.turns), speakers, lambda turn: turn.speaker,
                                              direction, first_turn_min_s=FIRST_TURN_MIN_S)
    # A second agent (a transfer, a supervisor joining) talks like one: more agent than customer cues.
    agents = [agent] + [s for s in speakers if s != agent and scores[s][0] >= scores[s][1] + _SECOND_AGENT_MARGIN]
    return RoleAssignment(agent_channel=None, source="auto", confidence=confidence, agent_speakers=tuple(agents))


def _detect_agent(turns: list, parties: list, party_of, direction: Direction | None,  # type: ignore[no-untyped-def]
                  first_turn_min_s: float = 0.0):
    """The most agent-like party, the confidence, and each party's (agent, customer) cue scores.
    The first speaker is the party of the first turn lasting ``first_turn_min_s`` (of the first
    turn, if none does)."""
    scores = {party: [0.0, 0.0] for party in parties}
    for turn in turns:
        evidence = voice_evidence(turn.text)
        scores[party_of(turn)][0] += _agent_score(evidence)
        scores[party_of(turn)][1] += _customer_score(evidence)
    # Evidence that a party is the agent: its agent cues, and the customer cues of the others.
    others = max(len(parties) - 1, 1)
    evidence = {party: scores[party][0] + sum(scores[o][1] for o in parties if o != party) / others
                for party in parties}
    first = next((turn for turn in turns if turn.end_s - turn.start_s >= first_turn_min_s), turns[0] if turns else None)
    if first is not None and direction != Direction.OUTBOUND and not _answers_the_phone(first, direction):
        evidence[party_of(first)] += _FIRST_SPEAKER_BONUS
    agent = max(parties, key=lambda party: (evidence[party], -parties.index(party)))
    # Add-one smoothing: a little evidence gives a modest confidence, none gives 1/parties.
    total = sum(evidence.values())
    confidence = (evidence[agent] + 1.0) / (total + len(parties)) if parties else 0.0
    return agent, round(confidence, 3), {party: tuple(score) for party, score in scores.items()}


def _answers_the_phone(first: Turn, direction: Direction | None) -> bool:
    """Whether the call's first turn, direction unknown, is someone picking up (「喂？」「哪位？」):
    more customer cues than agent ones. Then the call is likely outbound and the first speaker
    the customer, so the first-speaker bonus is not given."""
    if direction is not None:
        return False
    evidence = voice_evidence(first.text)
    return _customer_score(evidence) > _agent_score(evidence)


class ContentSplit(NamedTuple):
    """A mono transcript cut into two voices by what they say, and the split it was cut by."""

    transcript: Transcript
    segments: tuple[SpeakerSegment, ...]
    by_sentence: bool = False  # each turn sorted by its own words (``split_by_sentences``)


def split_by_content(transcript: Transcript, diarization: Diarization) -> ContentSplit | None:
    """The mono transcript cut by the first of the diarization's ``two_voice_splits`` whose two
    voices say what shows two parties (``speaks_as_two_parties``); None when there is none, or
    when the transcript has more than two voices.

    Where sound kept two voices, the cut must also leave its customer side at least the customer
    talk that sound's less agent-like voice had: a few agent words heard in the customer's voice
    fail the check too, and a cut that then sets apart a smaller piece of the customer's talk is
    worse than what sound found.

    Where sound's two voices already show two parties, a split is taken only if it places the
    cues better (``_places_cues_better``): the agent's 工号 that sound heard in the customer's
    voice goes back to the agent, and nothing moves the wrong way.

    Where no split does, and sound kept one voice or two that both talk like the agent (one
    party heard as two, the other hidden in one of them), the turns are cut sentence by sentence
    (``split_by_sentences``). Where it kept two voices of which one is not the agent's and the
    other not a customer's (sound set voices too alike apart wrongly in places), a sentence cut
    is taken if it places the cues better and its customer says a customer phrase: first the one
    that moves only the sentences that read as the other party's (``move_sentences_across``),
    else ``split_by_sentences``."""
    kept = _voices(transcript.turns)
    if len(kept) > 2:
        return None
    sound_agrees = len(kept) == 2 and speaks_as_two_parties(*kept)
    for segments in diarization.two_voice_splits:
        split = Diarization(segments=segments, num_speakers=2, method=diarization.method)
        turns = _join_abutting([piece for turn in transcript.turns for piece in split_by_speaker(turn, split)])
        voices = _voices(turns)
        if len(voices) != 2 or not speaks_as_two_parties(*voices):
            continue
        if sound_agrees and not _places_cues_better(voices, kept):
            continue
        if len(kept) == 2 and _customer_side_talk(voices) < _customer_side_talk(kept):
            return None
        return ContentSplit(transcript.model_copy(update={"turns": tuple(turns)}), segments)
    if sound_agrees:
        return None
    if len(kept) == 1 or all(_agent_score(voice) >= _AGENT_EVIDENCE for voice in kept):
        return split_by_sentences(transcript, diarization)
    # Sound's two voices are neither an agent and a customer nor the agent heard as two: its
    # split is wrong in places. A sentence-by-sentence cut is taken if it places the
    # cues better and its customer says a customer phrase (a 你 alone in the agent's voice is as
    # likely the agent's 您 as Whisper writes it: 「那就不打扰你了」): the cut that keeps sound's
    # voice for the sentences what they say cannot place first, else the one that gives them
    # all to the agent.
    for cut in (move_sentences_across, split_by_sentences):
        split = cut(transcript, diarization)
        voices = _voices(split.transcript.turns) if split is not None else []
        if voices and min(voices, key=_agent_score).customer_cues > 0 and _places_cues_better(voices, kept):
            return split
    return None


def _join_abutting(turns: Sequence[Turn]) -> list[Turn]:
    """Consecutive turns of one speaker with no gap between them as one turn: sound's first split
    cut them apart (「…回访专员工」「号六零零一」), and the split now taken gives both to one voice."""
    joined: list[Turn] = []
    for turn in turns:
        previous = joined[-1] if joined else None
        if (previous is not None and previous.speaker == turn.speaker and previous.channel == turn.channel
                and previous.words and turn.words and turn.start_s - previous.end_s < 1e-3):
            confidences = [c for c in (previous.diarization_confidence, turn.diarization_confidence) if c is not None]
            joined[-1] = turn_of_words(previous, previous.words + turn.words, start_s=previous.start_s,
                                       diarization_confidence=min(confidences) if confidences else None)
        else:
            joined.append(turn)
    return joined


def _places_cues_better(voices: Sequence[VoiceEvidence], kept: Sequence[VoiceEvidence]) -> bool:
    """Whether two voices hold their cues better than ``kept`` (sound's two voices; in each pair
    the more agent-like voice is the agent's side): no less agent talk on the agent's side nor
    customer talk on the customer's, no more of either on the wrong side, and at least
    ``_BETTER_PLACED_CUES`` more in all on the right sides."""
    def sides(pair: Sequence[VoiceEvidence]) -> tuple[float, float, float, float]:
        agent, customer = sorted(pair, key=_agent_score, reverse=True)
        return _agent_score(agent), _customer_talk(customer), -_agent_score(customer), -_customer_talk(agent)

    gains = [new - old for new, old in zip(sides(voices), sides(kept))]
    return min(gains) >= 0 and sum(gains) >= _BETTER_PLACED_CUES


def split_by_sentences(transcript: Transcript, diarization: Diarization) -> ContentSplit | None:
    """A mono transcript of one voice (or of two that both talk like the agent) cut into agent
    and customer sentence by sentence, by what each says; None unless the two sides then speak
    as two parties (``speaks_as_two_parties``, the check sound's splits pass).

    For voices too alike for the encoder (the same kind of voice a little higher or lower), and
    a party none of whose speech was heard apart: a sentence (``sentences``: a turn cut at full
    stops and at pauses) whose customer talk (customer phrases, 你, half of 我) outweighs its
    agent talk (agent phrases, 您) is the customer's; every other sentence stays with the agent's
    voice, cue-less ones included (「好的」, digits read out). A sentence that talk-over ran both
    parties into is cut in two first (``_sides_of_sentence``). The customer's side must say
    something only customers say (a customer phrase or 你). A turn whose sentences all fall on
    one side stays as it was. The diarization's segments are cut the same way: each stretch of
    speech goes to the side of the turn nearest it.
    """
    sides = [_sentence_sides(turn) for turn in transcript.turns]
    is_customer = [customer for turn_sides in sides for _, customer in turn_sides]
    if not any(is_customer) or all(is_customer):
        return None
    name = {is_customer[0]: "spk0", not is_customer[0]: "spk1"}
    split_turns = [piece for turn, turn_sides in zip(transcript.turns, sides)
                   for piece in _regrouped(turn, [(sentence, name[customer]) for sentence, customer in turn_sides])]
    voices = _voices(split_turns)
    # One party's sentences are short, and 「我看一下」 alone talks like a customer: the customer
    # side must say something only customers say (a customer phrase or 你), not only 我.
    if not speaks_as_two_parties(*voices) or _customer_score(min(voices, key=_agent_score)) <= 0:
        return None
    return ContentSplit(transcript.model_copy(update={"turns": tuple(split_turns)}),
                        _segments_by_turn(diarization.segments, split_turns), by_sentence=True)


def move_sentences_across(transcript: Transcript, diarization: Diarization) -> ContentSplit | None:
    """Sound's two voices with each sentence that reads as the other party's moved to the other
    voice; None unless the two then speak as two parties (``speaks_as_two_parties``).

    For two voices sound set apart wrongly in places (voices too alike for the encoder): the
    customer's words heard in the agent's voice (a sentence whose customer talk outweighs its
    agent talk, as ``split_by_sentences`` reads it) go to the other voice, and agent phrases heard
    in the other voice (``_PIECE_AGENT_EVIDENCE`` of them and 您, nothing of a customer's) to the
    agent's. The agent's voice is the one that says more agent phrases and 您. Every sentence
    without such evidence (「好的」「明白了」, digits read out) keeps the voice sound gave it,
    where ``split_by_sentences`` would give it to the agent.
    """
    speakers = list(dict.fromkeys(turn.speaker for turn in transcript.turns))
    if len(speakers) != 2:
        return None
    voices = _voices(transcript.turns)
    agent = speakers[0] if _agent_score(voices[0]) >= _agent_score(voices[1]) else speakers[1]
    customer = speakers[1] if agent == speakers[0] else speakers[0]

    def speaker_of(sentence: Turn, is_customer: bool, heard: str) -> str:
        if is_customer:
            return customer
        return agent if _is_agent_piece(voice_evidence(sentence.text)) else heard

    moved = _join_abutting([piece for turn in transcript.turns for piece in _regrouped(
        turn, [(sentence, speaker_of(sentence, is_customer, turn.speaker))
               for sentence, is_customer in _sentence_sides(turn)])])
    voices = _voices(moved)
    if len(voices) != 2 or not speaks_as_two_parties(*voices):
        return None
    return ContentSplit(transcript.model_copy(update={"turns": tuple(moved)}),
                        _segments_by_turn(diarization.segments, moved), by_sentence=True)


def _sentence_sides(turn: Turn) -> list[tuple[Turn, bool]]:
    """A turn's sentences (or, where talk-over ran two parties into one, its pieces), each with
    whether it is the customer's (``_sides_of_sentence``)."""
    return [side for sentence in sentences(turn) for side in _sides_of_sentence(sentence)]


def _regrouped(turn: Turn, pieces: Sequence[tuple[Turn, str]]) -> list[Turn]:
    """``turn`` given to the speakers of its pieces: one speaker's pieces in a row are one turn;
    a turn whose pieces all go to one speaker stays whole."""
    if len({speaker for _, speaker in pieces}) == 1:
        return [turn.model_copy(update={"speaker": pieces[0][1]})]
    regrouped: list[Turn] = []
    for speaker, run in groupby(pieces, key=lambda piece: piece[1]):
        run_pieces = [piece for piece, _ in run]
        regrouped.append(turn_of_words(turn, [word for piece in run_pieces for word in piece.words],
                                       start_s=run_pieces[0].start_s, speaker=speaker))
    return regrouped


def _sides_of_sentence(sentence: Turn) -> list[tuple[Turn, bool]]:
    """A sentence with whether it is the customer's; or, where talk-over ran both parties into it,
    its two parties' pieces, each with whether it is the customer's.

    When the agent answers before the customer has finished (「…想问一下理赔进度」「我帮您查询一
    下」), there is no pause and no full stop between them, and Whisper writes one sentence whose
    cues cancel out. It is cut at the word boundary where one side talks like a customer (a
    customer phrase, more customer talk than agent talk, at most a trace of agent phrases; 你
    alone is not enough, Whisper writes the agent's 您 so too) and the other like the agent
    (``_PIECE_AGENT_EVIDENCE`` of agent phrases and 您, no customer phrase or 你): the boundary
    that sets their cues furthest apart, and of those the one at the longest pause. Never inside
    a word of jieba's dictionary, nor after a possessive (「我的｜工号是…」: the agent's own words).
    """
    words = sentence.words
    pieces = [word.text for word in words]
    joined = joined_in_words(pieces)
    text, head_length = "".join(pieces), 0
    best: tuple[int, bool] | None = None
    best_rank = (0.0, 0.0)
    for cut in range(1, len(words)):
        head_length += len(pieces[cut - 1])
        head_text = text[:head_length]
        if joined[cut - 1] or _OPEN_POSSESSIVE.search(head_text):
            continue
        head, tail = voice_evidence(head_text), voice_evidence(text[head_length:])
        for customer_first in (True, False):
            customer, agent = (head, tail) if customer_first else (tail, head)
            if _is_customer_piece(customer) and _is_agent_piece(agent):
                # Cues apart first; between cue-less words (「…进度｜我帮您…」), the longest pause.
                margin = _customer_score(customer) - _agent_score(customer) + _agent_score(agent) - _customer_score(agent)
                rank = (round(margin, 6), said_span(words[cut])[0] - words[cut - 1].end_s)
                if best is None or rank > best_rank:
                    best, best_rank = (cut, customer_first), rank
    if best is None:
        return [(sentence, _talks_like_customer(voice_evidence(sentence.text)))]
    cut, customer_first = best
    head_turn = turn_of_words(sentence, words[:cut], start_s=sentence.start_s)
    tail_turn = turn_of_words(sentence, words[cut:], start_s=said_span(words[cut])[0])
    return [(head_turn, customer_first), (tail_turn, not customer_first)]


def _is_customer_piece(voice: VoiceEvidence) -> bool:
    return voice.customer_cues > 0 and _talks_as_the_customer(voice)


def _is_agent_piece(voice: VoiceEvidence) -> bool:
    return _agent_score(voice) >= _PIECE_AGENT_EVIDENCE and _customer_score(voice) == 0 and not _talks_like_customer(voice)


_SENTENCE_END = frozenset("。？！?!")
# A pause this long between where two words were said (``said_span``) ends a sentence too: Whisper
# runs on its word times over pauses and often writes no full stop between two parties.
SENTENCE_PAUSE_S = 0.5


def sentences(turn: Turn) -> list[Turn]:
    """A turn cut into its sentences: after each word that ends one (「…可以帮您。」「我想问…」), and
    where a word was said ``SENTENCE_PAUSE_S`` or more after the word before it ended, unless what
    came before ends with a possessive (「我的」 then 「工号是…」: a speaker pausing). On a mono
    recording Whisper runs both parties' talk into one turn when its word times hide the pause
    between them. Each piece after the first starts where its first word was said; a turn
    without words stays whole.

    >>> turn = Turn(start_s=0.0, end_s=4.6, channel=0, speaker="spk0", text="请问有什么可以帮您。我想查话费好的",
    ...             words=(Word(start_s=0.0, end_s=1.4, text="请问有什么可以帮您。"),
    ...                    Word(start_s=1.4, end_s=3.0, text="我想查话费"), Word(start_s=3.0, end_s=4.6, text="好的")))
    >>> [(piece.start_s, piece.end_s, piece.text) for piece in sentences(turn)]
    [(0.0, 1.4, '请问有什么可以帮您。'), (1.5, 3.0, '我想查话费'), (4.0, 4.6, '好的')]
    """
    groups: list[list[Word]] = [[]]
    for word in turn.words:
        if (groups[-1] and said_span(word)[0] - groups[-1][-1].end_s >= SENTENCE_PAUSE_S
                and not _OPEN_POSSESSIVE.search("".join(w.text for w in groups[-1]))):
            groups.append([])
        groups[-1].append(word)
        if word.text[-1:] in _SENTENCE_END:
            groups.append([])
    groups = [group for group in groups if group]
    if len(groups) < 2:
        return [turn]
    return [turn_of_words(turn, group, start_s=said_span(group[0])[0] if index else turn.start_s)
            for index, group in enumerate(groups)]


def _segments_by_turn(segments: Sequence[SpeakerSegment], turns: Sequence[Turn]) -> tuple[SpeakerSegment, ...]:
    """``segments`` cut where the nearest turn changes, each piece with that turn's speaker (the
    edge between two turns is half-way through the gap between them)."""
    ordered = sorted(turns, key=lambda turn: turn.start_s)
    edges = [(a.end_s + b.start_s) / 2 if a.end_s < b.start_s else b.start_s
             for a, b in zip(ordered, ordered[1:])]
    pieces: list[SpeakerSegment] = []
    for segment in segments:
        start_s = segment.start_s
        for index, turn in enumerate(ordered):
            end_s = min(edges[index], segment.end_s) if index < len(edges) else segment.end_s
            if end_s <= start_s:
                continue
            if pieces and pieces[-1].speaker == turn.speaker and abs(pieces[-1].end_s - start_s) < 1e-3:
                pieces[-1] = pieces[-1].model_copy(update={"end_s": round_s(end_s)})
            else:
                pieces.append(segment.model_copy(update={"start_s": round_s(start_s), "end_s": round_s(end_s),
                                                         "speaker": turn.speaker}))
            start_s = end_s
            if start_s >= segment.end_s:
                break
    return tuple(pieces)


def _voices(turns: Sequence[Turn]) -> list[VoiceEvidence]:
    """The role evidence of each speaker of the turns, in order of first turn."""
    speakers = list(dict.fromkeys(turn.speaker for turn in turns))
    return [voice_evidence("".join(turn.text for turn in turns if turn.speaker == speaker)) for speaker in speakers]


def _customer_side_talk(voices: Sequence[VoiceEvidence]) -> float:
    """The customer talk (``_customer_talk``) of the less agent-like of two voices."""
    return _customer_talk(min(voices, key=_agent_score))


class VoiceEvidence(NamedTuple):
    """What one voice says: its agent and customer phrase scores, and how often it says 您 (an
    agent's word to the customer), 你 (a customer's) and 我 (a customer's word about their own
    account, though agents say it too; 我们, the company's voice, aside). The greetings 您好 and
    你好 count for neither 您 nor 你: both parties say both (and on a mono mix Whisper often
    writes the customer's 你好 as 您好); 您好 stays a weak agent cue. Nor does the 您 of the
    courtesies 谢谢您 and 麻烦您, which a polite customer says to the agent as often as the agent
    to the customer (a customer's 麻烦你 is still a customer's 你)."""

    agent_cues: float
    customer_cues: float
    polite_you: int
    first_person: int
    informal_you: int = 0


# Said with 您 by both parties: their 您 is no sign of the agent.
_SAID_WITH_NIN_BY_BOTH = ("您好", "谢谢您", "麻烦您")


def voice_evidence(text: str) -> VoiceEvidence:
    """The role evidence in ``text``. An agent phrase Whisper wrote with 你 for 您 (「祝你生活愉快」
    「不打扰你了」, common on a mono mix) counts as the phrase, and its 你 as the agent's 您.

    >>> voice_evidence("好的那就不打扰你了祝你生活愉快") == voice_evidence("好的那就不打扰您了祝您生活愉快")
    True
    """
    text = _AGENT_PHRASES_WITH_NI.sub(lambda match: match.group().replace("你", "您"), normalize_for_matching(text))
    return VoiceEvidence(
        agent_cues=sum(weight * text.count(cue) for cue, weight in _NORMALIZED_AGENT_CUES.items()),
        customer_cues=sum(weight * text.count(cue) for cue, weight in _NORMALIZED_CUSTOMER_CUES.items()),
        polite_you=text.count("您") - sum(text.count(both_say) for both_say in _SAID_WITH_NIN_BY_BOTH),
        first_person=text.count("我") - text.count("我们"),
        informal_you=text.count("你") - text.count("你好"))


def speaks_as_two_parties(first: VoiceEvidence, second: VoiceEvidence) -> bool:
    """Whether two voices are an agent and a customer: one says agent phrases
    (``_AGENT_EVIDENCE``), the other at most a trace of them (``_AGENT_TRACE``) and more that is
    a customer's (customer cues, 你, half of 我) than an agent's (agent cues, 您).

    One party heard as two voices says the same kind of thing in both: an agent's greeting in
    one and the closing in the other, or a customer's questions in both.
    """
    agent, other = sorted((first, second), key=_agent_score, reverse=True)
    return _agent_score(agent) >= _AGENT_EVIDENCE and _talks_as_the_customer(other)


def _talks_as_the_customer(voice: VoiceEvidence) -> bool:
    """Whether a voice (or a piece of a sentence) is the customer's side of two parties: at most a
    trace of agent phrases (``_AGENT_TRACE``) and more customer talk than agent talk."""
    return voice.agent_cues <= _AGENT_TRACE and _talks_like_customer(voice)


def _talks_like_customer(voice: VoiceEvidence) -> bool:
    """Whether a voice (or one turn) says more that is a customer's than an agent's."""
    return _customer_talk(voice) > voice.agent_cues + voice.polite_you


def _customer_talk(voice: VoiceEvidence) -> float:
    """What in a voice is a customer's, for telling two voices apart: customer phrases, 你, half of 我."""
    return voice.customer_cues + voice.informal_you + FIRST_PERSON_WEIGHT * voice.first_person


def _customer_score(voice: VoiceEvidence) -> float:
    """How much a voice talks like the customer: its customer phrases and its 你."""
    return voice.customer_cues + INFORMAL_YOU_WEIGHT * voice.informal_you


def _agent_score(voice: VoiceEvidence) -> float:
    """How much a voice talks like the agent: its agent phrases and its 您."""
    return voice.agent_cues + POLITE_YOU_WEIGHT * voice.polite_you


def _assign_speaker_roles(transcript: Transcript, metadata: CallMetadata, warnings: list[str],
                          diarization: Diarization | None) -> Transcript:
    speakers = {turn.speaker for turn in transcript.turns}
    if len(speakers) <= 2 and diarization is not None and (split := split_by_content(transcript, diarization)):
        heard = ("could not tell apart" if len(speakers) < 2 else
                 "could barely tell apart" if diarization.two_voice_splits else "set apart wrongly in places")
        how = "sentence by sentence, by what each says" if split.by_sentence else "by what they say"
        warnings.append(f"mono recording: two voices that sound alone {heard} were told apart {how} "
                        "(one talks like the agent, the other like a customer)")
        transcript, speakers = split.transcript, {turn.speaker for turn in split.transcript.turns}
    if len(speakers) < 2:
        if diarization is not None and (assignment := _lone_agent(transcript)) is not None:
            warnings.append("mono recording with one voice found, which talks only like the agent: its turns "
                            "are the agent's; a customer heard only over the agent was not told apart")
            return _with_roles(transcript, assignment, warnings, lambda turn: True)
        if transcript.turns:
            warnings.append("mono recording with one voice found: agent and customer are not told apart; "
                            "rules check every turn")
        return transcript.model_copy(
            update={"roles": RoleAssignment(agent_channel=None, source="none"), "warnings": tuple(warnings)})
    assignment = detect_agent_speakers(transcript, direction=metadata.direction)
    if assignment.confidence is not None and assignment.confidence < LOW_ROLE_CONFIDENCE:
        warnings.append(f"agent guessed as {'/'.join(assignment.agent_speakers)} with low confidence "
                        f"({assignment.confidence:.2f}) on a mono recording")
    labelled = _with_roles(transcript, assignment, warnings, lambda turn: turn.speaker in assignment.agent_speakers)
    return labelled.model_copy(update={"turns": move_edge_pieces(labelled.turns)})


# A piece of a mono turn this short (normalized characters) at a change of speaker, that reads as
# the other party's, is theirs: sound cannot place half a second of speech.
EDGE_PIECE_MAX_CHARS = 4
EDGE_GAP_S = 1.0  # the two turns are this close: one change of speaker


def move_edge_pieces(turns: Sequence[Turn]) -> tuple[Turn, ...]:
    """Mono turns with agent and customer roles, where a short piece at a change of speaker that
    reads as the other party's is moved to the other party's turn.

    Sound gives the voice of half a second of speech by its neighbours: the agent's 「您好。」
    right after the customer's 「喂，哪位？」 is heard in the customer's voice, and the agent's
    greeting is then missing. A piece is a turn's last or first sentence (``sentences``), or a
    whole turn, of at most ``EDGE_PIECE_MAX_CHARS`` characters, next to the other party's turn
    (at most ``EDGE_GAP_S`` apart); it moves when it reads only as that party's: 您 or an agent
    phrase and no customer talk for the agent, a customer phrase or 你 and no agent talk for the
    customer. A piece with no role evidence (「你好」「好的」) stays where sound put it, and so
    do a piece whose cut from its turn would fall inside a word (「你｜好我是…」) and a whole
    turn sound was certain of (``_heard_for_sure``: the agent's curt 「喂，什么事？」, heard as
    「为什么事」, is the agent's though it reads as a customer's).

    >>> def said(start_s, role, *texts):
    ...     words = tuple(Word(start_s=start_s + i, end_s=start_s + i + 0.8, text=t) for i, t in enumerate(texts))
    ...     return Turn(start_s=start_s, end_s=words[-1].end_s, channel=0, speaker=role[:3], role=role,
    ...                 text="".join(texts), words=words)
    >>> moved = move_edge_pieces([said(0.0, Role.CUSTOMER, "喂，哪位？", "您好。"),
    ...                           said(2.2, Role.AGENT, "我是顺达客服小王。")])
    >>> [(turn.role.value, turn.start_s, turn.text) for turn in moved]
    [('customer', 0.0, '喂，哪位？'), ('agent', 1.2, '您好。我是顺达客服小王。')]
    """
    result: list[Turn] = []
    for turn in sorted(turns, key=lambda turn: turn.start_s):
        if result and _parties_take_turns(result[-1], turn):
            previous = result.pop()
            result.extend(_moved_edge(previous, turn))
        else:
            result.append(turn)
    return tuple(result)


def _parties_take_turns(first: Turn, second: Turn) -> bool:
    return ({first.role, second.role} == {Role.AGENT, Role.CUSTOMER} and bool(first.words) and bool(second.words)
            and second.start_s - first.end_s <= EDGE_GAP_S)


def _moved_edge(first: Turn, second: Turn) -> list[Turn]:
    """``first`` and ``second`` with the short piece between them that reads as the other's moved
    across (see ``move_edge_pieces``); nothing moves when neither edge reads so."""
    first_pieces, second_pieces = sentences(first), sentences(second)
    tail, head = first_pieces[-1], second_pieces[0]
    before_tail = [word for piece in first_pieces[:-1] for word in piece.words]
    if (_reads_only_as(tail, second.role) and not _cuts_a_word(before_tail, tail.words)
            and (before_tail or not _heard_for_sure(first))):
        joined = turn_of_words(second, [*tail.words, *second.words], start_s=tail.start_s)
        return [turn_of_words(first, before_tail), joined] if before_tail else [joined]
    after_head = [word for piece in second_pieces[1:] for word in piece.words]
    if (_reads_only_as(head, first.role) and not _cuts_a_word(head.words, after_head)
            and (after_head or not _heard_for_sure(second))):
        joined = turn_of_words(first, [*first.words, *head.words], start_s=first.start_s)
        return [joined, turn_of_words(second, after_head, start_s=second_pieces[1].start_s)] if after_head else [joined]
    return [first, second]


def _heard_for_sure(turn: Turn) -> bool:
    """Whether sound was certain of the voice of the whole of ``turn``: its diarization
    confidence is 1.0 (its windows nearer their own voice than the other by 0.15 or more of cosine
    similarity, on average). A few words that read as the other party's do not overturn that."""
    return turn.diarization_confidence is not None and turn.diarization_confidence >= 1.0


def _cuts_a_word(before: Sequence[Word], after: Sequence[Word]) -> bool:
    """Whether a cut between ``before`` and ``after`` falls inside a word of jieba's dictionary:
    a pause Whisper put inside 「你好」 leaves 「你」 alone, which reads as a customer's 你."""
    head = "".join(word.text for word in before)
    if not head or not after:
        return False
    return joined_in_words([head, "".join(word.text for word in after)])[0]


def _reads_only_as(piece: Turn, role: Role) -> bool:
    if len(normalize_for_matching(piece.text)) > EDGE_PIECE_MAX_CHARS:
        return False
    voice = voice_evidence(piece.text)
    agent, customer = _agent_score(voice), _customer_talk(voice)
    return agent > 0 and customer == 0 if role is Role.AGENT else customer > 0 and agent == 0


def _lone_agent(transcript: Transcript) -> RoleAssignment | None:
    """The agent, when the one voice diarization heard says agent phrases (``_AGENT_EVIDENCE``) and
    nothing of a customer's (no customer phrase, no 你): the agent's talk with the customer's
    drowned under it (a customer who speaks only over the agent, or not at all). None otherwise:
    a voice with any customer talk may hold both parties, and its turns stay unknown.

    The confidence is the agent's share of the evidence against an unheard second party with
    none, smoothed as in ``_detect_agent``.
    """
    voices = _voices(transcript.turns)
    if len(voices) != 1 or _agent_score(voices[0]) < _AGENT_EVIDENCE or _customer_score(voices[0]) > 0:
        return None
    (voice,) = voices
    confidence = (_agent_score(voice) + 1.0) / (_agent_score(voice) + 2.0)
    return RoleAssignment(agent_channel=None, source="auto", confidence=round(confidence, 3),
                          agent_speakers=(transcript.turns[0].speaker,))


def _with_roles(transcript: Transcript, assignment: RoleAssignment, warnings: list[str],
                is_agent: Callable[[Turn], bool]) -> Transcript:
    """The transcript with every turn labelled agent or customer, and the assignment that says why."""
    turns = tuple(
        turn.model_copy(update={"role": Role.AGENT if is_agent(turn) else Role.CUSTOMER,
                                "role_confidence": assignment.confidence})
        for turn in transcript.turns
    )
    return transcript.model_copy(update={"turns": turns, "roles": assignment, "warnings": tuple(warnings)})


_NORMALIZED_AGENT_CUES = {normalize_for_matching(cue): weight for cue, weight in AGENT_CUES.items()}
# Agent phrases with 您 as Whisper often writes them, with 你; not the ones a customer says so too
# (你好, 你的, 请问你是哪位).
_AGENT_PHRASES_WITH_NI = re.compile("|".join(sorted(
    (re.escape(cue.replace("您", "你")) for cue in _NORMALIZED_AGENT_CUES
     if "您" in cue and cue not in {"您好", "您的", "请问您", "请问您是"}), key=len, reverse=True)))
_NORMALIZED_CUSTOMER_CUES = {normalize_for_matching(cue): weight for cue, weight in CUSTOMER_CUES.items()}
