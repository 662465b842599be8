
import pytest
from conftest import PROJECT_ROOT, load_sample_scripts
from transcripts import conversation, transcript, turn

from qa_pipeline.errors import RubricError
from qa_pipeline.rubric import RULE_TYPES, Rubric, load_rubric, score_transcript
from qa_pipeline.rubric.checks import CHECKS
from qa_pipeline.types import Role, Severity

A, C, U = Role.AGENT, Role.CUSTOMER, Role.UNKNOWN
DEFAULT = load_rubric(PROJECT_ROOT / "rubrics" / "default.yaml")


def rubric(*rules: dict, **fields) -> Rubric:
    return Rubric.model_validate({"id": "t", "version": 1, "rules": list(rules), **fields})


def score(t, r=DEFAULT):
    return score_transcript(t, r, audio="call.wav")


GREETING = {"id": "greeting", "type": "phrase_present", "phrases": ["您好"], "within_first_s": 10, "points": 10}
FORBIDDEN = {"id": "forbidden_phrase", "type": "phrase_absent", "phrases": ["这是公司规定", "我也没办法"],
             "points": 10, "max_points": 15}


def test_every_rule_type_has_a_check():
    assert set(CHECKS) == set(RULE_TYPES)


def test_greeting_in_window_is_no_hit_and_missing_greeting_is_a_hit():
    r = rubric(GREETING)
    assert score(conversation([(A, "您好，很高兴为您服务", 0.5)]), r).hits == ()
    card = score(conversation([(A, "喂，什么事", 0.5), (C, "您好", 0.5)]), r)  # the customer's 您好 does not count
    (hit,) = card.hits
    assert (hit.rule_id, hit.role, hit.points, hit.start_s, hit.end_s) == ("greeting", A, 10, 0.5, 10.5)
    assert "喂，什么事" in hit.evidence
    assert card.score == 90


def test_greeting_said_too_late_is_a_hit():
    late = conversation([(A, "请问有什么事", 12.0), (A, "您好", 0.5)])
    assert [hit.rule_id for hit in score(late, rubric(GREETING)).hits] == ["greeting"]


def test_closing_is_looked_for_only_at_the_end():
    closing = {"id": "closing", "type": "phrase_present", "phrases": ["再见"], "within_last_s": 5, "points": 10}
    r = rubric(closing)
    assert score(conversation([(A, "您好", 1), (C, "好的谢谢", 1), (A, "再见", 0)]), r).hits == ()
    early = conversation([(A, "再见", 1), (C, "好的谢谢你们的帮助我还有一个问题想问一下就是那个账单的事情", 1)])
    (hit,) = score(early, r).hits
    assert hit.rule_id == "closing" and hit.role == A


def test_phrase_hit_points_at_the_seconds_the_words_were_said():
    t = conversation([(A, "理赔要走流程，这是公司规定", 0)], start_s=10.0)
    (hit,) = score(t, rubric(FORBIDDEN)).hits
    # 这 is the 8th character (index 7, after the comma) of the turn: 10 + 7 * 0.22
    assert hit.start_s == pytest.approx(10 + 7 * 0.22, abs=0.001)
    assert hit.end_s == pytest.approx(10 + 13 * 0.22, abs=0.001)
    assert hit.matched == "这是公司规定" and hit.turn_index == 0 and hit.evidence == "理赔要走流程，这是公司规定"


def test_deductions_are_capped_per_rule():
    t = conversation([(A, "这是公司规定", 1), (A, "我也没办法", 1), (A, "这是公司规定", 1)])
    card = score(t, rubric(FORBIDDEN))
    assert [hit.points for hit in card.hits] == [10, 5, 0]
    assert card.score == 85


def test_customer_speech_does_not_trigger_agent_rules():
    t = conversation([(A, "您好", 1), (C, "这是公司规定吗", 1)])
    assert score(t, rubric(FORBIDDEN)).hits == ()


def test_overlapping_phrases_in_the_same_words_are_one_hit():
    complaint = {"id": "complaint_risk", "type": "phrase_absent", "role": "customer", "severity": "info",
                 "phrases": ["我要投诉", "投诉你们", "投诉你"]}
    (hit,) = score(conversation([(C, "我要投诉你们", 0)]), rubric(complaint)).hits
    assert hit.matched == "我要投诉" and hit.severity is Severity.INFO and hit.points == 0


def test_pinyin_matching_forgives_homophones_and_exact_does_not():
    said = conversation([(A, "您好，功耗一零二四", 0)])  # ASR heard 工号 as 功耗
    by_sound = {"id": "agent_id", "type": "phrase_present", "phrases": ["工号"], "within_first_s": 10, "points": 5}
    assert score(said, rubric(by_sound)).hits == ()
    assert len(score(said, rubric({**by_sound, "match": "exact"})).hits) == 1


def test_matching_ignores_punctuation_spaces_fillers_traditional_and_digit_style():
    complaint = {"id": "complaint_risk", "type": "phrase_absent", "role": "customer", "severity": "info",
                 "phrases": ["12315", "找你们领导"], "match": "exact"}
    t = conversation([(C, "我要打一二三一五", 1), (C, "找，嗯，你們 領導", 1)])
    assert [hit.matched for hit in score(t, rubric(complaint)).hits] == ["12315", "找你们领导"]


def test_a_fatal_hit_zeroes_the_score_and_sends_the_call_to_review():
    card = score(conversation([(A, "您好，工号一零二四", 1), (A, "你有病吧", 1), (A, "感谢您的来电，再见", 0)]))
    assert card.fatal and card.score == 0 and not card.passed and card.needs_review
    assert [hit.rule_id for hit in card.hits if hit.severity is Severity.FATAL] == ["fatal_abuse"]


@pytest.mark.parametrize(
    ("lines", "hit"),
    [
        ([(A, "您本月的账单金额是八十六元", 1), (A, "请提供身份证后四位", 1)], True),
        ([(A, "请提供身份证后四位", 1), (C, "三五七九", 1), (A, "您本月的账单金额是八十六元", 1)], False),
        ([(A, "您的余额是两百元", 1)], True),
        ([(A, "请问还有其他问题吗", 1)], False),
    ],
)
def test_disclosure_before_verification(lines, hit):
    card = score(conversation(lines))
    found = [h for h in card.hits if h.rule_id == "fatal_disclosure_before_verification"]
    assert bool(found) is hit
    if hit:
        assert found[0].severity is Severity.FATAL and card.score == 0


def test_long_silence_is_a_hit_with_its_span_and_short_pauses_are_not():
    silence = {"id": "long_silence", "type": "silence", "max_silence_s": 8, "points": 5}
    t = conversation([(A, "好的请稍等", 12.0), (A, "让您久等了", 3.0), (C, "好的", 0)])
    (hit,) = score(t, rubric(silence)).hits
    assert hit.start_s == pytest.approx(0.5 + 5 * 0.22) and hit.duration_s == pytest.approx(12.0)
    assert "12.0" in hit.evidence


def test_silence_counts_both_channels():
    """A gap on one channel filled by the other party is not dead air."""
    silence = {"id": "long_silence", "type": "silence", "max_silence_s": 3, "points": 5}
    t = transcript(turn(0.0, A, "您好"), turn(1.0, C, "我想问一下我的账单为什么这么高呢"), turn(6.0, A, "好的"))
    assert score(t, rubric(silence)).hits == ()


def test_mono_turns_of_unknown_role_are_checked_by_agent_rules_and_a_human_listens():
    t = transcript(turn(0.5, U, "这是公司规定", channel=0), num_channels=1)
    card = score(t, rubric(FORBIDDEN))
    assert [hit.role for hit in card.hits] == [U]
    assert card.needs_review  # the words may be the customer's: agent and customer were not told apart


def test_no_speech_means_no_rule_applies_and_a_human_listens():
    card = score(transcript(duration_s=30.0))
    assert card.hits == () and not card.passed and card.needs_review
    assert set(card.not_applicable) == {rule.id for rule in DEFAULT.rules}


def test_a_stereo_call_where_one_party_is_never_heard_goes_to_review():
    greeting_and_closing = [(A, "您好，工号一零二四，很高兴为您服务", 5), (A, "感谢您的来电，再见", 0)]
    one_sided = score(conversation(greeting_and_closing))
    assert one_sided.passed and one_sided.needs_review
    answered = score(conversation([*greeting_and_closing[:1], (C, "你好我想查一下账单", 1), greeting_and_closing[1]]))
    assert answered.passed and not answered.needs_review


def test_metrics():
    t = transcript(turn(0.0, A, "您好工号一零二四"), turn(1.0, C, "我想问一下"), turn(10.0, A, "好的"), duration_s=20.0)
    m = score(t).metrics
    assert m.agent_talk_s == pytest.approx(8 * 0.22 + 2 * 0.22)
    assert m.customer_talk_s == pytest.approx(5 * 0.22)
    assert m.overlap_s == pytest.approx(8 * 0.22 - 1.0)
    assert m.longest_silence_s == pytest.approx(10.0 - (1.0 + 5 * 0.22))
    assert m.silence_ratio == pytest.approx((20 - (1.0 + 5 * 0.22) - 2 * 0.22) / 20, abs=1e-3)
    assert m.num_turns == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: x\nversion: 1\nrules:\n  - {id: a, type: magic, phrases: [x]}\n", "rule 'a' (rules[0]): unknown rule type 'magic'"),
        ("id: x\nversion: 1\nrules:\n  - {id: a, type: phrase_absent, phrases: [x], points: -5}\n", "rule 'a' (rules[0]), points"),
        ("id: x\nversion: 1\nrules:\n  - {id: a, type: phrase_absent, phrases: [x]}\n  - {id: a, type: silence, max_silence_s: 5}\n", "duplicate rule id 'a'"),
        ("id: x\nversion: 1\nrules:\n  - {id: a, type: phrase_absent, phrases: ['，。']}\n", "rule 'a' (rules[0]), phrases: Value error, phrase '，。' is empty"),
        ("id: x\nversion: 1\nrules:\n  - {id: a, type: phrase_present, phrases: [x], within_first_s: 5, within_last_s: 5}\n", "set one window, not within_first_s and within_last_s"),
        ("id: x\nversion: 1\nrules:\n  - {id: a, phrases: [x]}\n", "missing 'type'"),
        ("id: x\nversion: 1\nrules:\n  - {id: a, type: phrase_absent, phrases: [x], colour: red}\n", "colour: Extra inputs"),
        ("id: x\nrules: [\n", "not valid YAML"),
        ("- just\n- a list\n", "a rubric is a mapping"),
    ],
)
def test_a_bad_rubric_names_the_file_rule_and_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_a_rubric_saved_as_gbk_loads_and_one_in_no_chinese_encoding_is_named(tmp_path):
    path = tmp_path / "center.yaml"
    path.write_bytes("id: center\nversion: 1\nrules:\n  - {id: a, type: phrase_absent, phrases: [公司规定]}\n".encode("gbk"))
    assert load_rubric(path).rules[0].phrases == ("公司规定",)
    path.write_bytes(b"id: center\nversion: 1\nrules: [\xff\xfe\x00\xd8]\n")
    with pytest.raises(RubricError, match=r"center\.yaml: this rubric is neither UTF-8 nor GB18030"):
        load_rubric(path)


def test_numbers_in_yaml_phrase_lists_are_text():
    r = rubric({"id": "c", "type": "phrase_absent", "role": "customer", "severity": "info", "phrases": [12315]})
    assert r.rules[0].phrases == ("12315",)


@pytest.mark.parametrize("script", load_sample_scripts(), ids=lambda script: script["call_id"])
def test_sample_scripts_give_exactly_their_expected_hits_on_the_text(script):
    """The default rubric on a perfect transcript of each sample call (the audio path is tested in
    test_end_to_end with the real model)."""
    lines = []
    for line in script["turns"]:
        (role, text), = ((k, v) for k, v in line.items() if k in ("agent", "customer"))
        lines.append((Role(role), text, float(line.get("pause_s", 0.6))))
    card = score(conversation(lines))
    assert sorted({hit.rule_id for hit in card.hits}) == sorted(script["expected_hits"])
