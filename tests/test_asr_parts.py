"""ASR pieces that need no model: hallucination guards, ITN, device planning, CER evaluation."""

import pytest
from conftest import SAMPLES_DIR
from transcripts import transcript, turn

from qa_pipeline.asr import plan_device
from qa_pipeline.asr_guards import is_hallucination
from qa_pipeline.errors import ModelLoadError
from qa_pipeline.evaluation import WHOLE_CALL, Reference, call_cer, find_reference, normalized_view
from qa_pipeline.itn import inverse_normalize
from qa_pipeline.settings import ASRSettings
from qa_pipeline.types import Role

PROMPT = "以下是普通话的句子。"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("以下是普通话的句子。", "repeats the prompt"),
        ("以下是普通话的句子", "repeats the prompt"),
        ("字幕由Amara.org社区提供", "subtitle boilerplate"),
        ("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", "subtitle boilerplate"),
        ("谢谢谢谢谢谢谢谢谢谢谢谢谢谢谢谢", "repetition loop"),
        ("好的好的好的好的好的好的好的好的", "repetition loop"),
        ("。。。", "no words"),
    ],
)
def test_invented_text_is_recognised(text, reason):
    assert is_hallucination(text, prompt=PROMPT) == reason


def test_low_confidence_on_silence_is_dropped_but_confident_speech_kept():
    assert is_hallucination("嗯好的", avg_logprob=-1.3, no_speech_prob=0.8) == "no speech, low confidence"
    assert is_hallucination("嗯好的", avg_logprob=-0.3, no_speech_prob=0.8) is None
    assert is_hallucination("好的好的，没问题，谢谢您", prompt=PROMPT) is None
    assert is_hallucination("请问是普通话服务吗", prompt=PROMPT) is None  # shares words, not the prompt


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("工号一零二四", "工号1024"),
        ("手机号幺三八零零一二三四五六", "手机号13800123456"),
        ("三千二百元", "3200元"),
        ("一百零五元", "105元"),
        ("两万零五百", "20500"),
        ("一亿二千万", "120000000"),
        ("十二月十三号", "12月13号"),
        ("下午两点前", "下午2点前"),
        ("三点五倍", "3.5倍"),
        ("百分之五十", "50%"),
        ("我查一下，一起看看，一样的", "我查一下，一起看看，一样的"),
        ("有一点问题", "有一点问题"),
        ("十分感谢", "十分感谢"),
        ("十分钟", "10分钟"),
        ("打一二三一五", "打12315"),
    ],
)
def test_inverse_text_normalization(spoken, written):
    assert inverse_normalize(spoken) == written


def test_device_planning():
    cpu = plan_device(ASRSettings(device="auto", compute_type="auto"), cuda_devices=0, cpu_count=2)
    assert (cpu.device, cpu.compute_type, cpu.cpu_threads, cpu.num_workers) == ("cpu", "int8", 1, 2)
    gpu = plan_device(ASRSettings(device="auto", compute_type="auto"), cuda_devices=1, cpu_count=16)
    assert (gpu.device, gpu.compute_type) == ("cuda", "float16")
    pinned = plan_device(ASRSettings(device="cpu", compute_type="int8_float32", cpu_threads=4, num_workers=1),
                         cuda_devices=1, cpu_count=2)
    assert (pinned.device, pinned.compute_type, pinned.cpu_threads) == ("cpu", "int8_float32", 4)
    with pytest.raises(ModelLoadError, match="no CUDA device"):
        plan_device(ASRSettings(device="cuda"), cuda_devices=0)


def test_cer_is_measured_per_channel_on_the_normalized_view():
    t = transcript(turn(0.5, Role.AGENT, "您好，工号1024。"), turn(3.0, Role.CUSTOMER, "我想查话费"))
    exact = call_cer(t, Reference(SAMPLES_DIR, {0: "您好工号一零二四", 1: "我想查话费"}))
    assert exact.normalized.errors == 0 and exact.normalized.length == 13
    assert exact.verbatim.errors > 0  # 1024 vs 一零二四 only matches once normalized
    one_wrong = call_cer(t, Reference(SAMPLES_DIR, {0: "您好工号一零二四", 1: "我想查花费"}))
    assert one_wrong.normalized.errors == 1 and one_wrong.normalized.cer == pytest.approx(1 / 13)
    whole = call_cer(t, Reference(SAMPLES_DIR, {WHOLE_CALL: "您好工号一零二四我想查话费"}))
    assert whole.normalized.errors == 0


def test_an_empty_hypothesis_counts_every_reference_character():
    empty = transcript(turn(0.5, Role.AGENT, "您好"))
    result = call_cer(empty, Reference(SAMPLES_DIR, {1: "我想查话费"}))
    assert (result.normalized.errors, result.normalized.length) == (5, 5)


def test_references_are_found_by_name(tmp_path):
    audio = tmp_path / "call1.wav"
    (tmp_path / "call1.ch0.txt").write_text("您好", encoding="utf-8")
    (tmp_path / "call1.ch1.txt").write_text("你好", encoding="utf-8")
    (tmp_path / "call2.txt").write_text("整通电话", encoding="utf-8")
    assert find_reference(audio).texts == {0: "您好", 1: "你好"}
    assert find_reference(tmp_path / "call2.mp3").texts == {WHOLE_CALL: "整通电话"}
    assert find_reference(tmp_path / "call3.wav") is None
    script = find_reference(SAMPLES_DIR / "calls" / "20261121_agent1024_teamA_in_0001.wav", SAMPLES_DIR / "scripts")
    assert script.texts[0].startswith("您好，这里是顺达客服中心") and script.texts[1].startswith("你好")


def test_normalized_view():
    assert normalized_view("您好！工號一零二四，嗯，三千二百元。") == "您好工号10243200元"
