"""Publish to visible on a big site: from an editor's Publish to the article served and
found by the site's search.

The sample content plus N synthetic items (bench/generator_bench.py; 3,000 by default,
about 3,300 pages) in a git work tree, built once in this process as `dangxiao serve`
does at start; the forms app and the built site on one port (forms_app/combined.py). An
approved voice is published through forms_app/publish.py (YAML, git commit, background
quick build, generator/quick_build.py, then the full build); the clock runs until its
page answers 200 over HTTP, its section index lists it, and GET /app/search finds it.
A second voice is published at once after the first is visible, while the full build the
first one queued is still running. The full build's own time is printed too.

Prints the numbers and writes the "Publish to visible" section of bench/RESULTS.md.
Usage: .venv/bin/python bench/publish_bench.py [--pages 3000] [--no-results]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from bench.generator_bench import TODAY  # noqa: E402
from bench.results import write_section  # noqa: E402
from bench.search_bench import app_query, make_content  # noqa: E402

LIMIT_S = 300


def phases(content: Path, work: Path) -> dict[str, float]:
    """Check (cold, then again in the same process) and render of the whole content."""
    from generator.build import DEFAULT_SITE_SRC
    from generator.checks import check
    from generator.render import render

    out = {}
    start = time.perf_counter()
    loaded, _ = check(content, TODAY)
    out["check_cold"] = time.perf_counter() - start
    start = time.perf_counter()
    loaded, _ = check(content, TODAY)
    out["check_warm"] = time.perf_counter() - start
    start = time.perf_counter()
    render(loaded, work / "docs-timing", TODAY, DEFAULT_SITE_SRC / "assets")
    out["render"] = time.perf_counter() - start
    shutil.rmtree(work / "docs-timing")
    return out


def publish_one(app, base: str, title: str, word: str) -> dict:
    from bench.site_bench import approve_and_publish

    start, result = approve_and_publish(app, title)
    # This article's file: a Publish also exports again an earlier article whose rebuild
    # has not yet marked it published (the same bytes, no change in git).
    content = Path(app.config["CONTENT_DIR"])
    mine = [f for f in result.files if title in (content / f).read_text(encoding="utf-8")]
    rel = mine[0].replace(".yaml", ".html")
    served = listed = found = None
    while time.perf_counter() - start < LIMIT_S and None in (served, listed, found):
        now = time.perf_counter() - start
        try:
            if served is None:
                urllib.request.urlopen(f"{base}/{rel}", timeout=10).read()
                served = now
            if listed is None:
                with urllib.request.urlopen(f"{base}/voices/index.html", timeout=10) as r:
                    if Path(rel).name in r.read().decode():
                        listed = now
            if found is None and rel in app_query(base, word):
                found = now
        except OSError:
            pass
        time.sleep(0.05)
    return {"served": served, "listed": listed, "found": found, "page": rel,
            "exported": len(result.files),
            "visible": max(x if x is not None else float("inf")
                           for x in (served, listed, found)), "start": start}


def run(pages: int, work: Path) -> dict:
    from werkzeug.serving import WSGIRequestHandler, make_server

    from forms_app import create_app, db, migrate
    from forms_app.combined import combined
    from generator.build import build_site
    from generator.site_search import INDEX_FILE

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args) -> None:
            pass

    repo = work / "repo"
    repo.mkdir()
    content = make_content(repo, pages)
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=b@x.invalid"]
    subprocess.run(["git", "-C", str(repo), "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "content"], check=True)
    numbers = phases(content, work)
    site = work / "site"
    start = time.perf_counter()
    build_site(content, site, today=None)
    numbers["full_build"] = time.perf_counter() - start
    numbers["pages"] = sum(1 for p in site.rglob("*.html") if p.name != "404.html")
    app = create_app({"INSTANCE_PATH": str(work / "instance"), "CONTENT_DIR": str(content),
                      "SITE_DIR": str(site), "SECRET_KEY": "bench-" + "x" * 40,
                      "RATELIMIT_ENABLED": False})
    migrate.upgrade(db.database_url(app))
    server = make_server("127.0.0.1", 0, combined(site, app), threaded=True,
                         request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        first = publish_one(app, base, "港口夜班的学习时间", "港口夜班")
        print("first publish", first, flush=True)
        reconcile = app.extensions["dx_rebuild"]
        second = publish_one(app, base, "冷库搬运工的早读", "冷库搬运工")
        print("second publish", second, flush=True)
        reconcile.join(LIMIT_S)
        app.extensions["dx_rebuild"].join(LIMIT_S)
        numbers["all_done"] = time.perf_counter() - first["start"]
        import sqlite3

        rows = sqlite3.connect(site / INDEX_FILE).execute(
            "SELECT count(*) FROM pages").fetchone()[0]
        numbers["rows"] = rows
        numbers["pages_after"] = sum(1 for p in site.rglob("*.html") if p.name != "404.html")
    finally:
        server.shutdown()
        db.close(app)
    return {**numbers, "first": first, "second": second}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run(args.pages, Path(tmp))
    first, second = r["first"], r["second"]
    print(r)
    if args.no_results:
        return 0

    def cell(one: dict, key: str) -> str:
        return "—" if one[key] is None else f"{one[key]:.1f}"

    rows = [f"| {label} | {cell(one, 'served')} | {cell(one, 'listed')} | "
            f"{cell(one, 'found')} | **{one['visible']:.1f}** |"
            for label, one in (("first publish", first),
                               ("second publish, at once after the first", second))]
    write_section("Publish to visible", "\n".join([
        "Command: `.venv/bin/python bench/publish_bench.py` "
        f"(--pages {args.pages}: synthetic items added to the sample content, "
        f"{r['pages']:,} pages). An approved voice is published through the forms app "
        "(YAML, git commit, background quick build — generator/quick_build.py — then the "
        "full build); seconds from Publish until its page answers over HTTP, its section "
        "index lists it and GET /app/search finds it (the app and the site on one port, "
        "forms_app/combined.py). The site was built at start in the same process, as "
        "`dangxiao serve` does.", "",
        "| publish | page served s | listed on voices/ s | found by /app/search s | "
        "visible s |", "| --- | --- | --- | --- | --- |", *rows, "",
        f"The whole content at this size: check {r['check_cold']:.1f} s the first time, "
        f"{r['check_warm']:.1f} s again in the same process (the Markdown checks are "
        f"remembered by their text), render {r['render']:.1f} s; the full build at start "
        f"{r['full_build']:.1f} s. Both publishes' quick builds were done "
        f"{r['all_done']:.0f} s after the first Publish; then {r['pages_after']:,} pages "
        f"and {r['rows']:,} search rows. The second Publish exported "
        f"{second['exported']} file(s): an article whose rebuild has not yet marked it "
        "published is exported again (the same bytes, nothing new in git). The whole-site "
        "build a Publish queues waits FULL_BUILD_DELAY (120 s) without another Publish and "
        "is not timed here.", "",
        "Target: under 10 s from Publish to served and found at 3,000 pages, the rest of "
        "the site and its search whole.",
    ]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
