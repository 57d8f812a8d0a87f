"""Search at any size: what a member's phone downloads, what the build costs, what is found.

For the sample site and for the sample plus synthetic pages (bench/generator_bench.py's
generator: lessons, FAQ and news made of the sample's own sentences, so the filler talks
about 党费 and 证明信 too), three engines are measured in one run:

- **Material**: the site's search as built today (search/search_index.json, lunr in a
  worker, the query segmenter and hidden fields of generator/search_terms.py);
- **Pagefind**: Pagefind 1.5 extended (Chinese segmentation) over the built HTML, its
  default UI added to the home page;
- **App**: the app-served search (generator/site_search.py: SQLite FTS5 over the same
  segmented index; forms_app/search.py answers GET /app/search?q= with a page of results).

Bytes on the wire are counted at the server (status line, headers and the body as sent,
gzip where the browser accepts it) while Debian's Chromium, as a phone with an empty cache,
opens the home page (not counted), opens search and types the first query, then a second
one. Build time is the whole site build for Material (its index is made inside MkDocs) and
the extra step for the others. Relevance is the table of tests/test_search_ranking.py:
each query's expected page among the first three results, typed into Material's box, asked
of Pagefind's API in the page, and fetched from /app/search.

Prints the table and writes the "Search" section of bench/RESULTS.md.
Usage: .venv/bin/python bench/search_bench.py [--sizes 0,3000,10000] [--no-results]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
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
from bench.generator_bench import TODAY, synthesize  # noqa: E402
from bench.results import write_section  # noqa: E402

FIRST, SECOND = "活动证", "党费代交"
MATERIAL_WAIT_S = 300  # the longest a member is given for Material's first answer
PHONE = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN", "has_touch": True,
         "is_mobile": True}


def table() -> list[tuple[str, str]]:
    from test_search_ranking import TABLE

    return TABLE


def make_content(base: Path, extra: int) -> Path:
    """The sample content plus `extra` synthetic items."""
    content = base / "content"
    shutil.copytree(ROOT / "content", content, ignore=shutil.ignore_patterns(".git"))
    if extra:
        synthetic = base / "synthetic"
        synthetic.mkdir()
        synthesize(synthetic, extra)
        for section in ("courses", "faq", "news"):
            for path in (synthetic / section).glob("*.yaml"):
                shutil.copy(path, content / section / path.name)
        shutil.rmtree(synthetic)
    return content


# -- a server that counts what it sends -----------------------------------------------------

class Counting:
    """WSGI middleware: bytes of every response (status line, headers, body as sent)."""

    def __init__(self, app):
        self.app, self.sent, self.lock = app, 0, threading.Lock()

    def take(self) -> int:
        with self.lock:
            sent, self.sent = self.sent, 0
        return sent

    def add(self, n: int) -> None:
        with self.lock:
            self.sent += n

    def __call__(self, environ, start_response):
        def counted_start(status, headers, exc_info=None):
            self.add(len(f"HTTP/1.1 {status}\r\n") + sum(len(f"{k}: {v}\r\n")
                                                         for k, v in headers) + 2)
            write = start_response(status, headers, exc_info)

            def counted_write(data):
                self.add(len(data))
                return write(data)
            return counted_write

        for chunk in self.app(environ, counted_start):
            self.add(len(chunk))
            yield chunk


def serve(site: Path, instance: Path):
    from werkzeug.serving import WSGIRequestHandler, make_server

    from forms_app import create_app, db, migrate
    from forms_app.combined import combined

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args) -> None:
            pass

    app = create_app({"INSTANCE_PATH": str(instance), "SITE_DIR": str(site),
                      "SECRET_KEY": "bench-" + "x" * 40, "RATELIMIT_ENABLED": False})
    migrate.upgrade(db.database_url(app))
    counter = Counting(combined(site, app))
    server = make_server("127.0.0.1", 0, counter, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counter, f"http://127.0.0.1:{server.server_port}"


# -- the three engines in Chromium ----------------------------------------------------------

def settle(page, counter: Counting, quiet_ms: int = 800) -> int:
    """Wait until nothing has been sent for quiet_ms; return the bytes sent meanwhile."""
    total, last = 0, time.monotonic()
    while time.monotonic() - last < quiet_ms / 1000:
        page.wait_for_timeout(100)
        n = counter.take()
        if n:
            total, last = total + n, time.monotonic()
    return total


def material_type(page, query: str, wait_s: float = 15) -> list[str]:
    box = page.locator("input.md-search__input")
    items = page.locator(".md-search-result__item")
    box.fill("")
    box.press("End")
    page.wait_for_function("() => !document.querySelector('.md-search-result__item')",
                           timeout=10_000)
    box.press_sequentially(query)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        box.press("End")  # Material searches on the key that ends an IME composition
        page.wait_for_timeout(250)
        if items.count():
            break
    # Material answers each key typed: wait until the list stops changing.
    seen: list[str] | None = None
    for _ in range(20):
        now = page.evaluate("""() => [...document.querySelectorAll('a.md-search-result__link')]
            .map(a => new URL(a.href).pathname.replace(/^\\//, ''))""")
        if now == seen:
            break
        seen = now
        page.wait_for_timeout(300)
    return seen or []


def pagefind_type(page, query: str) -> list[str]:
    box = page.locator(".pagefind-ui__search-input")
    box.fill("")
    page.wait_for_timeout(300)
    box.press_sequentially(query)
    page.wait_for_function(
        """q => document.querySelector('.pagefind-ui__message')
              && document.querySelector('.pagefind-ui__message').textContent.includes(q)""",
        arg=query, timeout=60_000)
    page.wait_for_timeout(300)
    return page.evaluate("""() => [...document.querySelectorAll('.pagefind-ui__result-link')]
        .map(a => new URL(a.href).pathname.replace(/^\\//, ''))""")


def add_pagefind_ui(page) -> None:
    page.evaluate("""() => new Promise((ok, fail) => {
        const css = document.createElement('link');
        css.rel = 'stylesheet'; css.href = '/pagefind/pagefind-ui.css';
        document.head.append(css);
        const box = document.createElement('div'); box.id = 'pf';
        document.body.prepend(box);
        const s = document.createElement('script'); s.src = '/pagefind/pagefind-ui.js';
        s.onload = () => { new PagefindUI({element: '#pf', showImages: false,
                                           showSubResults: false}); ok(); };
        s.onerror = fail; document.head.append(s);
    })""")


def app_query(base: str, query: str) -> list[str]:
    url = f"{base}/app/search?q={urllib.parse.quote(query)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read().decode("utf-8")
    return re.findall(r'class="search-hit" href="/([^"]*)"', body)


def ranks(found: dict[str, list[str]]) -> tuple[int, list[str]]:
    cases = table()
    missed = [f"{q}→{p}" for q, p in cases if p not in found.get(q, [])[:3]]
    return len(cases) - len(missed), missed


def measure_engines(browser, base: str, counter: Counting) -> dict[str, dict]:
    queries = list(dict.fromkeys(q for q, _ in table()))
    out: dict[str, dict] = {}

    def phone():
        context = browser.new_context(**PHONE, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{base}/index.html")
        settle(page, counter)
        counter.take()
        return context, page

    # Material, as the site is built today.
    context, page = phone()
    page.locator("label.md-header__button[for='__search']").click()
    start = time.perf_counter()
    first_hits = material_type(page, FIRST, MATERIAL_WAIT_S)
    first_s = time.perf_counter() - start
    first = settle(page, counter)
    if first_hits:
        material_type(page, SECOND)
        second = settle(page, counter)
        found = {q: material_type(page, q, 10) for q in queries}
        out["Material"] = {"first": first, "second": second, "first_s": first_s,
                           "ranks": ranks(found)}
    else:
        out["Material"] = {"first": first, "second": None, "first_s": first_s,
                           "ranks": None}
    context.close()

    # Pagefind extended, its default UI on the home page.
    context, page = phone()
    start = time.perf_counter()
    add_pagefind_ui(page)
    pagefind_type(page, FIRST)
    first_s = time.perf_counter() - start
    first = settle(page, counter)
    pagefind_type(page, SECOND)
    second = settle(page, counter)
    got = page.evaluate("""async qs => {
        const pf = await import('/pagefind/pagefind.js');
        const out = {};
        for (const q of qs) {
            const r = await pf.search(q);
            const top = await Promise.all(r.results.slice(0, 3).map(x => x.data()));
            out[q] = top.map(d => new URL(d.url, location.href).pathname.replace(/^\\//, ''));
        }
        return out;
    }""", queries)
    out["Pagefind"] = {"first": first, "second": second, "first_s": first_s,
                       "ranks": ranks(got)}
    context.close()

    # The app: the search form sends GET /app/search?q= (no script needed).
    context, page = phone()
    start = time.perf_counter()
    page.goto(f"{base}/app/search?q={urllib.parse.quote(FIRST)}")
    first_s = time.perf_counter() - start
    first = settle(page, counter)
    page.goto(f"{base}/app/search?q={urllib.parse.quote(SECOND)}")
    second = settle(page, counter)
    context.close()
    out["App"] = {"first": first, "second": second, "first_s": first_s,
                  "ranks": ranks({q: app_query(base, q) for q in queries})}
    return out


# -- one size -------------------------------------------------------------------------------

def measure_size(browser, extra: int, work: Path) -> dict:
    from generator.build import CSP_FILE, build_site, precompress
    from generator.site_search import INDEX_FILE, write_index

    content = make_content(work, extra)
    site = work / "site"
    start = time.perf_counter()
    build_site(content, site, today=TODAY)
    build_s = time.perf_counter() - start
    pages = sum(1 for p in site.rglob("*.html") if p.name != "404.html")
    index_gz = len(gzip.compress((site / "search/search_index.json").read_bytes(), 9))

    from pagefind_bin_extended import get_executable  # type: ignore[import-untyped]

    start = time.perf_counter()
    subprocess.run([str(get_executable()), "--site", str(site), "--output-subdir",
                    "pagefind", "--silent"], check=True)
    precompress(site / "pagefind")
    # Pagefind compiles WebAssembly in a worker: the site's policy must allow that.
    csp = site / CSP_FILE
    csp.write_text(csp.read_text("utf-8").replace("script-src 'self'",
                                                  "script-src 'self' 'wasm-unsafe-eval'"))
    pagefind_s = time.perf_counter() - start
    bundle = sum(p.stat().st_size for p in (site / "pagefind").rglob("*")
                 if p.is_file() and not p.name.endswith(".gz"))

    import yaml

    ignore = (yaml.safe_load((content / "search.yaml").read_text("utf-8")) or {}).get(
        "ignore", [])
    start = time.perf_counter()
    write_index(site, ignore)
    app_s = time.perf_counter() - start
    app_size = (site / INDEX_FILE).stat().st_size

    server, counter, base = serve(site, work / "instance")
    try:
        engines = measure_engines(browser, base, counter)
    finally:
        server.shutdown()
    engines["Material"].update(build_s=build_s, size=f"{index_gz / 1024:,.0f} KB gzip")
    engines["Pagefind"].update(build_s=pagefind_s, size=f"{bundle / 2**20:,.1f} MB files")
    engines["App"].update(build_s=app_s, size=f"{app_size / 2**20:,.1f} MB SQLite")
    return {"extra": extra, "pages": pages, "engines": engines}


def row(size: dict, name: str) -> str:
    e = size["engines"][name]
    label = "sample site" if not size["extra"] else f"sample + {size['extra']:,} items"
    build = (f"{e['build_s']:.1f} (whole site)" if name == "Material"
             else f"+{e['build_s']:.1f}")
    second = "—" if e["second"] is None else f"{e['second'] / 1024:.1f}"
    if e["ranks"] is None:
        relevance = f"no answer within {MATERIAL_WAIT_S} s"
    else:
        hit, missed = e["ranks"]
        relevance = f"{hit}/{len(table())}" + (f" (missed: {', '.join(missed[:4])}"
                                                f"{' …' if len(missed) > 4 else ''})"
                                                if missed else "")
    return (f"| {label} | {size['pages']:,} | {name} | {build} | {e['size']} | "
            f"{e['first'] / 1024:,.1f} ({e['first_s']:.1f} s) | {second} | {relevance} |")


HEADER = ("| site | pages | engine | build s | index | open search + first query KB "
          "(time to results) | second query KB | relevance table top 3 |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- |")


def relevance_only(sizes: str, write: bool) -> int:
    """The relevance table asked of the app's index (generator/site_search.Index, the code
    /app/search runs) at each size: a whole build per size, no browser."""
    from generator.build import build_site
    from generator.site_search import INDEX_FILE, Index

    lines = ["| pages | build s | relevance (expected page in top 3) | missed |",
             "| --- | --- | --- | --- |"]
    for extra in (int(s) for s in sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            content = make_content(Path(tmp), extra)
            started = time.perf_counter()
            built = build_site(content, Path(tmp) / "site", work=Path(tmp) / "docs")
            took = time.perf_counter() - started
            index = Index(built.out / INDEX_FILE)
            try:
                found = {q: [h.path for h in index.search(q).hits]
                         for q in dict.fromkeys(q for q, _ in table())}
                pages = index.pages
            finally:
                index.close()
        passed, missed = ranks(found)
        lines.append(f"| {pages:,} | {took:.0f} | {passed}/{len(table())} | "
                     f"{', '.join(missed) or '—'} |")
        print(lines[-1], flush=True)
    if write:
        write_section("Search relevance by size", "\n".join([
            f"Command: `.venv/bin/python bench/search_bench.py --relevance-only --sizes "
            f"{sizes}`: the relevance table of tests/test_search_ranking.py asked of the "
            "app's index (the code /app/search runs) after a whole build of the sample plus "
            "that many synthetic items. Build seconds depend on what else the machine runs.",
            "", *lines]))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,3000,10000",
                        help="synthetic items added to the sample (0 = the sample alone)")
    parser.add_argument("--no-results", action="store_true")
    parser.add_argument("--relevance-only", action="store_true",
                        help="only the app's relevance at each size (no browser, no "
                             "Material or Pagefind): the section 'Search relevance by size'")
    args = parser.parse_args()
    if args.relevance_only:
        return relevance_only(args.sizes, write=not args.no_results)
    from playwright.sync_api import sync_playwright

    rows, notes = [], []
    print(HEADER, flush=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--lang=zh-CN",
            "--disable-background-networking", "--disable-component-update"])
        for extra in (int(s) for s in args.sizes.split(",")):
            work = Path(tmp) / f"size-{extra}"
            work.mkdir()
            started = time.perf_counter()
            size = measure_size(browser, extra, work)
            notes.append(f"{size['pages']:,} pages measured in "
                         f"{time.perf_counter() - started:.0f} s")
            for name in ("Material", "Pagefind", "App"):
                rows.append(row(size, name))
                print(rows[-1], flush=True)
            print(json.dumps(size, ensure_ascii=False, default=str), file=sys.stderr)
            shutil.rmtree(work, ignore_errors=True)
        browser.close()
    if not args.no_results:
        write_section("Search", "\n".join([
            "Command: `.venv/bin/python bench/search_bench.py` "
            f"(--sizes {args.sizes}: synthetic items added to the sample content). "
            f"First query {FIRST}, second {SECOND}. Bytes are counted at the server "
            "(status line, headers, body as sent, gzip) while Chromium, a phone with an "
            "empty cache, opens the home page (not counted), opens search and types the "
            "first query, then the second; the app row is the results page the search "
            "form opens (its stylesheet is fetched once, on the first). Build s: the whole "
            "site build for Material (its index is made inside MkDocs), the extra step for "
            "Pagefind (`pagefind_extended` and precompressing its bundle) and for the app "
            "(`generator/site_search.py` writing site/.search.sqlite). Relevance: the table "
            "of tests/test_search_ranking.py, expected page among the first three.", "",
            HEADER, *rows, "", "Run: " + "; ".join(notes) + ".", "",
            "Targets: first query < 60 KB and each later one < 15 KB at every size; the "
            "relevance table passes at every size.",
        ]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
