"""Site build speed where members feel it, next to Material's default configuration.

1. Full build of the sample site and of a synthetic site (3,000 pages of ~1,500 Chinese
   characters by default, from bench/generator_bench.py), each twice in the same run: our
   `build_site` (check, render, MkDocs with our mkdocs.yml, then localising, compacting
   and precompressing) and MkDocs with Material's default configuration on the same
   rendered Markdown (only MkDocs is timed there). Pages, seconds, ms a page, HTML size and
   the search index (gzip, per page of content) are printed for both.
2. Publish to visible: an approved article is published through the forms app (files,
   git commit, background rebuild) and the clock runs until the built site serves its page
   over HTTP and the search index holds it.

Prints the numbers and writes the "Site build" section of bench/RESULTS.md.
Usage: .venv/bin/python bench/site_bench.py [--pages 3000]
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.generator_bench import TODAY, synthesize  # noqa: E402
from bench.results import write_section  # noqa: E402


def default_config(site_src: Path, docs: Path, site_dir: Path, nav: list, name: str):
    """Material as its documentation starts you off: the theme, the search plugin, and the
    Markdown extensions the content needs (not a performance setting)."""
    from mkdocs.config import load_config

    ours = yaml.safe_load((site_src / "mkdocs.yml").read_text(encoding="utf-8"))
    config = {"site_name": name, "theme": {"name": "material", "language": "zh"},
              "plugins": ["search"], "markdown_extensions": ours["markdown_extensions"]}
    path = docs.parent / "mkdocs-default.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return load_config(str(path), docs_dir=str(docs), site_dir=str(site_dir), nav=nav)


def site_numbers(site: Path) -> dict:
    pages = [p for p in site.rglob("*.html") if p.name != "404.html"]
    index = (site / "search" / "search_index.json").read_bytes()
    index_gz = len(gzip.compress(index, 9))
    return {"pages": len(pages),
            "html_kb": sum(p.stat().st_size for p in pages) / len(pages) / 1024,
            "index_gz_kb": index_gz / 1024, "per_page_kb": index_gz / len(pages) / 1024}


def compare(content: Path, work: Path) -> dict:
    """Our full build, then Material's default on the same rendered Markdown."""
    from mkdocs.commands.build import build as mkdocs_build

    from generator.build import DEFAULT_SITE_SRC, build_site

    start = time.perf_counter()
    result = build_site(content, work / "ours", work=work / "docs", today=TODAY)
    ours_s = time.perf_counter() - start
    config = default_config(DEFAULT_SITE_SRC, work / "docs", work / "default",
                            result.rendered.nav, "default")
    start = time.perf_counter()
    mkdocs_build(config)
    default_s = time.perf_counter() - start
    ours, default = site_numbers(work / "ours"), site_numbers(work / "default")
    return {"ours_s": ours_s, "default_s": default_s, "ours": ours, "default": default}


def approve_and_publish(app, title: str):
    """A member's article, approved and published through the forms app as an editor's
    Publish does it: (the moment Publish began, its PublishResult)."""
    from forms_app import db, moderation, publish

    with app.test_request_context("/app/editor/publish", method="POST"):
        created = moderation.create("voice", {
            "title": title, "author": "宁波老李", "consent": True,
            "body": "每天凌晨交班后，我在集装箱堆场的休息室里用手机学一课。" * 4}, "127.0.0.1")
        session = db.session()
        from forms_app.models import Submission

        version = session.get(Submission, created.id).version  # approved as it stands
        moderation.apply(session, created.id, "approve", version, "bench", "127.0.0.1")
        session.commit()
        start = time.perf_counter()
        return start, publish.publish(session, "bench", "127.0.0.1")


def publish_to_visible(work: Path) -> float:
    """Seconds from Publish to the article served with a complete search index."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args) -> None:
            pass

    from forms_app import create_app, db, migrate
    from forms_app.combined import SiteFiles
    from generator.build import build_site

    content, site = work / "content", work / "site"
    shutil.copytree(ROOT / "content", content)
    git = ["git", "-C", str(content), "-c", "user.name=bench", "-c", "user.email=b@x.invalid"]
    subprocess.run(["git", "-C", str(content), "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "sample"], check=True)
    build_site(content, site)
    app = create_app({"INSTANCE_PATH": str(work / "instance"), "CONTENT_DIR": str(content),
                      "SITE_DIR": str(site), "SECRET_KEY": "bench-" + "x" * 40})
    migrate.upgrade(db.database_url(app))
    server = make_server("127.0.0.1", 0, SiteFiles(site), threaded=True,
                         request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    title = "港口夜班的学习时间"
    start, result = approve_and_publish(app, title)
    page = f"http://127.0.0.1:{server.server_port}/" + result.files[0].replace(".yaml", ".html")
    index = f"http://127.0.0.1:{server.server_port}/search/search_index.json"
    while time.perf_counter() - start < 300:
        try:
            urllib.request.urlopen(page, timeout=5)
            with urllib.request.urlopen(index, timeout=5) as r:
                if title in r.read().decode().replace("\u200b", ""):
                    break
        except OSError:
            pass
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    server.shutdown()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=3000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        synthetic = base / "synthetic"
        synthetic.mkdir()
        synthesize(synthetic, args.pages)
        for label, content in (("sample site", ROOT / "content"),
                               (f"synthetic, {args.pages:,} items", synthetic)):
            work = base / ("build-" + label.split(",")[0].replace(" ", "-"))
            work.mkdir()
            r = compare(content, work)
            print(label, r, flush=True)
            o, d = r["ours"], r["default"]
            ours_ms, default_ms = (r["ours_s"] / o["pages"] * 1000,
                                   r["default_s"] / d["pages"] * 1000)
            rows.append(
                f"| {label} | {o['pages']:,} | {r['ours_s']:.1f} ({ours_ms:.0f} ms/page) | "
                f"{r['default_s']:.1f} ({default_ms:.0f} ms/page) | "
                f"{r['default_s'] / r['ours_s']:.1f}× | {o['html_kb']:.0f} / "
                f"{d['html_kb']:.0f} | {o['index_gz_kb']:.0f} / {d['index_gz_kb']:.0f} | "
                f"{o['per_page_kb']:.2f} / {d['per_page_kb']:.2f} |")
        (base / "publish").mkdir()
        visible = publish_to_visible(base / "publish")
        print(f"publish to visible: {visible:.1f} s")
    write_section("Site build", "\n".join([
        "Command: `.venv/bin/python bench/site_bench.py` "
        f"(--pages {args.pages}). Ours = `build_site` whole (check, render, MkDocs with "
        "site_src/mkdocs.yml, localise, compact and precompress); default = MkDocs alone "
        "with Material's default configuration (theme, search plugin, the same Markdown "
        "extensions) on the same rendered Markdown, timed in the same run.", "",
        "| site | pages | ours s | default s | speed-up | HTML KB a page (ours / default) "
        "| search index KB gzip (ours / default) | index KB gzip per page (ours / default) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |", *rows, "",
        f"Publish to visible (sample site, an approved article: YAML, git commit, background "
        f"rebuild, page served over HTTP with a complete search index): **{visible:.1f} s**.",
        "", "Targets: the 3,000-page site at least 5× faster than the default configuration; "
        "publish to visible under 15 s for the sample site, search whole.",
    ]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
