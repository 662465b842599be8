"""The ``zhijian`` command line.

    zhijian inspect FILE_OR_FOLDER... [--rubric PATH] [--agent-channel 0|1|auto] [--json OUT_DIR]
    zhijian batch FILE_OR_FOLDER... [--db URL] [--workers N] [--rubric PATH] [--manifest CSV]
    zhijian rescore --rubric FILE --json-in DIR (--json-out DIR | --in-place)
    zhijian rescore --rubric FILE --db URL [--since YYYY-MM-DD]
    zhijian eval asr AUDIO_DIR [--refs DIR] [--model NAME_OR_PATH]
    zhijian models list | check
    zhijian rubric check FILE
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from tqdm import tqdm

from qa_pipeline.asr import get_transcriber
from qa_pipeline.audio import read_recording
from qa_pipeline.batch import CallResult, rescore_stored, run_batch
from qa_pipeline.errors import PermanentError, QAPipelineError
from qa_pipeline.evaluation import CerCounts, call_cer, find_reference
from qa_pipeline.pipeline import Outcome, discover_calls, inspect_calls
from qa_pipeline.registry import ModelRegistry
from qa_pipeline.rubric import load_rubric, rescore
from qa_pipeline.settings import (
    ASRSettings,
    BatchSettings,
    MetadataSettings,
    Settings,
    StoreSettings,
    load_settings,
)
from qa_pipeline.store import ResultStore
from qa_pipeline.transcribe import transcribe_recording
from qa_pipeline.types import Role, Scorecard, Severity

ROLE_LABELS = {Role.AGENT: "坐席", Role.CUSTOMER: "客户", Role.UNKNOWN: "未知"}
SEVERITY_LABELS = {Severity.DEDUCTION: "扣分", Severity.FATAL: "致命", Severity.INFO: "提示"}
CHANNEL_LABELS = {0: "左声道", 1: "右声道"}
DIRECTION_LABELS = {"in": "呼入", "out": "呼出"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args)
    except PermanentError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    except QAPipelineError as exc:
        print(f"错误 error (may succeed if retried): {exc}", file=sys.stderr)
        return 3


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhijian", description="质检通: automated QA for Mandarin call recordings")
    parser.add_argument("--config", type=Path, help="TOML settings file (default: $ZHIJIAN_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    inspect = commands.add_parser("inspect", help="transcribe and score calls, print scorecards")
    inspect.add_argument("paths", nargs="*", type=Path, metavar="FILE", help="audio files or folders")
    inspect.add_argument("--rubric", type=Path, help="rubric YAML (default: rubrics/default.yaml)")
    inspect.add_argument("--agent-channel", choices=["0", "1", "auto"], help="stereo channel of the agent")
    inspect.add_argument("--model", help="ASR model: a registry name or a CTranslate2 folder")
    inspect.add_argument("--manifest", type=Path, help="CSV with a path column and call metadata")
    inspect.add_argument("--json", type=Path, metavar="OUT_DIR", help="write <call_id>.json scorecards here")
    inspect.add_argument("--show-turns", action="store_true", help="print the transcript of each call")
    inspect.set_defaults(handler=_inspect)

    batch = commands.add_parser("batch", help="inspect many calls into the results database (skips what is done)")
    batch.add_argument("paths", nargs="*", type=Path, metavar="FILE", help="audio files or folders")
    batch.add_argument("--db", metavar="URL", help="database URL (default: settings store.url, sqlite:///out/zhijian.db)")
    batch.add_argument("--workers", type=int, help="calls inspected at once, one process each (default 1)")
    batch.add_argument("--rubric", type=Path, help="rubric YAML (default: rubrics/default.yaml)")
    batch.add_argument("--agent-channel", choices=["0", "1", "auto"], help="stereo channel of the agent")
    batch.add_argument("--model", help="ASR model: a registry name or a CTranslate2 folder")
    batch.add_argument("--manifest", type=Path, help="CSV with a path column and call metadata")
    batch.add_argument("--retry-failed", action="store_true", help="try calls that failed permanently again")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in cron logs)")
    batch.add_argument("--summary-json", type=Path, metavar="FILE", help="write the per-call results here")
    batch.set_defaults(handler=_batch)

    models = commands.add_parser("models", help="the model registry").add_subparsers(required=True, metavar="ACTION")
    models_list = models.add_parser("list", help="models, where they come from, and which is active")
    models_list.set_defaults(handler=_models_list)
    models_check = models.add_parser("check", help="make the active ASR model ready (assemble, verify, load)")
    models_check.add_argument("--load", action="store_true", help="also load it once")
    models_check.set_defaults(handler=_models_check)

    rescore = commands.add_parser("rescore", help="score stored calls again with a (new) rubric; no audio, no ASR")
    rescore.add_argument("--rubric", type=Path, required=True, help="the rubric YAML to apply")
    stored = rescore.add_mutually_exclusive_group(required=True)
    stored.add_argument("--db", metavar="URL", help="re-score the current transcripts in this results database")
    stored.add_argument("--json-in", type=Path, metavar="DIR", help="folder of scorecard JSON files")
    rescore.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="with --db: calls from this date on")
    target = rescore.add_mutually_exclusive_group()
    target.add_argument("--json-out", type=Path, metavar="DIR", help="with --json-in: write the new scorecards here")
    target.add_argument("--in-place", action="store_true", help="with --json-in: replace the scorecards there")
    rescore.set_defaults(handler=_rescore)

    evaluate = commands.add_parser("eval", help="measure accuracy on your own labelled calls").add_subparsers(
        required=True, metavar="WHAT")
    eval_asr = evaluate.add_parser("asr", help="character error rate of the active ASR model")
    eval_asr.add_argument("audio", type=Path, metavar="AUDIO_DIR", help="labelled recordings")
    eval_asr.add_argument("--refs", type=Path, metavar="DIR",
                          help="references (<name>.ch0.txt/.ch1.txt, <name>.txt or <name>.yaml); default: AUDIO_DIR")
    eval_asr.add_argument("--model", help="ASR model: a registry name or a CTranslate2 folder")
    eval_asr.add_argument("--json", type=Path, metavar="FILE", help="write the per-call figures here")
    eval_asr.set_defaults(handler=_eval_asr)

    rubric = commands.add_parser("rubric", help="rubric tools").add_subparsers(required=True, metavar="ACTION")
    rubric_check = rubric.add_parser("check", help="validate a rubric file")
    rubric_check.add_argument("file", type=Path)
    rubric_check.set_defaults(handler=_rubric_check)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    base = load_settings(args.config)
    overrides: dict[str, object] = {}
    if getattr(args, "rubric", None):
        overrides["rubric"] = args.rubric
    if getattr(args, "agent_channel", None):
        overrides["agent_channel"] = args.agent_channel
    if getattr(args, "model", None):
        overrides["asr"] = ASRSettings(**{**base.asr.model_dump(), "model": args.model})
    if getattr(args, "manifest", None):
        overrides["metadata"] = MetadataSettings(**{**base.metadata.model_dump(), "manifest": args.manifest})
    if getattr(args, "db", None):
        overrides["store"] = StoreSettings(url=args.db)
    if getattr(args, "workers", None) or getattr(args, "retry_failed", False):
        batch = base.batch.model_dump()
        batch.update({"workers": args.workers or base.batch.workers,
                      "retry_failed": args.retry_failed or base.batch.retry_failed})
        overrides["batch"] = BatchSettings(**batch)
    return load_settings(args.config, **overrides) if overrides else base


def _inspect(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rubric = load_rubric(settings.rubric)
    sources = discover_calls(args.paths, settings=settings)
    if not sources:
        print("没有找到录音 no recordings found (give files, folders or --manifest)", file=sys.stderr)
        return 2
    if args.json:
        args.json.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    for outcome in inspect_calls(sources, settings=settings, rubric=rubric, load_transcriber=lambda: get_transcriber(settings)):
        outcomes.append(outcome)
        if outcome.scorecard is None:
            print(f"\n✗ {outcome.source.path}: 无法质检 cannot inspect: {outcome.error}")
            continue
        print(format_scorecard(outcome.scorecard, show_turns=args.show_turns))
        if args.json:
            write_json_atomic(args.json / f"{outcome.scorecard.call_id}.json", outcome.scorecard.model_dump_json(indent=2))
    print(_summary(outcomes))
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def format_scorecard(card: Scorecard, *, show_turns: bool = False) -> str:
    """The human-readable scorecard (Chinese labels, mm:ss times)."""
    meta = card.metadata
    facts = [f"时长 {_mmss(card.duration_s)}"]
    how = {"auto": "自动识别", "config": "配置", "metadata": "清单"}.get(card.roles.source, card.roles.source)
    confidence = f" {card.roles.confidence:.2f}" if card.roles.source == "auto" and card.roles.confidence is not None else ""
    if card.roles.agent_channel is not None:
        facts.append(f"坐席={CHANNEL_LABELS.get(card.roles.agent_channel, card.roles.agent_channel)}（{how}{confidence}）")
    elif card.roles.agent_speakers:
        speakers = len({turn.speaker for turn in card.turns})
        facts.append(f"单声道 {speakers} 人，坐席={'/'.join(card.roles.agent_speakers)}（{how}{confidence}）")
    if meta.agent_id:
        facts.append(f"工号 {meta.agent_id}")
    if meta.team:
        facts.append(f"班组 {meta.team}")
    if meta.direction:
        facts.append(DIRECTION_LABELS[meta.direction.value])
    verdict = "致命错误 一票否决" if card.fatal else ("合格" if card.passed else "不合格")
    lines = [
        "",
        f"━━ {card.call_id}  ({' · '.join(facts)})",
        f"   得分 {card.score:g} — {verdict}{'  ⚑ 需人工复核' if card.needs_review else ''}",
    ]
    for hit in card.hits:
        points = f"-{hit.points:g}" if hit.points else SEVERITY_LABELS[hit.severity]
        matched = f"  [{hit.matched}]" if hit.matched else ""
        span = _mmss(hit.start_s) if hit.end_s - hit.start_s < 1 else f"{_mmss(hit.start_s)}-{_mmss(hit.end_s)}"
        lines.append(
            f"   [{span}] {ROLE_LABELS[hit.role]} {hit.rule_id} {points}: {hit.description}  「{hit.evidence}」{matched}"
        )
    if not card.hits:
        lines.append("   无命中 no hits")
    for warning in card.warnings:
        lines.append(f"   ! {warning}")
    if show_turns:
        for turn in card.turns:
            lines.append(f"     {_mmss(turn.start_s)} {ROLE_LABELS[turn.role]}({turn.speaker}) {turn.text}")
    return "\n".join(lines)


def _summary(outcomes: list[Outcome]) -> str:
    cards = [outcome.scorecard for outcome in outcomes if outcome.scorecard is not None]
    failed = len(outcomes) - len(cards)
    if not cards:
        return f"\n共 {len(outcomes)} 通，失败 {failed} 通"
    mean = sum(card.score for card in cards) / len(cards)
    return (
        f"\n共 {len(outcomes)} 通：已质检 {len(cards)}，失败 {failed}；平均分 {mean:.1f}，"
        f"合格 {sum(card.passed for card in cards)}，致命 {sum(card.fatal for card in cards)}，"
        f"需复核 {sum(card.needs_review for card in cards)}"
    )


def _batch(args: argparse.Namespace) -> int:
    settings = _settings(args)
    sources = discover_calls(args.paths, settings=settings)
    if not sources:
        print("没有找到录音 no recordings found (give files, folders or --manifest)", file=sys.stderr)
        return 2
    print(f"{len(sources)} calls -> {ResultStore(settings.store.url, migrate=False)!r}, "
          f"{settings.batch.workers} worker(s)", file=sys.stderr)
    bar = tqdm(total=len(sources), unit="call", disable=args.no_progress, dynamic_ncols=True, file=sys.stderr)
    counts = dict.fromkeys(("inspected", "rescored", "skipped", "failed"), 0)
    audio_s = 0.0

    def progress(result: CallResult) -> None:
        nonlocal audio_s
        counts[result.status] += 1
        audio_s += result.audio_duration_s
        if result.status == "failed":
            bar.write(f"✗ {result.call_id}: {result.reason}")
        bar.set_postfix(done=counts["inspected"] + counts["rescored"], skipped=counts["skipped"],
                        failed=counts["failed"], audio_h=f"{audio_s / 3600:.2f}", refresh=False)
        bar.update()

    try:
        summary = run_batch(sources, settings, progress=progress, source_label=" ".join(map(str, args.paths)))
    finally:
        bar.close()
    print(summary.format())
    if summary.wall_s > 0 and summary.audio_s > 0:
        print(f"吞吐 throughput: {summary.audio_s / summary.wall_s:.1f} audio hours per wall hour")
    if args.summary_json:
        rows = [dataclasses.asdict(result) for result in summary.results]
        write_json_atomic(args.summary_json, json.dumps({"counts": summary.counts, "wall_s": summary.wall_s,
                                                         "calls": rows}, ensure_ascii=False, indent=2))
    return 0 if not summary.failures else 1


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-20") from exc


def _rescore(args: argparse.Namespace) -> int:
    rubric = load_rubric(args.rubric)
    if args.db:
        store = ResultStore(args.db)
        with tqdm(unit="call", desc="rescore", file=sys.stderr, dynamic_ncols=True) as bar:
            result = rescore_stored(store, rubric, since=args.since, progress=bar.update)
        print(f"重新评分 rescored {result.rescored} stored calls with {rubric.id} v{rubric.version} in "
              f"{result.wall_s:.1f} s; {result.passed} pass")
        return 0
    if not (args.json_out or args.in_place):
        print("错误 error: with --json-in, give --json-out DIR or --in-place", file=sys.stderr)
        return 2
    if not args.json_in.is_dir():
        print(f"错误 error: {args.json_in}: not a folder", file=sys.stderr)
        return 2
    out_dir = args.json_in if args.in_place else args.json_out
    out_dir.mkdir(parents=True, exist_ok=True)
    files = sorted(args.json_in.glob("*.json"))
    done = failed = changed_verdict = 0
    score_change = 0.0
    for path in files:
        try:
            old = Scorecard.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            failed += 1
            print(f"✗ {path}: not a scorecard ({exc.error_count()} problems, first: {exc.errors()[0]['msg']})")
            continue
        new = rescore(old, rubric)
        write_json_atomic(out_dir / path.name, new.model_dump_json(indent=2))
        done += 1
        score_change += new.score - old.score
        changed_verdict += new.passed != old.passed
    mean_change = score_change / done if done else 0.0
    print(f"重新评分 rescored {done} scorecards with {rubric.id} v{rubric.version} -> {out_dir}; failed {failed}; "
          f"mean score change {mean_change:+.1f}; verdict changed on {changed_verdict}")
    return 0 if not failed else 1


def _eval_asr(args: argparse.Namespace) -> int:
    settings = _settings(args)
    transcriber = get_transcriber(settings)
    sources = discover_calls([args.audio], settings=settings)
    rows, missing, failed = [], 0, 0
    total_normalized, total_verbatim = CerCounts(), CerCounts()
    audio_s = asr_s = 0.0
    print(f"{'call':40} {'CER':>7} {'verbatim':>9}  ({settings.asr.model})")
    for source in sources:
        try:
            reference = find_reference(source.path, args.refs)
            if reference is None:
                missing += 1
                continue
            recording, audio = read_recording(source.path, settings=settings.audio, call_id=source.call_id)
            started = time.perf_counter()
            transcript = transcribe_recording(recording, audio, transcriber, settings.asr)
            asr_s += time.perf_counter() - started
        except QAPipelineError as exc:
            failed += 1
            print(f"✗ {exc}")
            continue
        audio_s += recording.duration_s
        result = call_cer(transcript, reference)
        total_normalized.add(result.normalized)
        total_verbatim.add(result.verbatim)
        rows.append({"call_id": result.call_id, "cer": result.normalized.cer, "cer_verbatim": result.verbatim.cer,
                     "reference_chars": result.normalized.length})
        print(f"{result.call_id:40} {result.normalized.cer or 0:7.1%} {result.verbatim.cer or 0:9.1%}")
    if not rows:
        if failed:
            print(f"no CER: the {failed} labelled call(s) in {args.audio} failed (see above)", file=sys.stderr)
            return 1
        print(f"no recording in {args.audio} has a reference (looked for <name>.ch0.txt, <name>.txt, <name>.yaml)",
              file=sys.stderr)
        return 2
    summary = {"model": transcriber.provenance.model, "calls": len(rows), "cer": total_normalized.cer,
               "cer_verbatim": total_verbatim.cer, "audio_s": round(audio_s, 1),
               "audio_s_per_wall_s": round(audio_s / asr_s, 2) if asr_s else None,
               "without_reference": missing, "failed": failed}
    print(f"\nCER {total_normalized.cer:.2%} (verbatim {total_verbatim.cer:.2%}) over {len(rows)} calls, "
          f"{audio_s:.0f} s of audio at {summary['audio_s_per_wall_s']}× real time; "
          f"{missing} without reference, {failed} failed")
    if args.json:
        write_json_atomic(args.json, json.dumps({"summary": summary, "calls": rows}, ensure_ascii=False, indent=2))
    return 0 if not failed else 1


def _models_list(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    registry = ModelRegistry.load(settings.models_dir / "registry.yaml", settings.resolved_model_cache_dir)
    print(f"{'':2}{'name':18} {'kind':5} {'status':15} {'size':>8}  {'licence':8} source")
    for entry in registry.entries.values():
        active = "*" if entry.name == settings.asr.model else " "
        source = " + ".join(entry.source.packages) if entry.source.type == "pypi" else f"local: {entry.source.path or '(not set)'}"
        size = f"{entry.size_bytes / 1e6:.0f} MB"
        print(f"{active} {entry.name:18} {entry.kind:5} {registry.status(entry):15} {size:>8}  {entry.licence:8} {source}")
    if settings.asr.model not in registry.entries:
        print(f"* active ASR model is a folder: {settings.asr.model}")
    return 0


def _models_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    registry = ModelRegistry.load(settings.models_dir / "registry.yaml", settings.resolved_model_cache_dir)
    resolved = registry.resolve(settings.asr.model)
    print(f"ASR model {resolved.name!r} ready at {resolved.path} (revision {resolved.revision})")
    if args.load:
        get_transcriber(settings)
        print(f"loaded on {settings.asr.device} ({settings.asr.compute_type})")
    return 0


def _rubric_check(args: argparse.Namespace) -> int:
    rubric = load_rubric(args.file)
    print(f"{args.file}: OK — {rubric.id} v{rubric.version}, {len(rubric.rules)} rules, "
          f"base {rubric.base_score:g}, pass {rubric.pass_score:g}")
    for rule in rubric.rules:
        print(f"  {rule.id:40} {rule.type:15} {rule.role:8} {rule.severity.value:9} {rule.points:g}")
    return 0


def write_json_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


if __name__ == "__main__":
    sys.exit(main())
