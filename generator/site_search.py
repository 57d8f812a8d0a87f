"""Search served by the app: an SQLite FTS5 index of the built site, a few KB a query.

Material's search sends the whole index to the phone before the first query (2.5 MB gzip
at 3,250 pages, bench/RESULTS.md "Search"). This index stays on the server: the build
writes it into the site folder as `.search.sqlite` (a dotfile: never served, left out of
the offline copy, swapped in with the site it belongs to), and the forms app answers
`/app/search?q=` with a small page of results (forms_app/search.py).

It is made from the index Material's search plugin writes (search/search_index.json after
generator/search_terms.py enriched it), so the words are the ones the site's own search
knows: Chinese segmented by jieba with the editors' words, the words inside longer words
and the synonyms of content/search.yaml as hidden columns, weighted as search_terms.py
weighs them. One row a page: its sections' text joins the page's.

A query is split as the site's own search splits it (search_terms.SEGMENT_JS, here in
Python): at each position the longest word the index holds, the query's end counting as
the beginning of a word (the member may still be typing); characters outside every word
are searched as themselves only; question words of content/search.yaml `ignore` are left
out when anything else remains. Any of the words may match (OR), best first by BM25 with
the column weights below, so a page that holds more of them, in its title, comes first.
"""

from __future__ import annotations

import html
import json
import math
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from generator.search_terms import DEFAULT_BOOSTS, FIELDS, SEPARATOR

INDEX_FILE = ".search.sqlite"
MAX_QUERY = 100  # characters of a query that are searched; the rest is ignored
PAGE_SIZE = 10
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# The FTS5 columns searched, in order, with their BM25 weights (Material's field boosts).
SEARCHED = ["title", *[f for f in FIELDS if FIELDS[f][0] == "title"], "text",
            *[f for f in FIELDS if FIELDS[f][0] == "text"]]
SHOWN = ["path", "shown_title", "plain", "boost"]  # stored, not searched
TITLE_WORDS = ["title", *[f for f in FIELDS if FIELDS[f] == ("title", 1.0)]]
TITLE_SYNONYMS = [f for f in FIELDS if FIELDS[f][0] == "title" and FIELDS[f][1] < 1.0]


def weights(config: dict | None = None) -> list[float]:
    fields = (config or {}).get("fields", {})
    base = {name: float(fields.get(name, {}).get("boost", boost))
            for name, boost in DEFAULT_BOOSTS.items()}
    out = []
    for column in SEARCHED:
        if column in base:
            out.append(base[column])
        else:
            source, factor = FIELDS[column]
            out.append(base[source] * factor)
    return out


def _words(value: str) -> str:
    """An index field as FTS5 tokens: words separated by spaces, no markup."""
    return " ".join(t for t in SEPARATOR.split(html.unescape(_TAG.sub(" ", value))) if t)


def _plain(value: str) -> str:
    text = html.unescape(_TAG.sub(" ", value)).replace("\u200b", "")
    return _SPACE.sub(" ", text).strip()


def pages_of(data: dict) -> list[dict]:
    """Material's entries (one a page and one a section) folded into one row a page."""
    pages: dict[str, dict] = {}
    for entry in data.get("docs", []):
        path, _, anchor = entry.get("location", "").partition("#")
        page = pages.setdefault(path, {"path": path, "title": "", "shown_title": "",
                                       "parts": [], "boost": 1.0,
                                       **{f: [] for f in FIELDS}})
        if not anchor:
            page["title"] = _words(entry.get("title", ""))
            page["shown_title"] = _plain(entry.get("title", ""))
            page["boost"] = float(entry.get("boost", 1.0))
            for field in FIELDS:
                if FIELDS[field][0] == "title":
                    page[field].append(_words(entry.get(field, "")))
        else:
            page["parts"].append(entry.get("title", ""))
        page["parts"].append(entry.get("text", ""))
        for field in FIELDS:
            if FIELDS[field][0] == "text":
                page[field].append(_words(entry.get(field, "")))
    rows = []
    for page in pages.values():
        if not page["shown_title"]:
            continue
        joined = " ".join(page.pop("parts"))
        page["text"] = _words(joined)
        page["plain"] = _plain(joined)
        for field in FIELDS:
            page[field] = " ".join(w for w in page[field] if w)
        rows.append(page)
    return rows


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30)
    db.execute("PRAGMA journal_mode=DELETE")
    return db


def _create(db: sqlite3.Connection) -> None:
    columns = ", ".join([*(f"{c} UNINDEXED" for c in SHOWN), *SEARCHED])
    db.execute(f"CREATE VIRTUAL TABLE pages USING fts5({columns}, tokenize='unicode61')")
    db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(pages, 'row')")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _insert(db: sqlite3.Connection, rows: Iterable[dict]) -> int:
    names = [*SHOWN, *SEARCHED]
    sql = f"INSERT INTO pages ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    n = 0
    for row in rows:
        db.execute(sql, [row.get(name, "") for name in names])
        n += 1
    return n


def write_index(site: Path, ignore: Iterable[str] = (), out: Path | None = None) -> int:
    """Write site/.search.sqlite from site/search/search_index.json. Returns the pages."""
    data = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    target = out or site / INDEX_FILE
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    db = _connect(tmp)
    try:
        _create(db)
        n = _insert(db, pages_of(data))
        db.execute("INSERT INTO meta VALUES ('weights', ?), ('ignore', ?)",
                   (json.dumps(weights(data.get("config"))),
                    json.dumps(sorted(set(ignore)), ensure_ascii=False)))
        db.execute("INSERT INTO pages(pages) VALUES ('optimize')")
        db.commit()
    finally:
        db.close()
    tmp.replace(target)
    return n


# -- the query side ------------------------------------------------------------------------

@dataclass
class Hit:
    path: str
    title: str
    snippet: Markup


@dataclass
class Found:
    query: str
    terms: list[str]
    hits: list[Hit]
    total: int


class Index:
    """A read-only view of one .search.sqlite, one connection a thread (the server's
    threads search side by side)."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        self.weights = json.loads(meta["weights"])
        self.ignore = set(json.loads(meta["ignore"]))
        self.pages = self.db.execute("SELECT count(*) FROM pages").fetchone()[0]

    @property
    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                 check_same_thread=False)
            self._local.db = db
            self._all.append(db)
        return db

    def close(self) -> None:
        for db in self._all:
            db.close()

    def known(self, word: str, last: bool) -> bool:
        if self.db.execute("SELECT 1 FROM vocab WHERE term = ?", (word,)).fetchone():
            return True
        if not last:
            return False
        return self.db.execute("SELECT 1 FROM vocab WHERE term > ? AND term < ? LIMIT 1",
                               (word, word + "\U0010ffff")).fetchone() is not None

    def segment(self, query: str) -> list[tuple[str, bool]]:
        """The query's terms as (term, is_prefix): search_terms.SEGMENT_JS in Python."""
        terms: list[tuple[str, bool]] = []
        for chunk in _SPACE.split(query.lower()):
            terms += self._segment_chunk(chunk)
        kept = [t for t in terms if t[0] not in self.ignore]
        return list(dict.fromkeys(kept or terms))

    def _segment_chunk(self, query: str) -> list[tuple[str, bool]]:
        if not query:
            return []
        if not _CJK.search(query):
            # Latin letters, digits, signs (a phone number, an address, markup): the whole
            # token or nothing; single digits and letters would match every page.
            return [(query, self.known(query, True))]
        words: list[str] = []
        inside = [False] * len(query)
        reach = 0
        for i in range(len(query)):
            for j in range(len(query), i + 1, -1):
                if self.known(query[i:j], j == len(query)):
                    if j > reach:
                        words.append(query[i:j])
                        reach = j
                        for k in range(i, j):
                            inside[k] = True
                    break
        chars = [c for i, c in enumerate(query) if not inside[i] and self.known(c, False)]
        if not words and len(query) > 1:
            # No word of the site in it (点我, 量子力学): its characters in a row, as a
            # phrase. Each alone would match unrelated pages (every page with 学) and hide
            # the miss from the editors' list.
            return [(" ".join(query), False)]
        if not words and not chars:
            return [(query, False)]
        if not words or all(w in self.ignore for w in words):
            return [(w, True) for w in words] + [(c, False) for c in chars]
        return [(w, True) for w in words] + [(c, False) for c in chars
                                             if c not in self.ignore]

    def _rows(self, match: str, where: str = "", limit: int = -1,
              args: tuple = ()) -> list[tuple]:
        weights = ", ".join(["0"] * len(SHOWN) + [repr(w) for w in self.weights])
        return self.db.execute(
            f"SELECT rowid, path, shown_title, plain, bm25(pages, {weights}) * boost, boost "
            f"FROM pages WHERE pages MATCH ? {where} ORDER BY 5 LIMIT ?",
            (match, *args, limit)).fetchall()

    def _title_scores(self, terms: list[tuple[str, bool]]) -> dict[int, float]:
        """Pages whose title holds a term, scored by each such term's rarity (a synonym
        in the title counts half): lunr's idf, which stays positive for a word on most
        pages where FTS5's BM25 gives it nothing."""
        total = self.pages
        scores: dict[int, float] = {}
        for term, prefix in terms:
            quoted = _quote(term, prefix)
            n = self.db.execute("SELECT count(*) FROM pages WHERE pages MATCH ?",
                                (quoted,)).fetchone()[0]
            idf = math.log(1 + (total - n + 0.5) / (n + 0.5))
            best: dict[int, float] = {}
            for columns, factor in ((TITLE_WORDS, 1.0), (TITLE_SYNONYMS, 0.5)):
                for (rowid,) in self.db.execute(
                        "SELECT rowid FROM pages WHERE pages MATCH ?",
                        (f"{{{' '.join(columns)}}} : {quoted}",)):
                    best[rowid] = max(best.get(rowid, 0.0), factor)
            for rowid, factor in best.items():
                scores[rowid] = scores.get(rowid, 0.0) + idf * factor
        return scores

    def search(self, query: str, limit: int = PAGE_SIZE, offset: int = 0) -> Found:
        """Pages with a query word in their title first (rarer words, more of them, the
        member's own word before a synonym; a guide before other pages alike), then the
        pages that only mention the words, by BM25."""
        query = _SPACE.sub(" ", query).strip()[:MAX_QUERY]
        terms = self.segment(query) if query else []
        if not terms:
            return Found(query, [], [], 0)
        match = " OR ".join(_quote(t, prefix) for t, prefix in terms)
        titled = self._title_scores(terms)
        first = []
        if titled:
            ids = ",".join(str(int(i)) for i in titled)
            first = sorted(self._rows(match, f"AND rowid IN ({ids})"),
                           key=lambda r: (-titled[r[0]] * r[5], r[4]))
        rest = [r for r in self._rows(match, limit=offset + limit + len(titled))
                if r[0] not in titled]
        rows = (first + rest)[offset:offset + limit]
        total = self.db.execute("SELECT count(*) FROM pages WHERE pages MATCH ?",
                                (match,)).fetchone()[0]
        words = [t for t, _ in terms]
        hits = [Hit(r[1], r[2], snippet(r[3], words)) for r in rows]
        return Found(query, words, hits, total)


def _quote(term: str, prefix: bool) -> str:
    return '"' + term.replace('"', '""') + '"' + ("*" if prefix else "")


def snippet(plain: str, words: list[str], width: int = 80) -> Markup:
    """About `width` characters of the text around the first word found, the words marked;
    everything escaped."""
    found = [(plain.find(w), w) for w in words if w and plain.find(w) >= 0]
    start = max(0, min(found)[0] - width // 4) if found else 0
    part = plain[start:start + width]
    if not part:
        return Markup("")
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)
                                  if w))
    out, last = [], 0
    for m in pattern.finditer(part) if words else ():
        out.append(escape(part[last:m.start()]))
        out.append(Markup("<mark>") + escape(m[0]) + Markup("</mark>"))
        last = m.end()
    out.append(escape(part[last:]))
    lead = "…" if start > 0 else ""
    tail = "…" if start + width < len(plain) else ""
    return Markup(lead) + Markup("").join(out) + Markup(tail)
