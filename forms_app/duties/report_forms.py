"""The form of a report to the branch (外出报告, 返回报告, 思想汇报); every message is the
Chinese a member reads. Which fields are asked depends on the kind (forms_app/duties/reports.py)."""

from __future__ import annotations

import re

from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from forms_app.forms import VISIBLE, Form, Honeypot, beijing_today
from forms_app.states import DEPARTURE, KIND_LABELS, REPORT_KINDS, RETURN, THOUGHT

FIXED_PLACE = [SelectChoice("yes", "相对固定"), SelectChoice("no", "不固定，经常变动")]

# A destination is a city or county (宁波, 宁波市鄞州区), never where the member lives or
# works: any digit (a house number, a phone), the words of a street address, or a street
# word that is not part of a district's name (路桥区, 路南区, 鼓楼区, 钟楼区 are districts).
_DIGITS = re.compile(r"[0-9０-９]")
_ADDRESS = re.compile(
    r"[一二三四五六七八九十百零〇两]+\s*[号栋幢层室]|小区|大厦|公寓|单元|门牌|胡同|社区|街道"
    r"|村委|工业园|宿舍|(?<![鼓钟])楼|[路](?![桥南北])|[街巷弄]|号|室|栋|幢|@")
CITY_HINT = "去向只需写到城市或区县（如“宁波”或“宁波市鄞州区”）"


def city_only(form: Form, field: StringField) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    if len(_DIGITS.findall(value)) >= 7:  # a phone, however spaced
        raise ValidationError(f"{CITY_HINT}，请不要写电话号码。")
    if _DIGITS.search(value) or _ADDRESS.search(value):
        raise ValidationError(f"{CITY_HINT}，请不要写街道、门牌等详细地址。")


def _leave_day_ok(form: Form, field: DateField) -> None:
    """A departure is reported before leaving or soon after: a year either side."""
    if field.data and abs((field.data - beijing_today()).days) > 366:
        raise ValidationError("外出日期请填写一年以内的日子（已经走了的，填实际离开的日子）。")


class ReportForm(Honeypot, Form):
    kind = HiddenField()
    body = TextAreaField("内容", filters=VISIBLE, validators=[
        Optional(), Length(max=10000, message="内容请控制在 10000 字以内。")])
    destination = StringField("外出去向（写到城市或区县）", filters=VISIBLE, validators=[
        Optional(), Length(max=30, message="去向请控制在 30 字以内。"), city_only])
    leave_on = DateField("外出日期（选填）", validators=[Optional(), _leave_day_ok])
    months = IntegerField("预计在外几个月", validators=[
        Optional(), NumberRange(min=1, max=120, message="预计在外时间应为 1 到 120 个月。")])
    work = StringField("从事的工作", filters=VISIBLE, validators=[
        Optional(), Length(max=40, message="从事的工作请控制在 40 字以内。")])
    fixed_place = RadioField("工作地点是否固定", choices=FIXED_PLACE, validate_choice=False)
    instrument = StringField("准备办理的手续（选填）", filters=VISIBLE, validators=[
        Optional(), Length(max=60, message="手续名称请控制在 60 字以内。")])
    contact = StringField("在外期间的联系方式（选填）", validators=[
        Optional(), Length(max=100, message="联系方式请控制在 100 字以内。")])
    orglife_away = TextAreaField("在外期间参加的组织生活（选填）", filters=VISIBLE, validators=[
        Optional(), Length(max=2000, message="组织生活情况请控制在 2000 字以内。")])
    submit = SubmitField("报告支部")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        kind = self.kind.data
        if kind not in REPORT_KINDS:
            self.kind.errors = [*self.kind.errors, "请选择要报告的事项。"]
            return False
        needed: list[tuple[object, str]] = []
        if kind == DEPARTURE:
            needed = [(self.destination, "请填写外出去向，写到城市或区县即可。"),
                      (self.months, "请填写预计在外几个月。"),
                      (self.work, "请填写从事的工作，简单几个字即可，如“建筑务工”。"),
                      (self.fixed_place, "请选择工作地点是否固定。")]
            if self.fixed_place.data not in (None, "", "yes", "no"):
                self.fixed_place.errors = [*self.fixed_place.errors, "请从两项中选择一项。"]
                ok = False
        elif kind == RETURN:
            needed = [(self.body, "请写一写在外期间的主要情况。")]
        elif kind == THOUGHT:
            needed = [(self.body, "请填写思想汇报的内容。")]
        for field, message in needed:
            empty = field.data is None or (isinstance(field.data, str) and not field.data.strip())
            if empty and not field.errors:
                field.errors = [*field.errors, message]
                ok = False
        return ok


# What each kind's page says and which fields it asks, in the order shown.
KIND_FIELDS = {
    DEPARTURE: ("destination", "leave_on", "months", "work", "fixed_place", "instrument", "contact",
                "body"),
    RETURN: ("body", "orglife_away"),
    THOUGHT: ("body",),
}
BODY_LABELS = {DEPARTURE: "其他需要说明的情况（选填）", RETURN: "在外期间的主要情况",
               THOUGHT: "思想汇报"}
TITLES = {kind: KIND_LABELS[kind] for kind in REPORT_KINDS}
