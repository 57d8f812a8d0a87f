"""三个必访 in Debian's Chromium at phone size (360×740, WeChat's browser), against a real
`dangxiao serve`: from the site's 信息服务 page a member taps to the help form, sends it
and lands on the tracking page. Every tap is on something at least 44 px tall, and no page
is wider than the screen or shows English (tests/tour_support.py Person)."""

from __future__ import annotations

import re

import pytest
from tour_support import WECHAT_PHONE, Person, Product, field_errors, unlabelled


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory):
    running = Product(tmp_path_factory.mktemp("help"))
    running.start()
    yield running
    running.stop()


def test_from_the_service_page_to_a_help_request(product: Product, browser, tmp_path):
    phone = browser.new_context(**WECHAT_PHONE)
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    member = Person(page, product.url)
    member.start()
    member.tap(page.locator(".dx-thumb-bar").get_by_role("link", name="服务", exact=True))
    page.wait_for_url("**/service/**")
    # The button under 三个必访 on the 信息服务 page.
    member.tap(page.locator("a.md-button[href='/app/help']"))
    page.wait_for_url("**/app/help")
    assert unlabelled(page) == []
    assert page.get_by_role("link", name="拨打 110").bounding_box()["height"] >= 44
    page.screenshot(path=str(tmp_path / "help-form.png"), full_page=True)

    # Sending it without a contact keeps the member on the form with the reason beside it.
    member.tap(page.get_by_label("权益受到损害"), navigates=False)
    page.get_by_label("发生了什么（选填）").fill("老板拖欠了三个月工资，我在宁波，不知道找谁。")
    member.tap(page.get_by_role("button", name="提交求助"))
    problems = [(p["field"], p.get("text"), p.get("sameBlock")) for p in field_errors(page)]
    assert problems == [("contact", "请留下手机号码或微信号，支部才能联系到您。", True)]
    assert page.get_by_label("权益受到损害").is_checked()  # what was typed stays

    page.get_by_label("联系方式（必填）").fill("13812345678")
    page.screenshot(path=str(tmp_path / "help-form-filled.png"), full_page=True)
    member.tap(page.get_by_role("button", name="提交求助"))
    page.wait_for_url(re.compile(r".*/app/help/[A-Z0-9]{16}$"))
    main = page.locator("main").inner_text()
    assert "请求走访：已登记，待处理" in main and "权益受到损害" in main
    assert "13812345678" not in page.content()
    assert page.get_by_role("link", name="拨打 12371").get_attribute("href") == "tel:12371"
    page.screenshot(path=str(tmp_path / "help-track.png"), full_page=True)
    member.tap(page.get_by_role("link", name="学法用法 依法维权"))
    page.wait_for_url("**/courses/law-rights/index.html")
    assert errors == []
    print("screenshots in", tmp_path)
    phone.close()
