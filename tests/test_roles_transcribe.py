import pytest
from conftest import FakeTranscriber, segment
from transcripts import transcript, turn

from qa_pipeline.audio import read_recording
from qa_pipeline.roles import assign_roles, detect_agent_channel, detect_agent_speakers, move_edge_pieces
from qa_pipeline.settings import ASRSettings, AudioSettings
from qa_pipeline.transcribe import transcribe_recording
from qa_pipeline.types import CallMetadata, Direction, Role

U = Role.UNKNOWN


def _unlabelled(*specs):
    """Turns with unknown roles: (start_s, channel, text)."""
    return transcript(*(turn(start, U, text, channel=channel) for start, channel, text in specs))


AGENT_ON_RIGHT = _unlabelled(
    (0.5, 1, "您好，顺达客服中心，工号一零二四，很高兴为您服务"),
    (5.0, 0, "你好，我想问一下我的话费"),
    (9.0, 1, "好的，请问还有其他可以帮您的吗"),
)


@pytest.mark.parametrize("agent_on", [0, 1])
def test_auto_detection_finds_the_agent_on_either_channel(agent_on):
    t = _unlabelled(
        (0.5, agent_on, "您好，客服中心，工号二零四八，请问有什么可以帮您"),
        (5.0, 1 - agent_on, "我想问一下我的宽带怎么回事"),
        (9.0, agent_on, "感谢您的来电，再见"),
    )
    assignment = detect_agent_channel(t)
    assert assignment.agent_channel == agent_on and assignment.confidence > 0.9


@pytest.mark.parametrize("agent_on", [0, 1])
def test_an_outbound_call_the_customer_opens_finds_the_agent_without_metadata(agent_on):
    t = _unlabelled(
        (0.5, 1 - agent_on, "喂，哪位？"),
        (2.0, agent_on, "您好，请问是王先生本人吗？我是长江银行客户服务中心的"),
        (6.0, 1 - agent_on, "是我，什么事？"),
        (8.0, agent_on, "提醒您一下，您的账户已经逾期了，请您尽快还款，不打扰您了，再见"),
    )
    assert detect_agent_channel(t).agent_channel == agent_on


def test_a_customer_picking_up_gets_no_first_speaker_bonus():
    t = _unlabelled(
        (0.5, 0, "喂？"),
        (1.5, 1, "你好，我这边是顺丰快递，有个包裹放门口可以吗"),  # no agent phrase at all
        (5.0, 0, "可以"),
    )
    assert detect_agent_channel(t).agent_channel == 1
    inbound = assign_roles(t, agent_channel="auto", metadata=CallMetadata(direction=Direction.INBOUND))
    assert inbound.roles.agent_channel == 0  # told it is inbound: whoever speaks first is the agent


@pytest.mark.parametrize("agent_on", [0, 1])
def test_agent_phrases_whisper_wrote_with_ni_for_nin_still_find_the_agent(agent_on):
    # Whisper often writes the agent's 您 as 你: the phrases are the agent's all the same, and
    # those 你 are not a customer's.
    t = _unlabelled(
        (0.5, agent_on, "你好，打扰你了，这边通知你一下，你的快递明天送到"),
        (5.0, 1 - agent_on, "嗯，好的"),
        (7.0, agent_on, "好的，那就不打扰你了，祝你生活愉快"),
    )
    assert assign_roles(t, metadata=CallMetadata(direction=Direction.OUTBOUND)).roles.agent_channel == agent_on


def test_a_polite_customer_is_not_taken_for_the_agent():
    t = _unlabelled(
        (0.5, 1, "您好，请讲。"),
        (2.0, 0, "您好，请问一下，麻烦您帮我查一下我的快递"),
        (6.0, 1, "好的，麻烦您提供一下手机号码，我帮您查询"),
        (9.0, 0, "好的，谢谢您"),
        (11.0, 1, "查到了，预计明天送达，请问还有其他问题吗"),
    )
    assert detect_agent_channel(t).agent_channel == 1


def test_an_agent_asking_for_details_is_found_when_the_polite_customer_speaks_first():
    # A mono call's mix as Whisper heard it: the agent's 「喂，您好，请讲」 was lost, so the
    # customer, who says 您 too, speaks first; the agent's only phrase is asking for details.
    t = _unlabelled(
        (0.5, 0, "您好，麻烦您帮我查一下我的订单"),
        (4.0, 1, "好的，麻烦您提供一下手机号码，我这边帮您查询"),
        (8.0, 0, "幺八零零一二六六一三一"),
        (10.0, 1, "查到了，目前显示在路上，预计明天送达"),
        (14.0, 0, "那行，麻烦你了"),
        (16.0, 1, "不客气了，再见你"),
    )
    assert detect_agent_channel(t).agent_channel == 1


def test_a_word_sound_put_in_the_wrong_voice_at_the_start_is_not_the_first_speaker():
    # A mono mix where the agent's first word (Whisper: 「位」 for 「喂」) went to the customer's
    # voice, and both voices say little else: the first turn that lasts a second is the agent's.
    t = transcript(
        turn(0.1, U, "位", channel=0),
        turn(1.3, U, "您好这里是快递", channel=1),
        turn(4.6, U, "您好请问一下我上周寄的快递怎么还没到", channel=0),
        turn(9.0, U, "我这边帮您查询", channel=1),
        turn(20.0, U, "好的谢谢您再见", channel=0),
        num_channels=1,
    )
    assert detect_agent_speakers(t).agent_speakers == ("ch1",)


@pytest.mark.parametrize("closing", ["还有其他问题吗", "感谢你来电再见", "还有其他需要吗"])
def test_the_agents_closing_question_and_thanks_find_the_agent(closing):
    # A talk-over call: the agent's greeting was lost under the customer's words, and the
    # customer's question reads as anything but a customer's; the closing is the agent's.
    t = _unlabelled(
        (0.2, 0, "为什么是说"),
        (3.2, 1, "您好我家的宽带从昨天开始就上不了网"),
        (10.8, 0, "那边线路在维修，明天下午之前会恢复。" + closing),
        (21.0, 1, "好吧"),
    )
    assert detect_agent_channel(t).agent_channel == 0


def test_roles_are_set_on_every_turn_with_their_source():
    labelled = assign_roles(AGENT_ON_RIGHT, agent_channel="auto")
    assert [t.role for t in labelled.turns] == [Role.AGENT, Role.CUSTOMER, Role.AGENT]
    assert labelled.roles.source == "auto" and labelled.turns[0].role_confidence == labelled.roles.confidence
    assert AGENT_ON_RIGHT.turns[0].role is U  # the input is not changed


def test_config_and_metadata_force_the_agent_channel():
    assert assign_roles(AGENT_ON_RIGHT, agent_channel=0).roles.agent_channel == 0
    forced = assign_roles(AGENT_ON_RIGHT, agent_channel=0, metadata=CallMetadata(agent_channel=1))
    assert forced.roles.agent_channel == 1 and forced.roles.source == "metadata"


def test_no_cues_falls_back_to_the_first_speaker_on_inbound_with_a_warning():
    t = _unlabelled((0.5, 1, "嗯"), (2.0, 0, "好"))
    labelled = assign_roles(t, agent_channel="auto", metadata=CallMetadata(direction=Direction.INBOUND))
    assert labelled.roles.agent_channel == 1 and 0.6 < labelled.roles.confidence < 0.7
    silent = assign_roles(_unlabelled((0.5, 1, "嗯")), agent_channel="auto", metadata=CallMetadata(direction=Direction.OUTBOUND))
    assert silent.roles.confidence == 0.5 and any("low confidence" in w for w in silent.warnings)


def test_mono_keeps_unknown_roles_with_a_warning():
    mono = transcript(turn(0.5, U, "您好"), num_channels=1)
    labelled = assign_roles(mono, agent_channel="auto")
    assert labelled.turns[0].role is U and labelled.roles.agent_channel is None
    assert any("mono" in warning for warning in labelled.warnings)


def test_stereo_channels_are_transcribed_apart_and_interleaved(stereo_call):
    recording, audio = read_recording(stereo_call, settings=AudioSettings())
    fake = FakeTranscriber({0: [segment(0.2, "您好工号一零二四"), segment(4.0, "好的")], 1: [segment(3.1, "我想问一下")]})
    result = transcribe_recording(recording, audio, fake)
    assert [(t.channel, t.text) for t in result.turns] == [(0, "您好工号一零二四"), (1, "我想问一下"), (0, "好的")]
    assert fake.calls == 2 and result.call_id == recording.call_id and result.recording_sha256 == recording.sha256


def test_a_stereo_call_with_speech_on_one_channel_only_says_so(stereo_call):
    recording, audio = read_recording(stereo_call, settings=AudioSettings())
    one_sided = transcribe_recording(recording, audio, FakeTranscriber({0: [segment(0.2, "您好工号一零二四")], 1: []}))
    assert [warning for warning in one_sided.warnings if "channel 1" in warning and "one party" in warning]
    both = transcribe_recording(recording, audio, FakeTranscriber({0: [segment(0.2, "您好")], 1: [segment(3.1, "喂")]}))
    assert both.warnings == ()


def test_a_segment_spanning_a_long_pause_becomes_two_turns(stereo_call):
    recording, audio = read_recording(stereo_call, settings=AudioSettings())
    first, second = segment(0.5, "你好我想查话费"), segment(4.0, "好的谢谢")
    merged = first.__class__(start_s=0.5, end_s=second.end_s, text=first.text + second.text,
                             words=first.words + second.words)
    result = transcribe_recording(recording, audio, FakeTranscriber({0: [merged], 1: []}), ASRSettings(turn_split_gap_s=1.0))
    assert [(t.start_s, t.text) for t in result.turns] == [(0.5, "你好我想查话费"), (4.0, "好的谢谢")]
    assert all(w.start_s >= 4.0 for w in result.turns[1].words)


def test_a_loop_over_the_hotwords_is_cut_and_real_talk_of_them_kept(stereo_call):
    recording, audio = read_recording(stereo_call, settings=AudioSettings())
    fake = FakeTranscriber({0: [segment(0.2, "感谢您的支持再见订单号预留订单号订单号")],
                            1: [segment(3.0, "我要查套餐话费账单")]})
    options = ASRSettings(hotwords=("工号", "话费", "套餐", "账单", "预留", "订单号"))

    result = transcribe_recording(recording, audio, fake, options)

    assert [(t.channel, t.text) for t in result.turns] == [(0, "感谢您的支持再见"), (1, "我要查套餐话费账单")]
    assert "1 × recites the hotwords" in result.warnings[0]


def test_times_past_the_end_of_the_audio_are_clipped(stereo_call):
    recording, audio = read_recording(stereo_call, settings=AudioSettings())
    result = transcribe_recording(recording, audio, FakeTranscriber({0: [segment(5.5, "再见再见再见")], 1: []}))
    assert result.turns[0].end_s == recording.duration_s == 6.0
    assert max(w.end_s for w in result.turns[0].words) <= 6.0


def test_invented_segments_are_dropped_and_hotword_recitals_cut(stereo_call):
    recording, audio = read_recording(stereo_call, settings=AudioSettings())
    fake = FakeTranscriber({
        0: [segment(0.2, "您好工号一零二四"), segment(2.0, "以下是普通话的句子。")],
        1: [segment(3.1, "挺满意的好来电客服账单订单号"), segment(5.0, "字幕由Amara社区提供")],
    })
    options = ASRSettings(hotwords=("工号", "来电", "客服", "账单", "订单号"))
    result = transcribe_recording(recording, audio, fake, options)
    assert [(t.channel, t.text) for t in result.turns] == [(0, "您好工号一零二四"), (1, "挺满意的好")]
    assert result.turns[1].end_s == pytest.approx(3.1 + 5 * 0.25)
    assert "1 × recites the hotwords" in result.warnings[0] and "1 × repeats the prompt" in result.warnings[0]
    assert result.turns[0].normalized_text == "您好工号1024"
    kept = transcribe_recording(recording, audio, FakeTranscriber({0: [segment(2.0, "以下是普通话的句子。")], 1: []}),
                                ASRSettings(drop_hallucinations=False))
    assert [t.text for t in kept.turns] == ["以下是普通话的句子。"]


A, C = Role.AGENT, Role.CUSTOMER


def _texts(turns):
    return [(t.role, t.text) for t in turns]


def test_a_short_piece_at_a_change_of_speaker_goes_to_the_party_it_reads_as():
    """Sound puts the agent's 「您好。」 right after the customer's 「喂，哪位？」 in the customer's voice."""
    picked_up = [turn(0.0, C, "喂，哪位？您好。", channel=0), turn(2.2, A, "我是顺达客服小王", channel=0)]
    assert _texts(move_edge_pieces(picked_up)) == [(C, "喂，哪位？"), (A, "您好。我是顺达客服小王")]
    whole_turn = [turn(0.0, C, "您好", channel=0), turn(0.8, A, "这边是顺达客服", channel=0)]
    assert _texts(move_edge_pieces(whole_turn)) == [(A, "您好这边是顺达客服")]
    customer_head = [turn(0.0, C, "喂", channel=0), turn(0.5, A, "你说吧。请问您是张先生吗", channel=0)]
    assert _texts(move_edge_pieces(customer_head)) == [(C, "喂你说吧。"), (A, "请问您是张先生吗")]


def test_a_whole_turn_sound_was_sure_of_stays_with_its_voice():
    """The agent's curt 「喂，什么事？」, heard as 「为什么事」, reads as a customer's (为什么), but
    sound put the whole turn in the agent's voice with full confidence: it stays. Half sure, a
    whole turn moves, as does a piece of a turn sound was sure of (its edge shares windows with
    the other voice)."""
    def mono(turns, confidence):
        return [t.model_copy(update={"diarization_confidence": confidence}) for t in turns]

    curt = [turn(0.2, A, "为什么事", channel=0), turn(1.7, C, "你好我家的宽带上不了网了", channel=0)]
    assert _texts(move_edge_pieces(mono(curt, 1.0))) == [(A, "为什么事"), (C, "你好我家的宽带上不了网了")]
    assert _texts(move_edge_pieces(mono(curt, 0.8))) == [(C, "为什么事你好我家的宽带上不了网了")]
    picked_up = [turn(0.0, C, "喂，哪位？您好。", channel=0), turn(2.2, A, "我是顺达客服小王", channel=0)]
    assert _texts(move_edge_pieces(mono(picked_up, 1.0))) == [(C, "喂，哪位？"), (A, "您好。我是顺达客服小王")]


@pytest.mark.parametrize("pieces", [
    [(C, "喂，你好。"), (A, "这边是顺达客服")],  # no role evidence: 你好 is said by both
    [(C, "我想查话费。您好请问一下"), (A, "好的")],  # longer than a short piece
    [(A, "您好。您好。"), (C, "我想问一下账单")],  # already the agent's
])
def test_pieces_without_the_other_partys_talk_stay(pieces):
    turns, start_s = [], 0.0
    for role, text in pieces:
        turns.append(turn(start_s, role, text, channel=0))
        start_s = turns[-1].end_s + 0.3
    assert _texts(move_edge_pieces(turns)) == list(pieces)


def test_a_piece_cut_from_inside_a_word_stays():
    """Whisper's word times may put a pause inside 「你好」: 「你」 alone reads as a customer's 你."""
    said = turn(1.0, A, "你好我是长江银行的客服", channel=0)
    paused = said.model_copy(update={"words": (said.words[0], *(
        word.model_copy(update={"start_s": word.start_s + 1.0, "end_s": word.end_s + 1.0}) for word in said.words[1:]))})
    turns = [turn(0.0, C, "嗯你说", channel=0), paused]
    assert _texts(move_edge_pieces(turns)) == _texts(turns)


def test_pieces_stay_when_the_parties_are_far_apart():
    apart = [turn(0.0, C, "喂，哪位？您好。", channel=0), turn(5.0, A, "我是顺达客服小王", channel=0)]
    assert _texts(move_edge_pieces(apart)) == _texts(apart)
