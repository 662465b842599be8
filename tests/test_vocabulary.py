"""Homophones of service words are rewritten, and nothing else is."""

import os
from dataclasses import replace

import pytest

from qa_pipeline.asr import AsrSegment
from qa_pipeline.errors import ConfigurationError
from qa_pipeline.settings import ASRSettings, Settings
from qa_pipeline.transcribe import correct_segment, transcript_key, vocabulary_corrector
from qa_pipeline.types import Word
from qa_pipeline.vocabulary import VocabularyCorrector, build_corrector, read_terms


@pytest.fixture(scope="module")
def builtin():
    return build_corrector([])


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("我想查一下上个月的花费", "我想查一下上个月的话费"),
        ("查一下宝单号", "查一下保单号"),
        ("请问还有什么可疑帮您", "请问还有什么可以帮您"),
        ("请您提供一下及主的身份证", "请您提供一下机主的身份证"),
        ("我想问一下理赔进毒", "我想问一下理赔进度"),
        ("您的包裹到了配送战", "您的包裹到了配送站"),
        # by context: an amount's 元 heard as 人, a time of day heard as 五
        ("您上个月的话费是七百七十八人，本月套餐费用四十八人", "您上个月的话费是七百七十八元，本月套餐费用四十八元"),
        ("理赔金额是153人", "理赔金额是153元"),
        ("学费7,210人", "学费7,210元"),
        ("我想预约六月四号上五的体检", "我想预约六月四号上午的体检"),
        ("师傅明天下五三点上门", "师傅明天下午三点上门"),
        ("安排师傅新74上午上门", "安排师傅星期4上午上门"),  # 星期 heard as 新七
        ("我想订信七二晚上的包间", "我想订星期二晚上的包间"),
        # 是 heard as 十 where the 十 makes the number impossible
        ("上个月的话费十八十二元", "上个月的话费是八十二元"),
        ("本月套餐费用十二千零七十九元", "本月套餐费用是二千零七十九元"),
        ("您的理赔金额十三千五百元", "您的理赔金额是三千五百元"),
        ("本月套餐费用十八十四人", "本月套餐费用是八十四元"),  # and 元 heard as 人
    ],
)
def test_misheard_service_words_are_rewritten(builtin, heard, meant):
    assert builtin.correct(heard) == meant


@pytest.mark.parametrize(
    "said",
    [
        "以及其它的事情",  # common words stay, though 其它 sounds like 其他
        "请记住您的密码，钱在我手里",  # as common as 机主 / 受理: what was said
        "手机号是一三五一二",  # numerals are never touched
        "我今天很忙",
        "您的话费是八十元",  # already right
        "我们一家五个人，一共三十人报名",  # head counts outside money talk
        "费用两人平摊，每人五十",  # a lone numeral before 人 is a head count
        "价格是三百人民币，服务了两千人次",
        "一共上五十个，下五百米",  # 上五十 / 下五百 after no date are numbers
        "我明天下五个单，每天上五节课",  # 五 before a measure word is a number
        "我十八岁，十二万的车，十五六个人",  # numbers that start with 十
        "十二十三号都可以",  # two numbers in a row: the 12th or 13th
        "坐新712路公交，长江银行七点开门",  # 新7 before more than one numeral; 行 is not 星
        "话费是十八十二元",  # 是 was heard: the 十 is something else
        "八十三元十二千福",  # no amount follows: the 十 is something else (需要先付)
    ],
)
def test_what_was_said_is_kept(builtin, said):
    assert builtin.correct(said) == said


def test_longer_terms_win_and_corrections_are_reported():
    corrector = VocabularyCorrector(["保单", "保单号"], keep_frequency=0)
    assert [(c.start, c.heard, c.term) for c in corrector.corrections("我的宝单号是")] == [(2, "宝单号", "保单号")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_center_word_list_adds_product_names(tmp_path, encoding):
    words = tmp_path / "center.txt"
    words.write_text("# 产品\n畅享套餐 云闪付  # 新产品\n", encoding=encoding)
    assert read_terms(words) == ["畅享套餐", "云闪付"]
    corrector = build_corrector([words])
    assert corrector.correct("我想办畅想套餐") == "我想办畅享套餐"
    assert "畅享套餐" in corrector.terms and corrector.fingerprint != build_corrector([]).fingerprint


def test_an_unreadable_word_list_names_the_file(tmp_path):
    with pytest.raises(ConfigurationError, match="missing.txt"):
        build_corrector([tmp_path / "missing.txt"])


def test_segment_words_keep_their_times_when_corrected(builtin):
    words = (Word(start_s=0.0, end_s=0.4, text="查询"), Word(start_s=0.4, end_s=0.7, text="花"),
             Word(start_s=0.7, end_s=1.0, text="费。"))
    segment = AsrSegment(start_s=0.0, end_s=1.0, text="查询花费。", words=words)
    corrected = correct_segment(segment, builtin)
    assert corrected.text == "查询话费。"
    assert [(w.text, w.start_s, w.end_s) for w in corrected.words] == [("查询", 0.0, 0.4), ("话", 0.4, 0.7),
                                                                       ("费。", 0.7, 1.0)]
    assert segment.text == "查询花费。"  # the input is not changed
    assert correct_segment(replace(segment, text="好的", words=()), builtin).text == "好的"


def test_correction_can_be_switched_off():
    assert vocabulary_corrector(ASRSettings(correct_homophones=False)) is None
    assert vocabulary_corrector(ASRSettings()) is vocabulary_corrector(ASRSettings())  # built once


def test_editing_a_word_list_changes_the_stored_transcript_key(tmp_path):
    """The results store keys transcripts by their settings: after a word list is edited in place
    (same path), stored transcripts no longer count as made with these settings."""
    words = tmp_path / "center.txt"
    words.write_text("畅享套餐\n", encoding="utf-8")
    settings = Settings(asr=ASRSettings(vocabulary_files=(words,)))
    before = transcript_key(settings)
    assert transcript_key(settings) == before
    words.write_text("畅享套餐 云闪付\n", encoding="utf-8")
    os.utime(words, ns=(1, 1))  # a different stamp even where the clock is coarse
    assert transcript_key(settings) != before
    assert "云闪付" in vocabulary_corrector(settings.asr).terms
    off = Settings(asr=ASRSettings(vocabulary_files=(words,), correct_homophones=False))
    off_key = transcript_key(off)
    words.write_text("畅享套餐 云闪付 花呗\n", encoding="utf-8")
    os.utime(words, ns=(2, 2))
    assert transcript_key(off) == off_key  # without the corrector, the word lists' content does not count
