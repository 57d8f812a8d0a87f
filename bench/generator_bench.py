"""Generator benchmark: check, render and MkDocs build times for synthetic sites.

For each N (items = pages: 80% lessons in courses of 10, 10% FAQ entries, 10% news, each
lesson about 1,500 Chinese characters) it prints the check time, the render time, the MkDocs
build time and the peak memory, then re-renders with nothing changed and prints how many
files were rewritten and how long it took. Each N runs in a fresh process so that peak memory
is its own. Results go to bench/RESULTS.md (section "Generator").

    .venv/bin/python bench/generator_bench.py [--sizes 100,1000,5000] [--no-results]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402

TODAY = date(2026, 11, 21)


def _sentences() -> list[str]:
    """Chinese sentences from the sample content, to make realistic text for jieba."""
    import yaml

    text = []
    for path in (ROOT / "content").rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for lesson in data.get("lessons", [data]) if isinstance(data, dict) else []:
            for key in ("body", "answer"):
                if isinstance(lesson.get(key), str):
                    text.append(lesson[key])
    # Links of the sample point at its own pages; synthetic pages keep only their words.
    joined = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", "".join(text).replace("\n", ""))
    return [s + "。" for s in joined.split("。") if len(s) > 8]


def synthesize(root: Path, n: int, seed: int = 7) -> None:
    import shutil

    import yaml

    rng = random.Random(seed)
    sentences = _sentences()

    def body(chars: int) -> str:
        out, size = [], 0
        while size < chars:
            paragraph = "".join(rng.choice(sentences) for _ in range(4))
            out.append(paragraph)
            size += len(paragraph)
        return "\n\n".join(out)

    def dump(path: Path, data: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000),
                        encoding="utf-8")

    shutil.copy(ROOT / "content" / "site.yaml", root / "site.yaml")
    shutil.copytree(ROOT / "content" / "basis", root / "basis")
    lessons, faqs = int(n * 0.8), n // 10
    news = n - lessons - faqs
    topics = ["党性教育", "党风廉政", "创业技能", "种养殖技术", "法律法规"]
    for c in range(0, lessons, 10):
        dump(root / "courses" / f"course-{c // 10:04d}.yaml", {
            "title": f"课程 {c // 10}", "topic": topics[(c // 10) % 5], "summary": body(40),
            "lessons": [{"slug": f"lesson-{i}", "title": f"第 {i + 1} 课", "minutes": 10,
                         "body": body(1500)} for i in range(min(10, lessons - c))]})
    for i in range(faqs):
        dump(root / "faq" / f"faq-{i:04d}.yaml", {
            "question": f"问题 {i}?", "answer": body(300),
            "basis": [{"doc": "central-1994-card", "clause": "查验"}],
            "reviewed_on": "2026-11-01", "tags": [rng.choice(["党费", "组织关系", "活动证"])]})
    for i in range(news):
        dump(root / "news" / f"news-{i:04d}.yaml", {
            "title": f"动态 {i}", "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "summary": body(40), "body": body(800)})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(n: int) -> dict:
    from mkdocs.commands.build import build as mkdocs_build

    from generator.build import DEFAULT_SITE_SRC, load_search_words, localize_scripts, mkdocs_config
    from generator.checks import check
    from generator.render import render

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        content = base / "content"
        content.mkdir()
        synthesize(content, n)
        start = time.perf_counter()
        loaded, problems = check(content, TODAY)
        check_s = time.perf_counter() - start
        assert not [p for p in problems if not p.warning], problems[:3]
        start = time.perf_counter()
        rendered = render(loaded, base / "docs", TODAY, DEFAULT_SITE_SRC / "assets")
        render_s = time.perf_counter() - start
        peak_render = _peak_mb()

        start = time.perf_counter()
        again, _ = check(content, TODAY)
        recheck_s = time.perf_counter() - start
        start = time.perf_counter()
        second = render(again, base / "docs", TODAY, DEFAULT_SITE_SRC / "assets")
        rerender_s = time.perf_counter() - start

        load_search_words(DEFAULT_SITE_SRC)
        config = mkdocs_config(DEFAULT_SITE_SRC, base / "docs", base / "site", rendered.nav,
                               "bench", "bench")
        start = time.perf_counter()
        mkdocs_build(config)
        localize_scripts(base / "site")
        mkdocs_s = time.perf_counter() - start
        pages = len(list((base / "site").rglob("*.html")))
        size_mb = sum(p.stat().st_size for p in (base / "site").rglob("*") if p.is_file()) / 2**20
    return {"n": n, "pages": pages, "check_s": check_s, "render_s": render_s,
            "files": len(rendered.written), "peak_render_mb": peak_render,
            "mkdocs_s": mkdocs_s, "peak_mb": _peak_mb(), "site_mb": size_mb,
            "recheck_s": recheck_s, "rerender_s": rerender_s,
            "rewritten": len(second.written) + len(second.removed)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return 0
    rows = []
    header = ("N items | pages | check s | render s | check+render s | MkDocs build s | "
              "(check+render)/build | peak MB (render / build) | site MB | no-op re-render s "
              "(check+render) | files rewritten")
    print(header)
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True,
                             capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        cr = r["check_s"] + r["render_s"]
        row = (f"{n:,} | {r['pages']:,} | {r['check_s']:.2f} | {r['render_s']:.2f} | {cr:.2f} | "
               f"{r['mkdocs_s']:.1f} | {cr / r['mkdocs_s']:.1%} | "
               f"{r['peak_render_mb']:.0f} / {r['peak_mb']:.0f} | {r['site_mb']:.0f} | "
               f"{r['rerender_s']:.2f} ({r['recheck_s'] + r['rerender_s']:.2f}) | "
               f"{r['rewritten']}")
        print(row, flush=True)
        rows.append(row)
    if not args.no_results:
        body = [
            "Command: `.venv/bin/python bench/generator_bench.py` "
            f"(sizes {args.sizes}). Items are pages: 80% lessons of ~1,500 Chinese characters "
            "in courses of 10, 10% FAQ entries, 10% news; search segmented by jieba; "
            "`navigation.prune` on.",
            "",
            "| " + header + " |",
            "|" + " --- |" * len(header.split("|")),
            *("| " + row + " |" for row in rows),
            "",
            "Targets: check + render of 5,000 items under 3 s and under 10% of the MkDocs "
            "build; a no-op re-render under 0.5 s that rewrites no file.",
        ]
        write_section("Generator", "\n".join(body))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
