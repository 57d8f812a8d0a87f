"""A member on a 360×740 phone taps from 我的 to 记录组织生活, records one, and sees the
six-month line on 我的: every tap at least 44 px, no English, nothing wider than the
screen (tests/tour_support.py Person)."""

from __future__ import annotations

import re

from conftest import PHONE, add_user
from tour_support import Person

from forms_app.duties.dates import add_months, cn_date
from forms_app.forms import beijing_today


def test_member_records_organisational_life_from_my_page(live, browser, tmp_path):
    app, base = live
    add_user(app, "老王")
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        member = Person(page, base)
        page.goto(base + "/app/me")  # not signed in: the login page, then back to 我的
        member.look()
        page.get_by_label("用户名").fill("老王")
        page.get_by_label("密码").fill("长江黄河都是好风景")
        member.tap(page.get_by_role("button", name="登录"))
        page.wait_for_url("**/app/me")
        panel = page.locator("#duty-orglife")
        assert "还没有组织生活记录" in panel.inner_text()
        page.screenshot(path=str(tmp_path / "me-before.png"), full_page=True)

        member.tap(panel.get_by_role("link", name="记录组织生活"))
        page.wait_for_url("**/app/orglife")
        page.get_by_label("组织生活所在的党组织").fill("宁波港党委第三党支部")
        member.tap(page.get_by_label("党课"), navigates=False)
        assert page.get_by_label("党课").is_checked()
        page.screenshot(path=str(tmp_path / "orglife-form.png"), full_page=True)
        member.tap(page.get_by_role("button", name="保存组织生活记录"))
        page.wait_for_url("**/app/me")

        today = beijing_today()
        line = add_months(today, 6)
        text = re.sub(r"\s+", "", panel.inner_text())
        assert f"上次组织生活：{cn_date(today)}。" in text
        assert f"距离“连续六个月没有组织生活”还有{(line - today).days}天（{cn_date(line)}）。" in text
        assert "组织生活记录已保存。" in page.locator("body").inner_text()
        page.screenshot(path=str(tmp_path / "me-after.png"), full_page=True)
        # Dues and the card, declared from the same panel.
        member.tap(page.get_by_role("link", name="更新党费和活动证信息"))
        page.wait_for_url("**/app/me/duties")
        page.get_by_label("年份").select_option(str(today.year))
        page.get_by_label("月份").select_option(str(today.month))
        member.tap(page.get_by_label(re.compile("毕业生党员")), navigates=False)
        page.screenshot(path=str(tmp_path / "duties-form.png"), full_page=True)
        member.tap(page.get_by_role("button", name="保存"))
        page.wait_for_url("**/app/me")
        assert f"党费已交到 {today.year}年{today.month}月（本人填写），本月不欠交。" in \
            page.locator("#duty-dues").inner_text()
        assert "按每半年一次提醒" not in page.locator("#duty-report").inner_text()  # none sent
        # The records are one tap away from 我的.
        member.tap(page.get_by_role("link", name="我的组织生活记录"))
        assert "宁波港党委第三党支部" in page.locator("#orglife-records").inner_text()
    finally:
        context.close()
