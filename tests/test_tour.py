"""The whole loop in Debian's Chromium against a real `dangxiao serve` on a fresh instance.

A member on a phone in WeChat's browser studies a lesson, registers, logs the study, uses
the policy helper, asks the branch a question and sends an article; an editor on a laptop
answers the question, approves the article and publishes; the rebuilt site carries the
article, its own search finds it, and the member's tracking pages show both outcomes.
Every request must go to 127.0.0.1, no page may log a script error, every control must be
labelled. The tour writes the README's screenshots and the bytes a phone receives.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import search_titles, type_search
from tour_support import (
    EDITOR_PASSWORD,
    LAPTOP,
    MIN_TARGET,
    WECHAT_PHONE,
    CountingRelay,
    Person,
    Product,
    Watch,
    field_errors,
    running_product,
    shot,
    unlabelled,
)

from bench.results import write_section
from forms_app.working_days import WorkCalendar

LESSON = "/courses/party-spirit/identity.html"          # has an audio talk
VIDEO_LESSON = "/courses/livelihood/before-leaving.html"  # has a video
QUESTION = "我在宁波港开集装箱卡车，外出超过半年，组织关系要不要转过来？"
ARTICLE_TITLE = "港口夜班的学习时间"
ARTICLE_BODY = ("每天凌晨交班后，我在集装箱堆场的休息室里用手机学一课。\n\n"
                "**学完记下来**，帮学联系人每周和我对一次学习笔记。")
ANSWER = "外出六个月以上且地点相对固定，应当转移正式组织关系。请带上介绍信到宁波港所在街道党工委报到。"


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory):
    running = running_product(tmp_path_factory.mktemp("tour"))
    running.start()
    yield running
    running.stop()


def settle(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def play(page, selector: str) -> float:
    """Start the media element and return its position after a moment of playing."""
    return page.evaluate("""(selector) => {
        const m = document.querySelector(selector);
        m.muted = true;
        return m.play().then(() => new Promise(resolve =>
            setTimeout(() => resolve(m.currentTime), 1500)));
    }""", selector)


def search(page, word: str) -> list[str]:
    """Open the site's search, type a Chinese word, return the result titles."""
    type_search(page, word)
    return search_titles(page)


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def test_bytes_a_phone_receives(product: Product, browser):
    """First visit to a lesson, the next page, then opening search: counted on the wire."""
    relay = CountingRelay(product.port, product.url.split(":", 1)[0])
    context = browser.new_context(**WECHAT_PHONE)
    watch = Watch(context)
    page = context.new_page()
    try:
        relay.take()
        page.goto(relay.url + LESSON)
        settle(page)
        first = relay.take()
        assert not [u for u in watch.requests if "search_index" in u], \
            "the search index loaded before the member opened search"
        assert not [u for u in watch.requests if "workers/search." in u], \
            "the search worker loaded before the member opened search"
        page.locator("a.md-footer__link--next").click()  # 下一页, at the foot of the lesson
        page.wait_for_url(lambda url: not url.endswith(LESSON))
        settle(page)
        second = relay.take()
        titles = search(page, "活动证")
        settled_search = relay.take()
        assert any("活动证" in t for t in titles), titles
        # The app answers: neither the static index nor Material's worker is ever fetched.
        assert not [u for u in watch.requests if "search_index" in u]
        assert not [u for u in watch.requests if "workers/search." in u]
        # Then the app, first visit: 服务 in the thumb bar, then the mailbox form.
        page.goto(relay.url + "/service/index.html")  # (search covers the page; a measurement)
        settle(page)
        relay.take()
        page.get_by_role("link", name=re.compile("电子信箱")).first.click()
        page.wait_for_url("**/app/ask")
        settle(page)
        app_first = relay.take()
    finally:
        context.close()
        relay.close()
    index = product.site / "search" / "search_index.json"
    index_gz = index.with_name(index.name + ".gz")
    pages = len([p for p in product.site.rglob("*.html") if p.name != "404.html"])
    write_section("Bytes a phone receives", "\n".join([
        "Counted by `tests/test_tour.py` on the wire (a relay between Chromium and "
        f"{product.label}: headers and compressed bodies, worker scripts and media "
        "included), WeChat-like phone profile, empty cache, sample site.", "",
        "| step | bytes received | target |", "| --- | --- | --- |",
        f"| first visit to a lesson page (`{LESSON}`) | {kb(first)} | < 100 KB |",
        f"| next page (the next lesson, cache warm) | {kb(second)} | < 15 KB |",
        f"| opening search and searching 活动证 (the app's results page) | "
        f"{kb(settled_search)} | < 60 KB |",
        f"| first app page after the site (/app/ask from 信息服务) | {kb(app_first)} | < 20 KB |",
        "",
        "Search is served by the app (forms_app/search.py): the results page is the only "
        "download, whatever the size of the site; the static index "
        f"({kb(index_gz.stat().st_size)} gzip for {pages} pages) is used only by the "
        "offline copy (bench/RESULTS.md \"Search\" compares the engines).",
    ]))
    assert first < 100 * 1024, kb(first)
    assert second < 15 * 1024, kb(second)
    assert app_first < 20 * 1024, kb(app_first)
    assert settled_search < 60 * 1024, kb(settled_search)
    assert watch.errors == []
    assert watch.foreign() == []


def test_member_and_editor_tour(product: Product, browser):
    base = product.url
    phone = browser.new_context(**WECHAT_PHONE)
    member_watch = Watch(phone)
    page = phone.new_page()

    member = Person(page, base)
    thumb = page.locator(".dx-thumb-bar, .thumb-bar")

    # -- a lesson, from the home page, by tapping only ---------------------------------------
    member.start()
    assert page.title().startswith("流动党员网上党校")
    shot(page, "home")
    member.tap(thumb.get_by_role("link", name="学习", exact=True))
    shot(page, "section-courses")
    member.tap(page.locator("article a", has_text="流动不流失"))
    shot(page, "course")
    member.tap(page.locator(f"article a[href$='{Path(LESSON).name}']"))
    page.wait_for_url("**" + LESSON)
    assert play(page, "audio") > 0.3
    shot(page, "lesson")
    member.tap(thumb.get_by_role("link", name="学习", exact=True))
    member.tap(page.locator("article a", has_text="增本领"))
    member.tap(page.locator(f"article a[href$='{Path(VIDEO_LESSON).name}']"))
    page.wait_for_url("**" + VIDEO_LESSON)
    assert page.locator("video").get_attribute("playsinline") is not None
    assert play(page, "video") > 0.3
    page.go_back()
    page.go_back()
    page.go_back()  # back on the audio lesson, as a member would with the back button
    page.wait_for_url("**" + LESSON)

    # -- 记录学习: register on the way, the lesson stays filled in -------------------------
    member.tap(page.get_by_role("link", name="记录学习"))
    page.wait_for_url("**/app/login**")
    shot(page, "login")
    member.tap(page.get_by_role("link", name="注册"))
    shot(page, "register")
    page.get_by_label("用户名").fill("宁波老李")
    page.get_by_label("密码", exact=True).fill("港口的灯一夜不灭")
    page.get_by_label("再输入一次密码").fill("港口的灯一夜不灭")
    member.tap(page.get_by_role("button", name="注册"))
    page.wait_for_url("**/app/recovery-code**")  # the recovery code, shown once
    member.tap(page.get_by_role("link", name="我已记下，继续"))
    page.wait_for_url("**/app/study**")
    assert page.get_by_label("第1课 党员流动不流失").is_checked()  # the lesson came along
    page.get_by_label("学习时长（分钟）").fill("25")
    member.tap(page.get_by_label("网上学"), navigates=False)
    page.get_by_label("学习心得（选填）").fill("在外也要按时交党费、过组织生活。")
    shot(page, "study")
    member.tap(page.get_by_role("button", name="保存学习记录"))
    page.wait_for_url("**/app/me?lesson=courses/party-spirit/identity")
    assert page.locator("#month-minutes").inner_text() == "25"
    logs = page.locator("ul.logs").inner_text()
    assert "党员流动不流失" in logs and "25 分钟" in logs and "待确认" in logs
    shot(page, "mine")
    member.tap(page.get_by_role("link", name=re.compile("查看和下载我的全部记录")))
    assert "宁波老李" in page.locator("main").inner_text()
    shot(page, "my-data")
    page.go_back()

    # -- the policy helper, from 指南 ---------------------------------------------------------
    member.tap(thumb.get_by_role("link", name="指南", exact=True))
    shot(page, "section-guides")
    member.tap(page.locator("article a", has_text="外出前该办什么手续").first)
    # Each question appears once the one before it is answered; nothing is answered ahead.
    for question, answer in (("rules_for", "农村、社区、机关、企事业单位等"),
                             ("reason", "务工经商、找工作"), ("months", "超过 6 个月"),
                             ("fixed_place", "地点相对固定"), ("group", "没有"),
                             ("destination_org", "健全"), ("probationary", "正式党员")):
        box = page.locator(f'fieldset[data-question="{question}"]')
        member.tap(box.get_by_label(answer, exact=True), navigates=False)
    member.tap(page.get_by_role("button", name="看看该办什么"), navigates=False)
    result = page.locator("#dx-helper-result")
    assert "转移正式组织关系" in result.inner_text()
    assert "下一步：" in result.inner_text()
    member.tap(result.locator("details.dx-clause summary").first, navigates=False)
    assert "地点比较固定的，应转移党员正式组织关系" in result.inner_text()
    result.scroll_into_view_if_needed()
    shot(page, "helper")
    # The result's 向支部提问 starts the question with the member's situation.
    member.tap(result.get_by_role("link", name="向支部提问"))
    asked = page.locator("textarea[name=question]").input_value()
    assert asked.startswith("我的情况：") and "转移正式组织关系" in asked
    page.go_back()
    # ... and its 向支部报告外出 opens the departure report filled in from the answers.
    report = result.get_by_role("link", name="向支部报告外出")
    if not report.count():  # the page came back without its result: ask again
        member.tap(page.get_by_role("button", name="看看该办什么"), navigates=False)
    member.tap(report)
    page.wait_for_url("**/app/report?kind=departure**")
    assert page.get_by_label("准备办理的手续（选填）").input_value() == "转移正式组织关系"
    assert page.get_by_label("预计在外几个月").input_value() == ""  # theirs to say
    page.get_by_label("预计在外几个月").fill("8")
    assert page.get_by_label("相对固定", exact=True).is_checked()
    page.get_by_label("外出去向（写到城市或区县）").fill("宁波市鄞州区")
    page.get_by_label("从事的工作").fill("港口装卸")
    shot(page, "report-form")
    member.tap(page.get_by_role("button", name="报告支部"))
    page.wait_for_url(re.compile(r".*/app/report/\d+$"))
    facts = page.locator("#report-facts").inner_text()
    assert "宁波市鄞州区" in facts and "已登记，待处理" in facts and "转移正式组织关系" in facts
    shot(page, "report")
    member.tap(thumb.get_by_role("link", name="指南", exact=True))
    member.tap(page.locator("article a", has_text="在外期间怎样交党费"))
    shot(page, "guide")

    # -- an FAQ entry, and asking the branch from it --------------------------------------
    member.tap(thumb.get_by_role("link", name="问答", exact=True))
    shot(page, "section-faq")
    member.tap(page.locator("article a", has_text="不能按时交党费"))
    shot(page, "faq-entry")
    member.tap(page.get_by_role("link", name="向支部提问"))
    page.wait_for_url("**/app/ask**")
    assert page.get_by_label("问题类别").input_value() == "党费"

    # -- the mailbox from 服务: mistakes shown beside their fields, then a tracking code ----
    member.tap(thumb.get_by_role("link", name="服务", exact=True))
    shot(page, "service")
    member.tap(page.get_by_role("link", name=re.compile("电子信箱")))
    member_watch.expected_status.add(page.url)
    member.tap(page.get_by_role("button", name="提交问题"))
    errors = field_errors(page)
    assert [e["field"] for e in errors] == ["question"], errors
    assert all(e["sameBlock"] and 0 <= e["gap"] < 100 and e["text"] for e in errors), errors
    asked_at = datetime.now(UTC)
    page.get_by_label("您的问题").fill(QUESTION)
    page.get_by_label("问题类别").select_option(label="组织关系转接")
    member.tap(page.get_by_label("同意编辑部隐去姓名"), navigates=False)
    shot(page, "ask")
    member.tap(page.get_by_role("button", name="提交问题"))
    page.wait_for_url(re.compile(r".*/app/ask/[A-Z0-9-]+$"))
    question_page = page.url
    code = page.locator("#tracking-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code), code
    assert page.get_by_role("button", name="复制查询码").is_visible()
    shot(page, "track")

    # -- 查询进度 with the code, from 服务 ---------------------------------------------------
    member.tap(thumb.get_by_role("link", name="服务", exact=True))
    member.tap(page.get_by_role("link", name=re.compile("查询进度")))
    page.get_by_label("查询码").fill(code.lower().replace("-", " "))
    shot(page, "lookup")
    member.tap(page.get_by_role("button", name="查询"))
    assert page.url == question_page

    # -- 流动党员之声: from its section, preview, then send ----------------------------------
    member.tap(thumb.get_by_role("link", name="首页", exact=True))
    member.tap(page.locator("article .dx-sections a", has_text="流动党员之声"))
    shot(page, "section-voices")
    member.tap(page.get_by_role("link", name="我要投稿"))
    page.get_by_label("标题", exact=True).fill(ARTICLE_TITLE)
    page.get_by_label("署名", exact=True).fill("宁波老李")
    page.get_by_label(re.compile("^正文")).fill(ARTICLE_BODY)
    member.tap(page.get_by_label("我同意文章经编辑审核后"), navigates=False)
    member.tap(page.get_by_role("button", name="预览"))
    assert page.locator(".preview strong", has_text="学完记下来").is_visible()
    shot(page, "voice-preview")
    member.tap(page.get_by_role("button", name="投稿"))
    page.wait_for_url(re.compile(r".*/app/voice/[A-Z0-9-]+$"))
    article_page = page.url

    # -- news and the weekly theme, from the home page -------------------------------------
    member.tap(thumb.get_by_role("link", name="首页", exact=True))
    member.tap(page.locator("article .dx-sections a", has_text="党建动态"))
    shot(page, "section-news")
    member.tap(page.locator("article li a").first)
    shot(page, "news-entry")
    member.tap(thumb.get_by_role("link", name="首页", exact=True))
    member.tap(page.locator("article .dx-sections a", has_text="每周主题"))
    member.tap(page.locator("article li a").first)
    shot(page, "theme")

    # -- the editor, on a laptop -----------------------------------------------------------
    laptop = browser.new_context(**LAPTOP)
    editor_watch = Watch(laptop)
    desk = laptop.new_page()
    # The editor works from bookmarks (the login page and the queue), not from the home page
    # a member starts at; every member above only taps.
    desk.goto(base + "/app/login")
    desk.get_by_label("用户名").fill("王编辑")
    desk.get_by_label("密码").fill(EDITOR_PASSWORD)
    desk.get_by_role("button", name="登录").click()
    desk.wait_for_url("**/app/editor/")
    assert unlabelled(desk) == []
    row = desk.locator("table.queue tr", has_text="集装箱卡车")
    calendar = WorkCalendar()
    due = {calendar.add(moment, 2 * 86400)[0].strftime("%Y-%m-%d %H:%M")
           for moment in (asked_at, datetime.now(UTC))}
    assert any(d in row.inner_text() for d in due), (row.inner_text(), due)
    desk.set_viewport_size(WECHAT_PHONE["viewport"])
    shot(desk, "editor-queue")
    desk.set_viewport_size(LAPTOP["viewport"])

    row.get_by_role("link").click()
    assert QUESTION in desk.locator(".member-text").inner_text()
    desk.set_viewport_size(WECHAT_PHONE["viewport"])
    shot(desk, "editor-item")
    desk.set_viewport_size(LAPTOP["viewport"])
    desk.get_by_label("答复或理由").fill(ANSWER)
    desk.get_by_role("button", name="答复", exact=True).click()
    # The asker allowed publishing: the editor checks the text that will be public (their
    # name and phone number marked and replaced), opens the document the answer rests on,
    # ticks its clause by the words beside it, on a phone as on a laptop, and confirms.
    assert "公开前核对" in desk.locator("main").inner_text()
    desk.set_viewport_size(WECHAT_PHONE["viewport"])
    document = desk.locator("#basis-picker summary",
                            has_text="关于试行《流动党员活动证》制度的通知（中央规定）")
    document.click()
    clause = desk.get_by_label(re.compile("活动证的使用：不能使用的第（2）种情况"))
    clause.check()
    for target in (document, desk.locator("#basis-picker label", has=clause)):
        assert target.bounding_box()["height"] >= MIN_TARGET - 0.5, target
    assert unlabelled(desk) == []
    document.scroll_into_view_if_needed()
    shot(desk, "editor-basis")
    desk.set_viewport_size(LAPTOP["viewport"])
    desk.get_by_role("button", name="确认公开这些内容").click()
    assert "已确认公开内容" in desk.locator("main").inner_text()
    desk.goto(base + "/app/editor/")  # the bookmarked queue
    desk.locator("table.queue a", has_text=ARTICLE_TITLE).click()
    assert desk.locator(".member-text strong", has_text="学完记下来").is_visible()
    desk.get_by_role("button", name="采用", exact=True).click()
    desk.goto(base + "/app/editor/")
    started = time.monotonic()
    desk.get_by_role("link", name=re.compile("发布到网站")).click()
    desk.get_by_role("button", name="确认发布到网站").click()
    assert "已写入 2 条，正在重新生成网站" in desk.locator("main").inner_text()
    # The editor refreshes the queue until it reports the rebuilt site (as the page says).
    deadline = time.monotonic() + 120
    while "成功，2 条已上线" not in desk.locator("main").inner_text():
        assert time.monotonic() < deadline, desk.locator("main").inner_text()
        desk.wait_for_timeout(300)
        desk.reload()

    # -- the member sees both outcomes; the rebuilt site has the article -------------------
    page.goto(question_page)
    assert ANSWER in page.locator(".answer").inner_text()
    page.goto(article_page)
    assert "已发表" in page.locator("main").inner_text()
    link = page.get_by_role("link", name="阅读网上的文章")
    article_url = base + link.get_attribute("href")
    search_url = base + "/app/search?q=" + urllib.parse.quote(ARTICLE_TITLE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        article = page.request.get(article_url)
        if article.ok and ARTICLE_TITLE in page.request.get(search_url).text():
            break
        time.sleep(0.2)
    visible_after = time.monotonic() - started
    print(f"publish to visible with a complete search index: {visible_after:.1f} s")
    member.tap(link)
    page.wait_for_url(article_url)
    assert page.locator("article h1").inner_text() == ARTICLE_TITLE
    assert page.locator("article strong", has_text="学完记下来").is_visible()
    titles = search(page, "集装箱")
    assert ARTICLE_TITLE in titles, titles
    # Search is whole after the rebuild: an old page of the sample is still found.
    member.tap(thumb.get_by_role("link", name="首页", exact=True))
    assert any("活动证" in t for t in search(page, "活动证"))

    # -- a study buddy: registers on their own phone, is paired, looks after 宁波老李 ------
    buddy_phone = browser.new_context(**WECHAT_PHONE)
    buddy_watch = Watch(buddy_phone)
    bpage = buddy_phone.new_page()
    buddy = Person(bpage, base)
    buddy.start()
    buddy.tap(bpage.locator(".dx-thumb-bar").get_by_role("link", name="服务", exact=True))
    buddy.tap(bpage.get_by_role("link", name=re.compile("^我的学习")))
    buddy.tap(bpage.get_by_role("link", name="注册"))
    bpage.get_by_label("用户名").fill("老周")
    bpage.get_by_label("密码", exact=True).fill("码头边的老樟树又发新芽")
    bpage.get_by_label("再输入一次密码").fill("码头边的老樟树又发新芽")
    buddy.tap(bpage.get_by_role("button", name="注册"))
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}",
                        bpage.locator(".code").first.inner_text().strip())
    shot(bpage, "recovery-code")
    buddy.tap(bpage.get_by_role("link", name="我已记下，继续"))
    # The branch pairs them (editor, people page), as the buddy page itself explains.
    desk.get_by_role("link", name="结对帮学").first.click()
    desk.get_by_label("流动党员的用户名").fill("宁波老李")
    desk.get_by_label("帮学联系人的用户名（留空为解除结对）").fill("老周")
    desk.get_by_role("button", name="保存结对").click()
    assert "结对已保存。" in desk.locator("main").inner_text()
    buddy.tap(bpage.locator(".dx-thumb-bar, .thumb-bar").get_by_role("link", name="我的",
                                                                      exact=True))
    # 我的 now leads with the pair, and says who needs a call first.
    assert "我结对帮学的党员（1 名）" in bpage.locator("#my-pairs").inner_text()
    buddy.tap(bpage.get_by_role("link", name=re.compile("我结对帮学的党员")))
    card = bpage.locator("#care li.duty", has_text="宁波老李")
    assert "还没有组织生活记录" in card.inner_text() and "还没有联系记录" in card.inner_text()
    card.scroll_into_view_if_needed()
    shot(bpage, "buddy-care")
    buddy.tap(card.get_by_role("link", name="联系记录与代记"))
    buddy.tap(bpage.get_by_label("微信", exact=True), navigates=False)
    bpage.get_by_label("联系情况（结对党员本人能看到）").fill(
        "微信视频聊了二十分钟，在宁波港干得顺利，下月去当地流动党员党支部参加主题党日。")
    shot(bpage, "buddy-member")
    buddy.tap(bpage.get_by_role("button", name="保存联系记录"))
    assert "下月去当地流动党员党支部" in bpage.locator("#contact-notes").inner_text()
    # The member reads it on 我的.
    member.tap(thumb.get_by_role("link", name="服务", exact=True))
    member.tap(page.get_by_role("link", name=re.compile("^我的学习")))
    assert "下月去当地流动党员党支部" in page.locator("main").inner_text()
    page.get_by_text("帮学联系人的联系记录").scroll_into_view_if_needed()
    shot(page, "mine-contacts")
    buddy_phone.close()

    laptop.close()
    phone.close()
    for watch in (member_watch, editor_watch, buddy_watch):
        assert watch.errors == []
        assert watch.foreign() == []
