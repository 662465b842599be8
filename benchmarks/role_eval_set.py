"""Write call scripts for the role-detection evaluation sets: calls of every direction and shape.

The ASR sets (asr_eval_set.py) are all inbound calls that the agent opens with a greeting and a
工号. Real centers also record outbound calls (回访 follow-ups, 调研 surveys, 催收 collections,
营销 sales, 通知 notices) that the customer opens by picking up (「喂？」), agents who open without
a 工号, customers who say 您 and 请问, complaint calls where the customer does most of the
talking, short turn-taking gaps and talk-over. These sets check that role detection holds there.

Two sets from two seeds: ``roles_dev`` (looked at while changing role detection) and
``roles_heldout`` (measured only after):

    .venv/bin/python benchmarks/role_eval_set.py --seed 31 --out benchmarks/data/roles_dev/scripts
    .venv/bin/python benchmarks/role_eval_set.py --seed 37 --out benchmarks/data/roles_heldout/scripts
    .tts-venv/bin/python samples/make_samples.py --scripts benchmarks/data/roles_dev/scripts \\
        --out benchmarks/data/roles_dev/calls                              # audio (git-ignored)

File names carry no direction (role detection must not need metadata); the script's
``direction`` field holds it.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from asr_eval_set import amount, date, digits, phone, spoken_number, write_scripts

COMPANIES = ["顺达通信", "长江银行", "安心保险", "优选商城", "安家宽带", "城南燃气", "畅行旅游", "启明教育",
             "吉祥汽车", "百货通快递"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
PICK_UP = ["喂？", "喂，你好。", "喂，哪位？", "你好，哪位啊？", "喂，您好。", "嗯，你说。"]


def _title(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(["先生", "女士"])


def _agent_intro(rng: random.Random, company: str) -> str:
    """How an outbound agent says who they are: with or without a 工号 or name."""
    return rng.choice([
        f"我是{company}的客服，",
        f"我是{company}客户服务中心的小{rng.choice(SURNAMES)}，",
        f"这边是{company}，我的工号是{digits(rng, 4)}，",
        f"我这边是{company}的，",
        f"{company}的回访专员，",
    ])


def outbound_follow_up(rng: random.Random, company: str) -> list[tuple[str, str]]:
    title = _title(rng)
    return [
        ("customer", rng.choice(PICK_UP)),
        ("agent", f"您好，请问是{title}吗？"),
        ("customer", rng.choice(["对，我是。", "是我，什么事？", "嗯，是的。"])),
        ("agent", _agent_intro(rng, company) + f"您{date(rng)}办理的业务，想跟您做个简单的回访，耽误您一分钟可以吗？"),
        ("customer", rng.choice(["可以，你说吧。", "行，你问吧。", "我现在有点忙，快点说吧。"])),
        ("agent", "请问您对这次的办理过程满意吗？"),
        ("customer", rng.choice(["还行吧，就是等得有点久。", "挺好的，那个小姑娘很耐心。", "一般般，手续太多了。"])),
        ("agent", rng.choice(["好的，您的意见我们已经记录了，感谢您的支持，再见。",
                              "明白了，我们会继续改进，打扰您了，再见。"])),
        ("customer", rng.choice(["好，再见。", "嗯，拜拜。"])),
    ]


def outbound_survey(rng: random.Random, company: str) -> list[tuple[str, str]]:
    return [
        ("customer", rng.choice(PICK_UP)),
        ("agent", "您好，" + _agent_intro(rng, company) + "想占用您两分钟时间做一个用户调查，方便吗？"),
        ("customer", rng.choice(["你说吧。", "什么调查？", "嗯，可以。"])),
        ("agent", "请问您使用我们的服务有多长时间了？"),
        ("customer", f"差不多{spoken_number(rng.randrange(2, 9))}年了吧。"),
        ("agent", "如果满分是十分，您愿意给我们打几分呢？"),
        ("customer", rng.choice(["八分吧，网速有时候慢。", "给个七分，价格有点贵。", "九分，挺好的。"])),
        ("agent", "好的，非常感谢您的配合，祝您生活愉快。"),
        ("customer", "不客气，再见。"),
    ]


def outbound_collection(rng: random.Random, company: str) -> list[tuple[str, str]]:
    title = _title(rng)
    return [
        ("customer", rng.choice(PICK_UP)),
        ("agent", f"您好，请问是{title}本人吗？"),
        ("customer", rng.choice(["是我，你是哪里？", "对，有什么事？"])),
        ("agent", _agent_intro(rng, company) + f"提醒您一下，您尾号{digits(rng, 4)}的账户已经逾期"
                  f"{spoken_number(rng.randrange(3, 40))}天了，欠款{amount(rng)}。"),
        ("customer", rng.choice(["我这个月手头紧，下个月再还行不行？", "我以为自动扣款了，我马上去看看。",
                                 "怎么又打电话来了，我说了会还的。"])),
        ("agent", f"理解您的情况，最晚请在{date(rng)}之前还清，否则会影响您的个人征信。"),
        ("customer", rng.choice(["知道了，我尽快。", "好吧，我想办法。"])),
        ("agent", "好的，那就不打扰您了，再见。"),
    ]


def outbound_sales(rng: random.Random, company: str) -> list[tuple[str, str]]:
    return [
        ("customer", rng.choice(PICK_UP)),
        ("agent", "您好，" + _agent_intro(rng, company) + f"现在有一个老用户专享的优惠活动，每个月只要{amount(rng)}，"
                  "流量和通话时长都翻倍，您有兴趣了解一下吗？"),
        ("customer", rng.choice(["不需要，我现在用的够了。", "多少钱？你再说一遍。", "我没兴趣，别再打了。"])),
        ("agent", rng.choice(["这个活动只到月底，办理之后马上生效，您可以考虑一下。",
                              "好的，那我给您发一条短信，您有空的时候看看。"])),
        ("customer", rng.choice(["真的不用了，谢谢。", "行，你发吧。"])),
        ("agent", "好的，打扰您了，祝您生活愉快，再见。"),
    ]


def outbound_notice(rng: random.Random, company: str) -> list[tuple[str, str]]:
    return [
        ("customer", rng.choice(PICK_UP)),
        ("agent", "您好，" + _agent_intro(rng, company) + f"通知您一下，您所在的小区{date(rng)}上午九点到下午三点"
                  "要进行线路检修，期间会暂停服务。"),
        ("customer", rng.choice(["啊？那么久，我在家办公怎么办？", "哦，知道了。", "又检修？上个月不是刚修过吗？"])),
        ("agent", "非常抱歉给您带来不便，检修完成后会第一时间恢复，请您提前做好准备。"),
        ("customer", rng.choice(["行吧，那我知道了。", "好的，谢谢你通知。"])),
        ("agent", "不客气，再见。"),
    ]


def inbound_plain(rng: random.Random, company: str) -> list[tuple[str, str]]:
    """Inbound, the agent opening without a 工号; a polite customer who says 您 and 请问."""
    return [
        ("agent", rng.choice(["喂，您好，请讲。", f"您好，{company}。", "您好，这里是客服中心，请问有什么需要？"])),
        ("customer", rng.choice(["您好，请问一下，我上周寄的快递怎么还没到？", "你好，我想问问我的账单怎么多扣了钱？",
                                 "您好，麻烦您帮我查一下我的订单。"])),
        ("agent", "好的，麻烦您提供一下手机号码，我这边帮您查询。"),
        ("customer", f"{phone(rng)}。"),
        ("agent", rng.choice(["查到了，目前显示在路上，预计明天送达。", "看到了，多扣的钱三个工作日内会退回您的账户。"])),
        ("customer", rng.choice(["好的，谢谢您。", "那行，麻烦您了。"])),
        ("agent", rng.choice(["不客气，再见。", "请问还有其他问题吗？没有的话就先这样，再见。"])),
    ]


def inbound_complaint(rng: random.Random, company: str) -> list[tuple[str, str]]:
    """The customer does most of the talking; the agent says little and no 工号."""
    return [
        ("agent", rng.choice(["您好。", "您好，请讲。", f"{company}，您好。"])),
        ("customer", rng.choice([
            "我跟你说，你们这个服务太差了，我打了三次电话都没人给我解决，我今天必须要个说法。",
            "你们怎么回事啊？说好昨天上门安装的，我在家等了一整天，连个电话都没有！",
        ])),
        ("agent", rng.choice(["非常抱歉。", "实在对不起，您先别着急。"])),
        ("customer", rng.choice([
            "别跟我说抱歉，我要投诉，把你们领导的电话给我。",
            "道歉有什么用？我请了一天假，这个损失谁来赔？我要投诉你们。",
        ])),
        ("agent", "您的心情我理解，我马上帮您登记，由专人在二十四小时内联系您处理。"),
        ("customer", rng.choice(["二十四小时？你们最好说到做到。", "行，我等着，再没人管我就打一二三一五。"])),
        ("agent", "好的，一定给您答复，再见。"),
    ]


SCENARIOS = {
    "out_follow_up": outbound_follow_up, "out_survey": outbound_survey, "out_collection": outbound_collection,
    "out_sales": outbound_sales, "out_notice": outbound_notice, "in_plain": inbound_plain,
    "in_complaint": inbound_complaint,
}


def call_script(rng: random.Random, index: int) -> dict:
    name = rng.choice(list(SCENARIOS))
    company = rng.choice(COMPANIES)
    turns = []
    for role, text in SCENARIOS[name](rng, company):
        # Mostly short gaps; now and then a quick reply or talk-over (a negative pause overlaps).
        pause_s = -0.4 if rng.random() < 0.15 else rng.choice([round(rng.uniform(0.15, 0.5), 2),
                                                                round(rng.uniform(0.4, 1.2), 1)])
        turns.append({role: text, "pause_s": pause_s})
    agent_pitch = rng.choice([-300, -150, 0, 150, 300])
    customer_pitch = rng.choice([p for p in (-450, -350, -200, 200, 350, 450) if abs(p - agent_pitch) >= 250])
    return {
        "call_id": f"roles_{index:03d}_{name}",
        "description": f"{company}: {name.replace('_', ' ')} call (role detection)",
        "direction": name[:name.index("_")],
        "agent_channel": rng.randrange(2),
        "encoding": rng.choice(["alaw", "mulaw", "pcm16"]),
        "noise_dbfs": rng.choice([-58, -52, -46]),
        "voices": {
            "agent": {"pitch_cents": agent_pitch, "tempo": round(rng.uniform(0.95, 1.15), 2)},
            "customer": {"pitch_cents": customer_pitch, "tempo": round(rng.uniform(0.9, 1.12), 2)},
        },
        "turns": turns,
        "expected_hits": [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / "roles_dev" / "scripts")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    write_scripts((call_script(rng, index) for index in range(args.count)), args.out)


if __name__ == "__main__":
    main()
