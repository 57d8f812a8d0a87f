"""How `dangxiao serve` hands the built site to a phone: gzip, caching, ranges."""

from __future__ import annotations

import gzip
import json

from werkzeug.test import Client

from forms_app.combined import SiteFiles
from generator.build import BuildResult

LESSON = "/courses/party-spirit/identity.html"


def test_pages_go_out_gzipped_to_browsers_that_accept_it(sample_site: BuildResult):
    client = Client(SiteFiles(sample_site.out))
    plain = client.get(LESSON)
    packed = client.get(LESSON, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 3
    assert "Content-Encoding" not in plain.headers
    # Every text file of the build has its twin, byte-identical when unpacked.
    for path in sample_site.out.rglob("*.gz"):
        assert gzip.decompress(path.read_bytes()) == path.with_suffix("").read_bytes()


def test_cache_headers_keep_rebuilt_pages_fresh_and_bundles_cached(sample_site: BuildResult):
    client = Client(SiteFiles(sample_site.out))
    bundle = next(sample_site.out.glob("assets/javascripts/bundle.*.min.js")).name
    assert "immutable" in client.get(f"/assets/javascripts/{bundle}").headers["Cache-Control"]
    assert client.get("/assets/css/dangxiao.css").headers["Cache-Control"] == \
        "public, max-age=3600"
    for path in (LESSON, "/search/search_index.json"):
        first = client.get(path)
        assert first.headers["Cache-Control"] == "no-cache"
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""


def test_media_answer_range_requests(sample_site: BuildResult):
    client = Client(SiteFiles(sample_site.out))
    whole = client.get("/media/identity-talk.mp3")
    part = client.get("/media/identity-talk.mp3", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.get_data() == whole.get_data()[100:200]


def test_search_index_is_plain_utf8(sample_site: BuildResult):
    raw = (sample_site.out / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "\\u" not in raw.replace("\\u200b", "")  # Chinese as characters, not escapes
    assert any("活动证" in d["title"].replace("\u200b", "") for d in json.loads(raw)["docs"])
