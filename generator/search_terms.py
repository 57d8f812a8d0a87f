"""Search that finds what a member means: the build-time half of the site's search.

MkDocs Material's search plugin writes search/search_index.json with each section's
title and text, Chinese segmented by jieba into words separated by zero-width spaces;
in the browser its worker (lunr) indexes those words and answers queries. Three things
are added here, all from content/search.yaml (generator/models/search.py):

- **The editors' words** (content/search.yaml `words`) are taught to jieba before the
  build, so 党员证明信 or 查询码 stays one word in the index.
- **Hidden fields.** Each index entry gets up to four fields that lunr searches but the
  results never show (Material renders only title, text and tags):
  `title_words` / `text_words` hold the shorter dictionary words inside longer ones
  (信箱 in 电子信箱, 证明信 in 党员证明信), so a member's shorter word matches;
  `title_synonyms` / `text_synonyms` hold the everyday words of content/search.yaml
  `synonyms` whose terms the title or the text contains (做生意 on a page about 经商).
  Their weights keep titles above bodies, and a page that says the member's own word
  above one that says a synonym (FIELDS).
- **Whole words in the query.** Material's worker splits a Chinese query into words it
  finds in the index, but never looks at a slice that ends with the query's last
  character: 党费 became 党 (matching 党建, 党风, 党务 ...), 查询码 became 查询.
  patch_search_worker puts SEGMENT_JS in place of that function in the built worker
  (also leaving out the question words of content/search.yaml `ignore`) and gives the
  file a new fingerprinted name, so phones that cached the old one for a year fetch it.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jieba

from generator.models.search import SearchTerms

log = logging.getLogger(__name__)

# The hidden fields and their weights, relative to the visible field they come from
# (Material weighs a title 1000 times a body by default, search_index.json config.fields):
# words inside a title count as the title, a synonym half as much as the member's own
# word, so a page that says 培训 in its title comes before one titled 在线学习, and both
# long before any page that only mentions either in its text.
FIELDS: dict[str, tuple[str, float]] = {
    "title_words": ("title", 1.0),
    "title_synonyms": ("title", 0.5),
    "text_words": ("text", 1.0),
    "text_synonyms": ("text", 0.5),
}
DEFAULT_BOOSTS = {"title": 1000.0, "text": 1.0}  # Material's, if the config lacks them
# Where several pages match alike (党费 is in the titles of a guide and three FAQ entries),
# the guide comes first: a 党务指南 page is the whole answer to its topic. A document boost
# multiplies a page's score, so this decides ties and never lifts a page that only
# mentions a word above one titled with it.
PAGE_BOOSTS = {"guides/": 1.2}
# The separator the index uses between words (site_src/mkdocs.yml); jieba's words are
# joined with zero-width spaces.
SEPARATOR = re.compile(r"[\s\u200b\-]+")
JOIN = "\u200b"
_TAG = re.compile(r"<[^>]*>")
_HAN = re.compile(r"[\u3400-\u9fff]")


# -- the editors' words in jieba ---------------------------------------------------------
# Material's plugin segments with jieba's global tokenizer, so the words go there. A
# long-running process (dangxiao serve rebuilds after each Publish) builds many times:
# each build makes the global dictionary hold exactly the words of its content, giving
# a word an editor removed its earlier frequency back.
_jieba_lock = threading.RLock()
_added: dict[str, int | None] = {}  # word -> its frequency before we added it


def jieba_lock() -> threading.RLock:
    """Held while a build changes jieba's dictionary and segments with it."""
    return _jieba_lock


def use_words(words: Iterable[str]) -> None:
    """Make jieba's global dictionary hold these words (and drop the ones a previous
    call added that are no longer listed)."""
    wanted = list(dict.fromkeys(words))
    with _jieba_lock:
        dt = jieba.dt
        dt.check_initialized()
        for word in [w for w in _added if w not in wanted]:
            before = _added.pop(word) or 0
            dt.total += before - (dt.FREQ.get(word) or 0)
            # 0 marks a prefix of a longer word, not a word of its own: what jieba
            # itself writes for prefixes it has not seen as words.
            dt.FREQ[word] = before
        for word in wanted:
            if word not in _added:
                _added[word] = dt.FREQ.get(word)
                jieba.add_word(word)


# -- hidden fields of the index ----------------------------------------------------------

def _tokens(value: str) -> list[str]:
    return [t for t in SEPARATOR.split(value) if t]


def _plain(value: str) -> str:
    """Index text as a member reads it: no tags, no zero-width spaces, entities decoded."""
    return html.unescape(_TAG.sub(" ", value)).replace(JOIN, "")


def _split(word: str) -> list[str]:
    """How jieba would cut a word if the word itself were not in its dictionary: the
    natural parts of a compound (电子信箱 -> 电子 信箱, 帮学联系人 -> 帮学 联系人)."""
    dt = jieba.dt
    dag = dt.get_DAG(word)
    dag[0] = [end for end in dag[0] if end != len(word) - 1] or [0]
    route: dict[int, tuple[float, int]] = {}
    dt.calc(word, dag, route)
    parts, start = [], 0
    while start < len(word):
        end = route[start][1] + 1
        parts.append(word[start:end])
        start = end
    return parts


def _parts(word: str, found: dict[str, None], cache: dict[str, list[str]]) -> None:
    """Every word of two or more characters inside word, its parts' parts included."""
    if len(word) <= 2 or not _HAN.search(word):
        return
    if word not in cache:
        cache[word] = [p for p in _split(word) if len(p) > 1 and p != word]
    for part in cache[word]:
        if part not in found:
            found[part] = None
            _parts(part, found, cache)


def inner_words(tokens: list[str], keys: set[str],
                cache: dict[str, list[str]] | None = None) -> list[str]:
    """The words inside these tokens that a query could not reach otherwise.

    A query word matches the beginning of an indexed word (Material appends a
    wildcard), so 电子 already finds 电子信箱 and only 信箱 is needed. A beginning is
    kept all the same when no indexed word anywhere (keys) is that word, because
    Material's query splitter recognises only words that are in the index.
    """
    cache = {} if cache is None else cache
    have = set(tokens)
    found: dict[str, None] = {}
    for token in tokens:
        _parts(token, found, cache)
    words = [w for w in found if w not in have]
    reach = have | set(words)
    return [w for w in words
            if w not in keys or not any(r != w and r.startswith(w) for r in reach)]


def synonyms_in(plain: str, terms: SearchTerms) -> list[str]:
    """The everyday words whose terms this text contains, minus those it says itself."""
    found: dict[str, None] = {}
    for synonym in terms.synonyms:
        if any(term in plain for term in synonym.means):
            for word in synonym.says:
                if word not in plain:
                    found[word] = None
    return list(found)


def _entry_tokens(entry: dict[str, Any]) -> tuple[list[str], list[str]]:
    text = html.unescape(_TAG.sub(" ", entry.get("text", "")))
    return _tokens(entry.get("title", "")), _tokens(text)


def enrich_entry(entry: dict[str, Any], terms: SearchTerms, keys: set[str],
                 cache: dict[str, list[str]]) -> None:
    title_tokens, text_tokens = _entry_tokens(entry)
    plain_title, plain_text = _plain(entry.get("title", "")), _plain(entry.get("text", ""))
    fields = {
        "title_words": inner_words(title_tokens, keys, cache),
        "title_synonyms": synonyms_in(plain_title, terms),
        "text_words": inner_words(text_tokens, keys, cache),
        "text_synonyms": synonyms_in(plain_text, terms),
    }
    # A synonym the title already brings counts there, not again from the text.
    fields["text_synonyms"] = [w for w in fields["text_synonyms"]
                               if w not in fields["title_synonyms"]]
    for name, words in fields.items():
        if words:
            entry[name] = JOIN.join(words)
        else:
            entry.pop(name, None)
    page = entry.get("location", "").split("#")[0]
    for prefix, boost in PAGE_BOOSTS.items():
        if page.startswith(prefix) and not page.endswith("index.html"):
            entry["boost"] = float(entry.get("boost", 1.0)) * boost


def enrich_index(data: dict[str, Any], terms: SearchTerms | None) -> dict[str, Any]:
    """Add the hidden fields to every entry of a search index (search_index.json's data)
    and declare them, with their weights, in its config."""
    terms = terms or SearchTerms()
    docs = data.get("docs", [])
    keys = {token for entry in docs for tokens in _entry_tokens(entry) for token in tokens}
    cache: dict[str, list[str]] = {}
    with _jieba_lock:
        for entry in docs:
            enrich_entry(entry, terms, keys, cache)
    fields = data.setdefault("config", {}).setdefault("fields", {})
    for name, boost in DEFAULT_BOOSTS.items():
        fields.setdefault(name, {"boost": boost})
    for name, (source, factor) in FIELDS.items():
        fields[name] = {"boost": float(fields[source].get("boost", 1.0)) * factor}
    return data


# -- the query side: Material's search worker ----------------------------------------------
# Material 9's worker (src/.../search/query/segment/index.ts) splits each run of Chinese in
# the query into the words of the index greedily, but never looks at a slice that ends
# with the query's last character (党费 -> 党, 查询码 -> 查询), and where no word starts it
# falls back to single characters, each searched as the beginning of a word (党* matches
# 党建, 党风 and 党务). Its minified form is
#   function NAME(query,index){let r=new Set,n=new Uint16Array(query.length);...
#   return r.has("")?new Set([query]):r}
# and its caller joins what it returns with "* " into the query, where Material's
# transform appends "*" to every term without a boost. SEGMENT_JS takes its place, same
# name and arguments, and returns one string of terms separated by spaces:
#
# - the longest word of the index at each position, the query's end included; a word
#   inside a longer one already found is left out (证明信, not 证明 as well), overlapping
#   words are both kept (研究生命: 研究生 and 生命); at the very end, where the member
#   may still be typing, the beginning of an indexed word counts too (回家 of 回家过年);
# - characters outside every word are searched as themselves (领^1: the word 领, not
#   领导 or 领取) and only when the query holds no word at all as beginnings (党*);
# - words and characters of content/search.yaml `ignore` (怎么, 什么, 吗 ...) are left
#   out unless nothing else is left: 怎么投稿 searches 投稿;
# - with nothing of the index in it, the query as it is.
SEGMENT_JS = """function NAME(query,index){
/* generator/search_terms.py: the words of the index in a Chinese query */
var ignore=IGNORE,keys=NAME.keys;
if(NAME.index!==index){NAME.index=index;keys=NAME.keys=Object.keys(index).sort();}
function known(word,last){
if(word in index)return true;
if(!last)return false;
var lo=0,hi=keys.length;
while(lo<hi){var mid=(lo+hi)>>1;if(keys[mid]<word)lo=mid+1;else hi=mid;}
return lo<keys.length&&keys[lo].lastIndexOf(word,0)===0;
}
function kept(list){
var out=list.filter(function(w){return !ignore.hasOwnProperty(w);});
return out.length?out:list;
}
var words=[],inside=[],reach=0,i,j;
for(i=0;i<query.length;i++)
for(j=query.length;j>i+1;j--)
if(known(query.slice(i,j),j===query.length)){
if(j>reach){words.push(query.slice(i,j));reach=j;for(var k=i;k<j;k++)inside[k]=true;}
break;
}
var chars=[];
for(i=0;i<query.length;i++)
if(!inside[i]&&query[i] in index)chars.push(query[i]);
words=kept(words);
if(!words.length&&!chars.length)return new Set([query]);
if(!words.length||words.every(function(w){return ignore.hasOwnProperty(w);}))
return new Set([kept(words.concat(chars)).join(" ")]);
chars=chars.filter(function(c){return !ignore.hasOwnProperty(c);});
return new Set([words.concat(chars.map(function(c){return c+"^1";})).join(" ")]);
}"""
_SEGMENT = re.compile(r'function (\w+)\((\w+),(\w+)\)\{let (\w+)=new Set,(\w+)=new Uint16Array'
                      r'\(\2\.length\);.*?return \4\.has\(""\)\?new Set\(\[\2\]\):\4\}')
_WORKER = re.compile(r"search\.[0-9a-f]{8}\.min\.js$")


def segment_js(name: str, ignore: Iterable[str] = ()) -> str:
    """SEGMENT_JS as the function `name`, with the words to leave out of queries."""
    table = json.dumps({word: 1 for word in ignore}, ensure_ascii=True, sort_keys=True)
    return SEGMENT_JS.replace("NAME", name).replace("IGNORE", table).replace("\n", "")


def patch_worker_source(source: str, ignore: Iterable[str] = ()) -> str | None:
    """The worker's code with SEGMENT_JS as its query segmenter, or None when the code
    is not the one this was written for (a Material upgrade: search still works, only as
    before)."""
    found = list(_SEGMENT.finditer(source))
    if len(found) != 1:
        return None
    match = found[0]
    return source[:match.start()] + segment_js(match[1], ignore) + source[match.end():]


def patch_search_worker(site: Path, terms: SearchTerms | None = None) -> str | None:
    """Fix the query segmenter of the built site's search worker; the patched file gets
    the fingerprint of its own content and every page is pointed at it. Returns the new
    file name, or None (with a warning) when the worker could not be patched."""
    workers = site / "assets" / "javascripts" / "workers"
    found = [p for p in workers.glob("search.*.min.js") if _WORKER.search(p.name)]
    if len(found) != 1:
        log.warning("search worker not found in %s: Chinese queries not improved", workers)
        return None
    old = found[0]
    ignore = terms.ignore if terms else []
    patched = patch_worker_source(old.read_text(encoding="utf-8"), ignore)
    if patched is None:
        log.warning("%s is not the search worker this build knows how to fix (Material "
                    "upgraded?): Chinese queries are segmented as Material does", old.name)
        return None
    digest = hashlib.sha256(patched.encode("utf-8")).hexdigest()[:8]
    new = old.with_name(f"search.{digest}.min.js")
    new.write_text(patched, encoding="utf-8")
    if new != old:
        old.unlink()
        before, after = f"workers/{old.name}", f"workers/{new.name}"
        for page in site.rglob("*.html"):
            text = page.read_text(encoding="utf-8")
            if before in text:
                page.write_text(text.replace(before, after), encoding="utf-8")
    return new.name
