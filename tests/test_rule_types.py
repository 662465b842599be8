"""Each rule type: a hit, no hit, and its edge cases. Plus category caps and re-scoring."""

import json
import re

import pytest
from conftest import PROJECT_ROOT
from transcripts import conversation, transcript, turn

from qa_pipeline import cli
from qa_pipeline.rubric import Rubric, load_rubric, rescore, score_transcript, transcript_of
from qa_pipeline.types import Role, Severity, Word

A, C, U = Role.AGENT, Role.CUSTOMER, Role.UNKNOWN


def rubric(*rules: dict, **fields) -> Rubric:
    return Rubric.model_validate({"id": "t", "version": 1, "rules": list(rules), **fields})


def hits(t, *rules, **fields):
    return score_transcript(t, rubric(*rules, **fields), audio="call.wav").hits


def na(t, *rules):
    return score_transcript(t, rubric(*rules), audio="call.wav").not_applicable


# -- regex ---------------------------------------------------------------------------------------
AGENT_NUMBER = {"id": "agent_number", "type": "regex", "pattern": r"工号\d{3,6}", "mode": "require",
                "within_first_s": 15, "points": 5}


def test_regex_require_reads_digits_however_they_were_written():
    assert hits(conversation([(A, "您好，工号一零二四，为您服务", 0)]), AGENT_NUMBER) == ()
    assert hits(conversation([(A, "您好，工号 1024", 0)]), AGENT_NUMBER) == ()
    (hit,) = hits(conversation([(A, "您好，工号我忘了", 0)]), AGENT_NUMBER)
    assert hit.rule_id == "agent_number" and hit.end_s == pytest.approx(15.5)


def test_regex_forbid_hits_each_match_with_its_time():
    phone = {"id": "phone_read_out", "type": "regex", "pattern": r"1[3-9]\d{9}", "points": 1}
    (hit,) = hits(conversation([(A, "您的号码是幺三八零零一二三四五六七", 0)], start_s=2.0), phone)
    assert hit.matched == "13800123456" and hit.start_s == pytest.approx(2.0 + 5 * 0.22)


@pytest.mark.parametrize(("pattern", "message"), [("工号(\\d+", "bad regex"), (r"\b工号", r"\\b does not work")])
def test_bad_regex_fails_at_load(tmp_path, pattern, message):
    path = tmp_path / "r.yaml"
    path.write_text(f"id: x\nversion: 1\nrules:\n  - {{id: a, type: regex, pattern: '{pattern}'}}\n", encoding="utf-8")
    with pytest.raises(Exception, match=message) as caught:
        load_rubric(path)
    assert "rule 'a'" in str(caught.value)


# -- phrase_present with triggers and turn windows -----------------------------------------------
VERIFY = {"id": "identity_verification", "type": "phrase_present", "phrases": ["身份证后四位"], "points": 10,
          "trigger_role": "customer", "trigger_phrases": ["账单", "余额"]}


def test_a_trigger_makes_a_phrase_required():
    assert hits(conversation([(C, "营业厅几点关门", 1), (A, "八点", 1)]), VERIFY) == ()
    (hit,) = hits(conversation([(C, "我想查账单", 1), (A, "好的，八十六元", 1)]), VERIFY)
    assert hit.rule_id == "identity_verification"
    assert hits(conversation([(C, "我想查账单", 1), (A, "请提供身份证后四位", 1)]), VERIFY) == ()
    # the agent saying a trigger word does not trigger it
    assert hits(conversation([(A, "您的账单已经寄出", 1)]), VERIFY) == ()


def test_turn_windows():
    first_turn = {"id": "intro", "type": "phrase_present", "phrases": ["我是"], "within_first_turns": 1, "points": 5}
    last_turns = {"id": "bye", "type": "phrase_present", "phrases": ["再见"], "within_last_turns": 1, "points": 5}
    t = conversation([(A, "你好", 1), (A, "我是客服小王", 1), (A, "再见", 1), (A, "嗯好", 1)])
    assert [h.rule_id for h in hits(t, first_turn, last_turns)] == ["intro", "bye"]
    t = conversation([(A, "我是客服小王", 1), (C, "嗯", 1), (A, "好的再见", 1)])
    assert hits(t, first_turn, last_turns) == ()


# -- silence and hold ----------------------------------------------------------------------------
HOLD_WORDS = ["请您稍等", "请稍等"]
SILENCE = {"id": "long_silence", "type": "silence", "max_silence_s": 10, "hold_phrases": HOLD_WORDS, "points": 5}
HOLD = {"id": "hold_etiquette", "type": "hold", "min_hold_s": 10, "max_hold_s": 60, "request_phrases": HOLD_WORDS,
        "thank_phrases": ["感谢您的耐心等待", "久等了"], "points": 5}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([(A, "好的我看一下", 15), (A, "查到了", 0)], ["long_silence"]),  # dead air
        ([(A, "请您稍等", 15), (A, "感谢您的耐心等待", 0)], []),  # a proper hold
        ([(A, "请您稍等", 15), (A, "查到了", 0)], ["hold_etiquette"]),  # no thanks
        ([(A, "请您稍等", 70), (A, "久等了", 0)], ["hold_etiquette"]),  # too long
        ([(A, "好的我看一下", 6), (A, "查到了", 0)], []),  # a short pause
    ],
)
def test_silence_and_hold(lines, expected):
    assert [h.rule_id for h in hits(conversation(lines), SILENCE, HOLD)] == expected


def test_hold_evidence_says_what_was_wrong():
    (hit,) = hits(conversation([(A, "请您稍等", 70), (A, "查到了", 0)]), HOLD)
    assert "等待后未致谢" in hit.evidence and "等待过长" in hit.evidence


# -- interruption ----------------------------------------------------------------------------------
INTERRUPTION = {"id": "interruption", "type": "interruption", "min_overlap_s": 1.0, "points": 5}


def test_agent_cutting_in_is_an_interruption_and_a_backchannel_is_not():
    long_customer = turn(1.0, C, "我跟你说我上个月就打过电话了一直没人处理")  # 1.0 .. 5.18
    cut_in = transcript(long_customer, turn(3.0, A, "这个我们知道了"))  # 3.0 .. 4.54, all of it over the customer
    (hit,) = hits(cut_in, INTERRUPTION)
    assert hit.start_s == 3.0 and hit.duration_s == pytest.approx(1.54) and hit.matched == "抢话 1.5 秒"
    backchannel = transcript(long_customer, turn(5.0, A, "嗯嗯"))
    assert hits(backchannel, INTERRUPTION) == ()
    after = transcript(long_customer, turn(6.0, A, "好的明白"))
    assert hits(after, INTERRUPTION) == ()


def test_interruption_needs_roles_and_a_channel_per_party():
    unknown = transcript(turn(0.5, U, "您好", channel=0), turn(1.0, U, "喂", channel=1))
    assert "told apart" in na(unknown, INTERRUPTION)["interruption"]
    # A diarized mono call has roles, but one voice at a time: no pass that means nothing.
    mono = transcript(turn(0.5, A, "您好", channel=0), turn(2.0, C, "喂", channel=0), num_channels=1)
    assert "mono" in na(mono, INTERRUPTION)["interruption"]


# -- speech rate and talk ratio --------------------------------------------------------------------
RATE = {"id": "speech_rate", "type": "speech_rate", "min_chars_per_minute": 120, "max_chars_per_minute": 380,
        "min_speech_s": 5, "points": 5}


def _talk(role: Role, chars: int, seconds_per_char: float, start_s: float = 0.5):
    text = ("您好我们的服务热线工作时间调整为早上八点到晚上十点" * 3)[:chars]
    words = tuple(Word(start_s=start_s + i * seconds_per_char, end_s=start_s + (i + 1) * seconds_per_char, text=char)
                  for i, char in enumerate(text))
    return turn(start_s, role, text).model_copy(update={"words": words, "end_s": words[-1].end_s})


@pytest.mark.parametrize(("seconds_per_char", "expected"), [(0.22, []), (0.12, ["高于 380"]), (0.6, ["低于 120"])])
def test_speech_rate(seconds_per_char, expected):
    found = hits(transcript(_talk(A, 60, seconds_per_char)), RATE)
    assert [next(word for word in ("高于 380", "低于 120") if word in h.evidence) for h in found] == expected


def test_speech_rate_needs_enough_speech():
    assert "only" in na(transcript(_talk(A, 10, 0.22)), RATE)["speech_rate"]


def test_talk_ratio():
    ratio = {"id": "talk_share", "type": "talk_ratio", "min_share": 0.3, "max_share": 0.8, "min_total_talk_s": 5,
             "points": 5}
    balanced = transcript(_talk(A, 30, 0.22), _talk(C, 20, 0.22, start_s=10))
    assert hits(balanced, ratio) == ()
    monologue = transcript(_talk(A, 45, 0.22), _talk(C, 3, 0.22, start_s=12))
    (hit,) = hits(monologue, ratio)
    assert "坐席说话占比 94%" in hit.evidence


# -- intent with negation --------------------------------------------------------------------------
COMPLAINT = {"id": "complaint_risk", "type": "intent", "intent": "complaint", "role": "customer", "severity": "info",
             "phrases": ["投诉", "12315"], "negations": ["不", "没", "不是要"], "negation_window_chars": 2}


@pytest.mark.parametrize(
    ("said", "is_hit"),
    [("我要投诉你们", True), ("我已经投诉过了这次还要投诉", True), ("我不是要投诉就是问问", False),
     ("我不投诉", False), ("没有投诉的意思", False), ("再不解决我就打一二三一五", True)],
)
def test_intent_keywords_with_negation(said, is_hit):
    found = hits(conversation([(C, said, 0)]), COMPLAINT)
    assert len(found) == int(is_hit)  # one hit per turn at most
    if is_hit:
        assert found[0].severity is Severity.INFO and found[0].points == 0


# -- hang-up ---------------------------------------------------------------------------------------
HANG_UP = {"id": "fatal_hang_up", "type": "hang_up", "severity": "fatal", "end_margin_s": 0.5,
           "unless_phrases": ["再见", "拜拜"]}


def test_hang_up_while_the_customer_speaks_is_fatal():
    cut = conversation([(A, "好的就这样", 0.5), (C, "等一下我还有一个问题就是", 0)])
    cut = cut.model_copy(update={"duration_s": cut.turns[-1].end_s + 0.1})
    (hit,) = hits(cut, HANG_UP)
    assert hit.severity is Severity.FATAL and "客户话未说完" in hit.evidence
    assert score_transcript(cut, rubric(HANG_UP), audio="x").score == 0


def test_goodbye_or_silence_at_the_end_is_not_a_hang_up():
    bye = conversation([(A, "感谢来电", 0.5), (C, "好的拜拜", 0)])
    assert hits(bye.model_copy(update={"duration_s": bye.turns[-1].end_s + 0.1}), HANG_UP) == ()
    tail = conversation([(A, "好的就这样", 0.5), (C, "等一下我还有一个问题就是", 0)])  # 1 s of silence after
    assert hits(tail, HANG_UP) == ()


# -- caps ------------------------------------------------------------------------------------------
def test_category_cap_limits_deductions_across_rules():
    rules = [{"id": "a", "category": "服务规范", "type": "phrase_absent", "phrases": ["急什么"], "points": 10},
             {"id": "b", "category": "服务规范", "type": "phrase_absent", "phrases": ["自己去查"], "points": 10}]
    t = conversation([(A, "急什么", 1), (A, "你自己去查", 1), (A, "急什么", 1)])
    card = score_transcript(t, rubric(*rules, categories={"服务规范": {"max_points": 15}}), audio="x")
    assert [h.points for h in card.hits] == [10, 5, 0] and card.score == 85
    assert {h.category for h in card.hits} == {"服务规范"}


def test_undeclared_category_is_an_error_when_categories_are_declared():
    with pytest.raises(ValueError, match="not declared"):
        rubric({"id": "a", "category": "其他", "type": "silence", "max_silence_s": 5}, categories={"开场白": {}})


def test_a_phrase_with_a_filler_is_refused_with_advice():
    with pytest.raises(ValueError, match="contains 啊, a filler"):
        rubric({"id": "a", "type": "phrase_absent", "phrases": ["不知道啊"]})


# -- re-scoring ------------------------------------------------------------------------------------
DEFAULT = load_rubric(PROJECT_ROOT / "rubrics" / "default.yaml")
OUTBOUND = load_rubric(PROJECT_ROOT / "rubrics" / "outbound_followup.yaml")


def _stored_card():
    t = conversation([(A, "您好工号一零二四", 1), (C, "我想查账单", 1), (A, "您本月账单金额是八十六元", 1), (A, "再见", 0)])
    return score_transcript(t, DEFAULT, audio="/calls/c1.wav")


def test_rescoring_with_the_same_rubric_changes_nothing():
    card = _stored_card()
    assert rescore(card, DEFAULT) == card
    assert transcript_of(card).turns == card.turns


def test_rescoring_with_another_rubric_keeps_the_transcript():
    card = _stored_card()
    again = rescore(card, OUTBOUND)
    assert again.rubric.id == "outbound_followup" and again.turns == card.turns and again.audio == card.audio
    assert "fatal_disclosure_before_verification" in {h.rule_id for h in card.hits}
    assert not {h.rule_id for h in again.hits} & {"fatal_disclosure_before_verification", "identity_verification"}


def test_rescore_command_writes_new_scorecards_and_reports_broken_files(tmp_path, capsys):
    stored, out = tmp_path / "stored", tmp_path / "out"
    stored.mkdir()
    (stored / "c1.json").write_text(_stored_card().model_dump_json(), encoding="utf-8")
    (stored / "broken.json").write_text('{"call_id": 1}', encoding="utf-8")
    code = cli.main(["rescore", "--rubric", str(PROJECT_ROOT / "rubrics" / "outbound_followup.yaml"),
                     "--json-in", str(stored), "--json-out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1 and "broken.json: not a scorecard" in printed and "rescored 1 scorecards" in printed
    data = json.loads((out / "c1.json").read_text(encoding="utf-8"))
    assert data["rubric"] == {"id": "outbound_followup", "version": 1}
    assert (stored / "c1.json").read_text(encoding="utf-8") != (out / "c1.json").read_text(encoding="utf-8")


def test_every_default_item_id_other_tools_rely_on_is_there():
    assert {rule.id for rule in DEFAULT.rules} == {
        "greeting", "agent_id_announced", "identity_verification", "closing", "courtesy", "forbidden_phrase",
        "fatal_abuse", "fatal_disclosure_before_verification", "fatal_hang_up", "long_silence", "hold_etiquette",
        "interruption", "speech_rate", "complaint_risk"}
    assert re.fullmatch(r"\d+", str(DEFAULT.version))
