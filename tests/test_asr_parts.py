"""ASR pieces that need no model: hallucination guards, ITN, device planning, CER evaluation,
finding speech the decoder skipped."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import SAMPLES_DIR
from faster_whisper.transcribe import Segment, Word
from transcripts import transcript, turn

from qa_pipeline.asr import (
    FasterWhisperTranscriber,
    MAX_WORD_S,
    SKIPPED_SPEECH_S,
    VAD_SPEECH_PAD_S,
    _uncovered_speech,
    decode_skipped_speech,
    plan_device,
    restore_times,
)
from qa_pipeline.asr_guards import is_hallucination
from qa_pipeline.audio import read_recording, speech_regions
from qa_pipeline.errors import ModelLoadError
from qa_pipeline.evaluation import WHOLE_CALL, Reference, call_cer, find_reference, normalized_view
from qa_pipeline.itn import inverse_normalize
from qa_pipeline.settings import ASRSettings, AudioSettings
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
        ("一亿二千万", "1.2亿"),  # from 亿 up, written in 亿
        ("六百五十八亿元", "658亿元"),
        ("一亿二千三百四十五万六千七百八十九", "123456789"),
        ("话费3,119元，共12,187元", "话费3119元，共12187元"),  # thousands separators
        ("7,910亿元", "7910亿元"),
        ("十二月十三号", "12月13号"),
        ("下午两点前", "下午2点前"),
        ("三点五倍", "3.5倍"),
        ("百分之五十", "50%"),
        ("我查一下，一起看看，一样的", "我查一下，一起看看，一样的"),
        ("有一点问题", "有一点问题"),
        ("十分感谢", "十分感谢"),
        ("十分钟", "10分钟"),
        ("打一二三一五", "打12315"),
        ("电话是要三一八零九六七九二九", "电话是13180967929"),  # 幺 heard as 要
        ("158要809948", "1581809948"),
        ("手机号要八要七四二九八三零四", "手机号18174298304"),  # 幺 heard as 要 twice
        ("需要三个人", "需要3个人"),
        ("我要一二三", "我要123"),
        # said the colloquial way: the last digit counts in the next unit down
        ("三千五", "3500"),
        ("一万二的额度", "12000的额度"),
        ("两百五十块", "250块"),
        ("两万三千五", "23500"),
        ("一千零五", "1005"),
        ("赔了十万", "赔了100000"),
        # numerals that are words, or no exact number
        ("万一扣款失败", "万一扣款失败"),
        ("千万不要转账", "千万不要转账"),
        ("百分百满意", "百分百满意"),
        ("几十块钱，三十几岁，百分之几", "几十块钱，三十几岁，百分之几"),
        # no number as said: none is made up; 十 heard before one exact number (是八千五百八十八)
        ("理赔金额十八千五百八十八眼，十二千十二千，十二十三号", "理赔金额十8588眼，十二千十二千，十二十三号"),
        # times
        ("下午一点二十到", "下午1点20到"),
        ("一点半", "1点半"),
        ("一点一点地查", "一点一点地查"),
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



def _fw_segment(words: list[tuple[float, float, str]]) -> Segment:
    return Segment(id=0, seek=0, start=words[0][0], end=words[-1][1], text="".join(w[2] for w in words), tokens=[],
                   avg_logprob=-0.3, compression_ratio=1.2, no_speech_prob=0.1, temperature=0.0,
                   words=[Word(start=a, end=b, word=text, probability=0.9) for a, b, text in words])


def _speech(samples: np.ndarray) -> list[tuple[float, float]]:
    """The speech regions the transcriber finds in ``samples`` and decodes."""
    return speech_regions(samples, min_silence_s=0.5, speech_pad_s=VAD_SPEECH_PAD_S, min_speech_s=0.0)


def _speech_text(count: int) -> list[str]:
    """``count`` characters that read like text to the loop guard (no phrase repeated)."""
    return [chr(c) for c in np.random.default_rng(0).integers(0x4E00, 0x9FA5, size=count)]


def test_speech_the_decoder_skipped_is_decoded_again():
    """Whisper wrote the first turn of the three-voice call and stretched its last word over 12 s:
    each stretch of speech no word covers is decoded on its own, and its text lands at its time."""
    data = Path(__file__).parent / "data"
    samples = read_recording(data / "three_voices.wav", settings=AudioSettings())[1].channel(0)
    turns = yaml.safe_load((data / "three_voices.yaml").read_text("utf-8"))["turns"]
    first = turns[0]
    count = int((first["end_s"] - first["start_s"]) / 0.5) - 1
    words = [(first["start_s"] + i * 0.5, first["start_s"] + (i + 1) * 0.5, char)
             for i, char in enumerate(_speech_text(count))]
    stretched_start_s = words[-1][1]
    words.append((stretched_start_s, stretched_start_s + 12.0, "您"))
    calls = []

    def decode(clip, speech_s=None, *, hole=False):
        calls.append((len(clip) / 16000, hole))
        return [_fw_segment(words)] if not hole else [_fw_segment([(0.3, 0.6, "补"), (0.6, 0.9, "上")])]

    segments = decode_skipped_speech(samples, _speech(samples), decode)
    holes = _uncovered_speech(_speech(samples), [_fw_segment(words)])
    assert holes and all(end - start >= SKIPPED_SPEECH_S for start, end in holes)
    assert holes[0][0] >= stretched_start_s + MAX_WORD_S - 0.05  # the stretched word covers its first 1.5 s
    for later in turns[1:]:  # every later turn is speech to decode again
        inside = sum(max(0.0, min(end, later["end_s"]) - max(start, later["start_s"])) for start, end in holes)
        assert inside >= 0.6 * (later["end_s"] - later["start_s"]), later
    assert [hole for _, hole in calls] == [False] + [True] * len(holes)
    assert len(segments) == 1 + len(holes)
    assert segments[0].words[-1].end == pytest.approx(stretched_start_s + MAX_WORD_S)  # trimmed
    for (start_s, _), again in zip(holes, segments[1:]):
        assert again.text == "补上" and again.start == pytest.approx(max(start_s - 0.2, 0) + 0.3)
        assert again.words[0].start == again.start
    assert [segment.start for segment in segments] == sorted(segment.start for segment in segments)


def test_nothing_is_decoded_twice_when_words_cover_the_speech():
    samples = read_recording(Path(__file__).parent / "data" / "three_voices.wav", settings=AudioSettings())[1].channel(0)
    starts = np.arange(0, len(samples) / 16000, 0.4)
    everything = _fw_segment([(t, t + 0.4, char) for t, char in zip(starts, _speech_text(len(starts)))])
    calls = []

    def decode(clip, speech_s=None, *, hole=False):
        calls.append(hole)
        return [everything]

    assert decode_skipped_speech(samples, _speech(samples), decode) == [everything] and calls == [False]


def test_a_loop_over_the_speech_is_decoded_again():
    """Whisper looped on one phrase over a whole mixed call: the loop is set aside and its speech
    decoded again, so the real text replaces it (and only confident text: nothing invented)."""
    samples = read_recording(Path(__file__).parent / "data" / "three_voices.wav", settings=AudioSettings())[1].channel(0)
    duration_s = len(samples) / 16000
    loop = _fw_segment([(t, t + 0.4, "请问有什么好") for t in np.arange(0.2, duration_s - 0.5, 0.4)])
    calls = []

    def decode(clip, speech_s=None, *, hole=False):
        calls.append(hole)
        if not hole:
            return [loop]
        # Whisper also writes a sentence of its own on the clip's silent tail, with low confidence.
        invented = replace(_fw_segment([(0.9, 1.2, "这些人都不认识")]), avg_logprob=-1.8)
        return [_fw_segment([(0.3, 0.6, "您"), (0.6, 0.9, "好")]), invented]

    segments = decode_skipped_speech(samples, _speech(samples), decode)
    assert calls[0] is False and calls[1:] and all(calls[1:])
    assert segments and all(segment.text == "您好" for segment in segments)


def test_a_short_loop_stays_for_the_guard_to_count():
    """A loop over less speech than a hole is not decoded again: it stays, and the hallucination
    guard drops it later (and counts it in the transcript's warnings)."""
    samples = read_recording(Path(__file__).parent / "data" / "three_voices.wav", settings=AudioSettings())[1].channel(0)
    starts = np.arange(0, len(samples) / 16000, 0.4)
    everything = [_fw_segment([(t, t + 0.4, char)]) for t, char in zip(starts, _speech_text(len(starts)))]
    first = everything[0]
    short_loop = replace(first, text="对对对对对对对对对对对对", words=[replace(first.words[0], word="对对对对对对对对对对对对")])
    calls = []

    def decode(clip, speech_s=None, *, hole=False):
        calls.append(hole)
        return [short_loop, *everything[1:]]

    assert decode_skipped_speech(samples, _speech(samples), decode)[0] is short_loop and calls == [False]


def test_a_word_after_skipped_silence_is_dated_where_it_was_said():
    """Speech regions 0–2 s and 10–12 s decoded end to end: Whisper starts 「那」 where 「地址」
    ended, so by its middle it would fall at the end of the first region (faster-whisper's own
    mapping); by where it was said (its end) it is the first word of the second."""
    segment = _fw_segment([(1.0, 1.5, "地址"), (1.5, 2.6, "那"), (2.6, 2.8, "边"), (2.8, 3.1, "线路")])
    restored = restore_times([segment], [(0.0, 2.0), (10.0, 12.0)])
    assert [(word.word, word.start, word.end) for word in restored[0].words] == [
        ("地址", 1.0, 1.5), ("那", 10.0, 10.6), ("边", 10.6, 10.8), ("线路", 10.8, 11.1)]
    assert (restored[0].start, restored[0].end) == (1.0, 11.1)
    assert segment.words[1].start == 1.5  # the decoder's segment is left as it was


def test_a_word_stretched_a_little_past_its_region_stays_in_it():
    """A word whose end runs 0.1 s into the next region was said in its own: it stays there, its
    end at its region's end; a segment without words is placed by its start and end."""
    segment = _fw_segment([(1.0, 1.6, "您好"), (1.6, 2.1, "啊")])
    bare = replace(_fw_segment([(2.5, 3.0, "嗯")]), words=None)
    restored = restore_times([segment, bare], [(0.0, 2.0), (10.0, 12.0)])
    assert [(word.word, word.start, word.end) for word in restored[0].words] == [("您好", 1.0, 1.6), ("啊", 1.6, 2.0)]
    assert (restored[1].start, restored[1].end) == (10.5, 11.0)


def test_long_speech_is_decoded_a_window_at_a_time():
    """Five 10 s stretches of one party's speech (50 s) are decoded in chunks of at most 30 s, each
    on its own, and each chunk's words go back where its speech is on the call."""
    class WindowModel:
        def __init__(self):
            self.lengths_s = []

        def transcribe(self, speech, **options):
            length_s = len(speech) / 16_000
            self.lengths_s.append(length_s)
            return iter([_fw_segment([(0.0, 0.5, "喂"), (length_s - 0.5, length_s, "好")])]), None

    transcriber = object.__new__(FasterWhisperTranscriber)  # the decoding logic, without loading a model
    transcriber._settings, transcriber._model = ASRSettings(), WindowModel()
    regions = [(0.0, 10.0), (15.0, 25.0), (30.0, 40.0), (45.0, 55.0), (60.0, 70.0)]

    segments = transcriber._decode(np.zeros(16_000 * 80, dtype=np.float32), regions)

    assert transcriber._model.lengths_s == [30.0, 20.0]
    assert [(word.word, word.start, word.end) for segment in segments for word in segment.words] == [
        ("喂", 0.0, 0.5), ("好", 39.5, 40.0), ("喂", 45.0, 45.5), ("好", 69.5, 70.0)]


def test_the_characters_of_one_word_are_dated_together():
    """Whisper dates 「您」 over the customer's 「喂」 before a pause and glues 「好」 to it, though
    「您好」 was said after the pause: a dictionary word is said in one breath, so both go where
    the word as a whole was said (its end, and 0.3 s a character before). 「您」, dated before that
    region, is not left without length: the word's span is shared between its characters."""
    segment = _fw_segment([(0.0, 0.54, "您"), (0.54, 2.48, "好"), (2.48, 3.3, "我是")])
    restored = restore_times([segment], [(0.14, 1.87), (2.45, 16.88)])
    assert [(word.word, word.start, word.end) for word in restored[0].words] == [
        ("您", 2.45, 2.825), ("好", 2.825, 3.2), ("我是", 3.2, 4.02)]
