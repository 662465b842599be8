"""A labelled set of call transcripts for measuring the rubric's precision and recall per rule.

Calls are composed from hand-written utterance pools. Each utterance carries the judgement a QA
inspector would make of it (is this a greeting? does it disclose account data? is it a forbidden
phrase?), written from domain practice, not from the rubric's phrase lists: the pools hold
paraphrases the rubric may miss and near-misses it must not flag. Call structure (verification
order, holds, interruptions, speech rate, hang-ups) is varied, and then the text is degraded the
way ASR output is: homophone substitutions, some non-homophone errors, Traditional characters,
missing or odd punctuation, fillers, digits written either way. Labels never change with the noise.

    python benchmarks/rubric_eval_set.py --count 80 --seed 7 --out benchmarks/data/rubric_eval.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from qa_pipeline.types import AsrProvenance, Role, RoleAssignment, Transcript, Turn, Word

A, C = Role.AGENT, Role.CUSTOMER


# What a QA inspector counts as 礼貌用语 (courtesy): polite forms of address, please, thanks, apology.
POLITE_FORMS = ("您", "请", "谢谢", "感谢", "抱歉", "不好意思", "麻烦")


@dataclass(frozen=True)
class Line:
    text: str
    labels: frozenset[str] = frozenset()  # rule ids this utterance makes true

    @property
    def courteous(self) -> bool:
        return any(form in self.text for form in POLITE_FORMS)


def _line(text: str, *labels: str) -> Line:
    return Line(text, frozenset(labels))


# Openings: (line, has greeting, announces agent number)
OPENINGS = [
    (_line("您好，顺达客服中心，工号一零二四，很高兴为您服务。"), True, True),
    (_line("您好，欢迎致电华信银行，我是客服代表，工号三三一五，请问有什么可以帮您？"), True, True),
    (_line("早上好，安家宽带客服，很高兴为您服务。"), True, False),
    (_line("下午好，这里是平安保险，编号八八一二为您服务。"), True, True),
    (_line("你好，工号六六零一，请讲。"), True, True),
    (_line("您好，请讲。"), True, False),
    (_line("喂，什么事？"), False, False),
    (_line("嗯，说吧。"), False, False),
    (_line("这里是客服中心，我的工号是二零四八，请问有什么需要？"), False, True),
    (_line("欢迎致电星海航空，员工号七七零九，请问您要办理什么业务？"), True, True),
    (_line("您好，很高兴为您服务，请问您需要什么帮助？"), True, False),
]

# Customer requests: (line, concerns the customer's account: verification required)
REQUESTS = [
    (_line("你好，我想查一下我这个月的话费。"), True),
    (_line("帮我看看我信用卡还欠多少钱。"), True),
    (_line("我想把套餐改成便宜一点的。"), True),
    (_line("我的银行卡丢了，要挂失。"), True),
    (_line("我想修改一下登录密码。"), True),
    (_line("我上个月的账单好像多扣了一笔钱。"), True),
    (_line("我的积分能换什么东西？"), True),
    (_line("你们营业厅晚上几点关门？"), False),
    (_line("我家宽带从昨天开始就上不了网了。"), False),
    (_line("我想咨询一下你们新出的那个理财产品。"), False),
    (_line("我买的东西什么时候能发货？"), False),
    (_line("你们的客服电话周末有人接吗？"), False),
]

VERIFICATIONS = [
    _line("为了保障您的账户安全，请您提供一下机主身份证后四位。"),
    _line("麻烦您报一下预留的手机号码，我核实一下。"),
    _line("我需要先核实一下您的身份，请问您的服务密码是多少？"),
    _line("请问您是机主本人吗？请提供身份证号码后六位。"),
    _line("办理之前需要验证一下您的身份，请说一下您的证件号后四位。"),
]
VERIFICATION_ANSWERS = [_line("后四位是三五七九。"), _line("一三八零零一二三四五六。"), _line("六六八八。"), _line("是我本人，二四六八一零。")]
VERIFIED = [_line("好的，核实成功，感谢您的配合。"), _line("好的，信息核对无误。"), _line("好的，验证通过了。")]

# Agent lines that disclose account data (the fatal rule is about these coming before verification)
DISCLOSURES = [
    _line("您本月的账单金额是八十六元。"),
    _line("您的账户余额还有两百三十元。"),
    _line("查到您这张卡目前欠款是三千二百元，最后还款日是二十五号。"),
    _line("您名下一共有两张信用卡。"),
    _line("您现在的可用额度是五万元。"),
    _line("您上个月的消费记录是三笔，一共一千二百元。"),
]
# Agent answers that give no account data
GENERAL_ANSWERS = [
    _line("好的，我帮您记录一下，三个工作日内会有专人联系您。"),
    _line("营业厅晚上八点关门，周末正常营业。"),
    _line("那边线路在维修，明天下午之前会恢复，给您带来不便非常抱歉。"),
    _line("这款产品的具体信息我发短信给您，您可以看一下。"),
    _line("我先帮您核实身份，然后再帮您查询余额。"),  # mentions 余额 but discloses nothing
    _line("您的问题我已经记下了，稍后会有专员回电。"),
]

# Forbidden phrases (禁忌用语), as agents actually say them
FORBIDDEN = [
    _line("这个我不知道，你自己去查吧。", "forbidden_phrase"),
    _line("这不归我们管，你找别的部门。", "forbidden_phrase"),
    _line("这是公司规定，我也没有办法。", "forbidden_phrase"),
    _line("你听不懂吗？我都说了三遍了。", "forbidden_phrase"),
    _line("急什么，前面还有人排队呢。", "forbidden_phrase"),
    _line("爱办不办，就这个价。", "forbidden_phrase"),
    _line("我也没办法啊，系统就这样。", "forbidden_phrase"),
    _line("这不是我的问题，跟我没关系。", "forbidden_phrase"),
    _line("你问我我问谁啊。", "forbidden_phrase"),
]
# Agent lines close to forbidden ones that are fine
AGENT_NEAR_MISSES = [
    _line("您别着急，我马上帮您查。"),
    _line("我知道您很着急，我们会尽快处理。"),
    _line("这个问题我需要确认一下，请您稍等。"),
    _line("不好意思，这个需要帮您转接专员处理。"),
    _line("按照规定，这项业务需要本人办理，请您理解。"),
    _line("您不知道密码也没关系，可以用身份证重置。"),
    _line("您生病了的话，可以让家人代办。"),
]
ABUSE = [
    _line("你有病吧，一直打电话。", "fatal_abuse"),
    _line("你是不是脑子有问题？", "fatal_abuse"),
    _line("神经病，别再打了。", "fatal_abuse"),
    _line("闭嘴，听我说完。", "fatal_abuse"),
    _line("你算什么东西，跟我这么说话。", "fatal_abuse"),
]
COMPLAINTS = [
    _line("你们这样处理，我要投诉你们！", "complaint_risk"),
    _line("今天再不解决，我就打一二三一五。", "complaint_risk"),
    _line("叫你们领导来跟我说。", "complaint_risk"),
    _line("我要去消协告你们。", "complaint_risk"),
    _line("我要找媒体曝光你们这种做法。", "complaint_risk"),
    _line("我已经投诉过一次了，这次还要投诉。", "complaint_risk"),
]
CUSTOMER_NEAR_MISSES = [
    _line("我不是要投诉，就是问一下。"),
    _line("你们是不是有病啊，老是扣我钱。"),  # the customer's anger is not the agent's abuse
    _line("我不知道你们几点下班。"),
    _line("好的，我知道了，谢谢。"),
]
HOLD_REQUESTS = [_line("好的，请您稍等，我帮您查询一下。"), _line("请稍等片刻，我看一下系统。"), _line("您稍等一下，我帮您查一下。")]
HOLD_THANKS = [_line("感谢您的耐心等待。"), _line("让您久等了。"), _line("不好意思让您等了这么久。")]
CLOSINGS = [
    (_line("请问还有其他可以帮您的吗？"), True),
    (_line("感谢您的来电，祝您生活愉快，再见。"), True),
    (_line("好的，那就这样，再见。"), True),
    (_line("感谢您的耐心，祝您愉快。"), True),
    (_line("行了，挂了。"), False),
    (_line("那就这样吧。"), False),
    (_line("嗯，好，拜拜。"), False),
]
CUSTOMER_BYES = [_line("没有了，谢谢。"), _line("好的，再见。"), _line("好，拜拜。")]
CUT_OFF = [_line("等一下，我还有一个问题就是那个"), _line("那我下个月还会不会有这个问题呢我想")]
RUDE_AGENT_FILLERS = [_line("查不了。"), _line("系统显示没问题。"), _line("明天再打。")]

HOMOPHONES = {"工号": "公号", "客服": "克服", "账单": "张丹", "核实": "何时", "可以": "可疑", "稍等": "烧等",
              "套餐": "桃餐", "投诉": "投宿", "身份证": "深份证", "规定": "贵定", "领导": "领到", "余额": "鱼额",
              "话费": "花费", "预留": "预流", "来电": "来店"}
NEAR_HOMOPHONES = {"工号": "勾号", "套餐": "泡餐", "核实": "和时", "账单": "张单", "稍等": "少等"}
DIGITS = dict(zip("零一二三四五六七八九", "0123456789"))


@dataclass
class _Call:
    lines: list[tuple[Role, Line, float]] = field(default_factory=list)  # (role, line, pause after)
    labels: set[str] = field(default_factory=set)
    seconds_per_char: float = 0.22
    overlap_next: dict[int, float] = field(default_factory=dict)  # line index -> seconds of overlap
    tail_s: float = 1.0

    def say(self, role: Role, line: Line, pause_s: float = 0.6) -> None:
        self.lines.append((role, line, pause_s))
        self.labels |= line.labels


def compose(rng: random.Random, index: int) -> tuple[list[tuple[Role, str, float, float]], set[str], float, dict]:
    call = _Call()
    variant = {}
    if index % 13 == 5:  # a few calls where the agent is curt throughout
        return _compose_curt(rng)
    opening, has_greeting, has_agent_id = rng.choice(OPENINGS)
    call.say(A, opening)
    if not has_greeting:
        call.labels.add("greeting")
    if not has_agent_id:
        call.labels.add("agent_id_announced")
    request, is_account = rng.choice(REQUESTS)
    call.say(C, request)
    order = rng.choice(["verify_then_disclose", "verify_then_disclose", "disclose_then_verify", "disclose_only",
                        "none", "verify_only"]) if is_account else rng.choice(["none", "general"])
    variant["order"] = order
    if order in ("verify_then_disclose", "verify_only"):
        _verify(call, rng)
        call.say(A, rng.choice(DISCLOSURES) if order == "verify_then_disclose" else rng.choice(GENERAL_ANSWERS))
    elif order == "disclose_then_verify":
        call.say(A, rng.choice(DISCLOSURES))
        call.labels.add("fatal_disclosure_before_verification")
        call.say(C, _line("那我还想办一下别的。"))
        _verify(call, rng)
    elif order == "disclose_only":
        call.say(A, rng.choice(DISCLOSURES))
        call.labels |= {"fatal_disclosure_before_verification", "identity_verification"}
    elif order == "none":
        call.say(A, rng.choice(GENERAL_ANSWERS))
        if is_account:
            call.labels.add("identity_verification")
    else:
        call.say(A, rng.choice(GENERAL_ANSWERS))

    roll = rng.random()
    if roll < 0.2:
        call.say(C, _line("那我这个问题到底什么时候能解决？"))
        call.say(A, rng.choice(FORBIDDEN))
    elif roll < 0.3:
        call.say(C, _line("你们到底能不能解决？我都打了三次了。"))
        call.say(A, rng.choice(ABUSE))
    elif roll < 0.5:
        call.say(C, _line("那我再问一下别的。"))
        call.say(A, rng.choice(AGENT_NEAR_MISSES))
    roll = rng.random()
    if roll < 0.25:
        call.say(C, rng.choice(COMPLAINTS))
        call.say(A, _line("非常抱歉给您带来不便，我马上为您加急处理。"))
    elif roll < 0.45:
        call.say(C, rng.choice(CUSTOMER_NEAR_MISSES))
        call.say(A, _line("好的，我明白您的意思。"))

    silence = rng.choice(["none", "none", "dead_air", "hold_ok", "hold_no_thanks", "hold_too_long", "short_pause"])
    variant["silence"] = silence
    if silence != "none":
        if silence == "dead_air":
            call.say(A, _line("好的，我看一下。"), pause_s=rng.uniform(12, 20))
            call.labels.add("long_silence")
        elif silence == "short_pause":
            call.say(A, _line("好的，我看一下。"), pause_s=rng.uniform(3, 7))
        else:
            call.say(A, rng.choice(HOLD_REQUESTS), pause_s=rng.uniform(75, 90) if silence == "hold_too_long" else rng.uniform(15, 40))
            if silence != "hold_no_thanks":
                call.say(A, rng.choice(HOLD_THANKS))
            if silence in ("hold_no_thanks", "hold_too_long"):
                call.labels.add("hold_etiquette")
        call.say(A, _line("已经帮您处理好了。"))

    interrupt = rng.choice(["none", "none", "none", "cut_in", "backchannel"])
    variant["interruption"] = interrupt
    if interrupt != "none":
        call.say(C, _line("我跟你说，我上个月就已经打过电话了，当时说好了会给我退的，结果到现在都没有。"), pause_s=0.6)
        position = len(call.lines) - 1
        if interrupt == "cut_in":
            call.overlap_next[position] = rng.uniform(2.0, 4.0)
            call.say(A, _line("这个情况我们已经知道了，我们会处理。"))
            call.labels.add("interruption")
        else:
            call.overlap_next[position] = 0.4
            call.say(A, _line("嗯嗯。"))
            call.say(A, _line("明白了，我帮您跟进退款。"))

    rate = rng.choice(["normal"] * 6 + ["fast", "slow"])
    variant["rate"] = rate
    call.seconds_per_char = {"normal": rng.uniform(0.19, 0.27), "fast": rng.uniform(0.11, 0.135), "slow": rng.uniform(0.55, 0.7)}[rate]
    if rate != "normal":
        call.labels.add("speech_rate")
        call.say(A, _line("另外提醒您，本月起我们的服务热线工作时间调整为早上八点到晚上十点，周末和节假日正常服务，有问题随时联系我们。"))

    closing, has_closing = rng.choice(CLOSINGS)
    call.say(A, closing)
    if not has_closing:
        call.labels.add("closing")
    if rng.random() < 0.12:
        call.say(C, rng.choice(CUT_OFF), pause_s=0.0)
        call.labels.add("fatal_hang_up")
        call.tail_s = 0.1
    else:
        call.say(C, rng.choice(CUSTOMER_BYES), pause_s=0.0)
    return _timed(call, variant)


def _compose_curt(rng: random.Random) -> tuple[list[tuple[Role, str, float, float]], set[str], float, dict]:
    """A call where the agent never uses a polite form."""
    call = _Call()
    opening, _, _ = OPENINGS[6 + rng.randrange(2)]
    call.say(A, opening)
    call.labels |= {"greeting", "agent_id_announced"}
    request, is_account = rng.choice(REQUESTS)
    call.say(C, request)
    call.say(A, rng.choice(RUDE_AGENT_FILLERS))
    if is_account:
        call.labels.add("identity_verification")
    if rng.random() < 0.5:
        call.say(C, _line("你这什么态度？"))
        call.say(A, rng.choice([line for line in FORBIDDEN + ABUSE if not line.courteous]))
    closing, has_closing = rng.choice(CLOSINGS[4:])
    call.say(A, closing)
    call.say(C, rng.choice(CUSTOMER_BYES), pause_s=0.0)
    if not has_closing:
        call.labels.add("closing")
    return _timed(call, {"curt": True})


def _timed(call: _Call, variant: dict) -> tuple[list[tuple[Role, str, float, float]], set[str], float, dict]:
    if not any(line.courteous for role, line, _ in call.lines if role is A):
        call.labels.add("courtesy")
    timed = []
    cursor = 0.5
    for position, (role, line, pause_s) in enumerate(call.lines):
        rate_s = call.seconds_per_char if role is A else 0.22
        end_s = cursor + len(line.text) * rate_s
        timed.append((role, line.text, cursor, rate_s))
        # the next line starts after the pause, or overlapping this one (an interruption)
        cursor = end_s - call.overlap_next[position] if position in call.overlap_next else end_s + pause_s
    return timed, call.labels, call.tail_s, variant


def _verify(call: _Call, rng: random.Random) -> None:
    call.say(A, rng.choice(VERIFICATIONS))
    call.say(C, rng.choice(VERIFICATION_ANSWERS))
    call.say(A, rng.choice(VERIFIED))


def degrade(text: str, rng: random.Random, style: dict) -> str:
    """Make text look like ASR output of the given style (labels unaffected)."""
    for source, target in HOMOPHONES.items():
        if source in text and rng.random() < style["homophones"]:
            text = text.replace(source, target)
    for source, target in NEAR_HOMOPHONES.items():
        if source in text and rng.random() < style["near_homophones"]:
            text = text.replace(source, target)
    if style["digits"]:
        text = "".join(DIGITS.get(char, char) for char in text)
    if style["punctuation"] == "none":
        text = "".join(char for char in text if char not in "，。？！、")
    elif style["punctuation"] == "ascii":
        text = text.translate(str.maketrans("，。？！", ",.?!"))
    elif style["punctuation"] == "spaces":
        text = text.translate(str.maketrans("，。？！", "    ")).strip()
    if style["fillers"]:
        text = text.replace("，", "，嗯，", 1)
    if style["traditional"]:
        text = _to_traditional(text)
    return text


def _to_traditional(text: str) -> str:
    import opencc  # noqa: PLC0415

    return opencc.OpenCC("s2t").convert(text)


def build(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    calls = []
    for index in range(count):
        timed, labels, tail_s, variant = compose(rng, index)
        style = {
            "homophones": rng.choice([0.0, 0.3, 0.6]),
            "near_homophones": rng.choice([0.0, 0.0, 0.0, 0.3]),
            "digits": rng.random() < 0.4,
            "punctuation": rng.choice(["keep", "none", "ascii", "spaces"]),
            "fillers": rng.random() < 0.3,
            "traditional": rng.random() < 0.2,
        }
        agent_channel = rng.randrange(2)
        turns = []
        for role, text, start_s, rate_s in timed:
            shown = degrade(text, rng, style)
            channel = agent_channel if role is A else 1 - agent_channel
            words = tuple(
                Word(start_s=start_s + i * rate_s, end_s=start_s + (i + 1) * rate_s, text=char)
                for i, char in enumerate(shown)
            )
            turns.append(Turn(start_s=start_s, end_s=words[-1].end_s, channel=channel, speaker=f"ch{channel}",
                              role=role, role_confidence=1.0, text=shown, words=words))
        turns.sort(key=lambda turn: turn.start_s)
        transcript = Transcript(
            call_id=f"eval-{seed}-{index:03d}", recording_sha256=f"{index:064x}",
            duration_s=max(turn.end_s for turn in turns) + tail_s, num_channels=2, turns=tuple(turns),
            roles=RoleAssignment(agent_channel=agent_channel, source="config", confidence=1.0),
            asr=AsrProvenance(engine="scripted", model="rubric_eval_set", options={"seed": seed}),
        )
        calls.append({"transcript": transcript.model_dump(mode="json"), "expected_hits": sorted(labels),
                      "variant": variant, "style": style})
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / "rubric_eval.jsonl")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    calls = build(args.count, args.seed)
    with args.out.open("w", encoding="utf-8") as handle:
        for call in calls:
            handle.write(json.dumps(call, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for call in calls:
        for rule_id in call["expected_hits"]:
            counts[rule_id] = counts.get(rule_id, 0) + 1
    print(f"{len(calls)} calls -> {args.out}; positives per rule: {json.dumps(counts, ensure_ascii=False)}")


if __name__ == "__main__":
    main()
