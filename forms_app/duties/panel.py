"""不断线: the panel at the top of a member's 我的 page (last organisational life and the
six-month line, last study, last report, dues, the next 思想汇报, the 活动证's dates), and
the small form where the member declares dues, the card's issue date and whether they are
a school's graduate away (思想汇报 every half year). No ranking, no points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import BooleanField, DateField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from forms_app import audit, db, working_days
from forms_app.duties import dates as duties
from forms_app.duties import orglife
from forms_app.extensions import client_ip
from forms_app.forms import Form, beijing_today
from forms_app.models import StudyLog, Submission, User
from forms_app.states import KIND_LABELS, REPORT_KINDS, THOUGHT

bp = Blueprint("my_duties", __name__, url_prefix="/app")
CARD_EARLIEST = date(1994, 1, 1)  # the 活动证 was introduced in 1994
GRADUATE_MONTHS, DEFAULT_MONTHS = 6, 12
# The report form is another module's (/app/report); linked by path so 我的 does not
# depend on its endpoint name.
REPORT_URL = "/app/report"
THOUGHT_URL = "/app/report?kind=thought"


@dataclass(frozen=True)
class Panel:
    six: duties.SixMonths
    last_study: date | None
    last_report: date | None
    last_report_kind: str | None
    thought: duties.Thought
    dues: duties.Dues
    card: duties.Card | None


def _beijing_day(moment) -> date | None:
    return working_days.beijing(moment).date() if moment else None


def panel(s: Session, user: User, today: date | None = None) -> Panel:
    today = today or beijing_today()
    last_study = s.scalar(select(func.max(StudyLog.day)).where(StudyLog.user_id == user.id))
    # A report the member withdrew never reached the branch: it counts for nothing here.
    sent = (Submission.user_id == user.id, Submission.state != "withdrawn")
    report = s.execute(select(Submission.created_at, Submission.kind).where(
        *sent, Submission.kind.in_(REPORT_KINDS))
        .order_by(Submission.created_at.desc()).limit(1)).first()
    last_thought = s.scalar(select(func.max(Submission.created_at)).where(
        *sent, Submission.kind == THOUGHT))
    return Panel(
        six=duties.six_months(orglife.last_day(s, user.id), today),
        last_study=last_study,
        last_report=_beijing_day(report[0]) if report else None,
        last_report_kind=KIND_LABELS.get(report[1]) if report else None,
        thought=duties.next_thought(_beijing_day(last_thought),
                                    user.thought_every_months or DEFAULT_MONTHS, today),
        dues=duties.dues(user.dues_paid_until, today),
        card=duties.card(user.card_issued_on, today) if user.card_issued_on else None,
    )


def panel_context(s: Session, user: User) -> dict:
    """What members/_duties_panel.html needs, for the 我的 view to pass on."""
    return {"panel": panel(s, user), "cn_date": duties.cn_date,
            "six_faq": duties.SIX_MONTHS_FAQ, "thought_url": THOUGHT_URL,
            "report_url": REPORT_URL}


def _card_day_ok(form: Form, field: DateField) -> None:
    if field.data and field.data > beijing_today():
        raise ValidationError("发证日期不能晚于今天。")
    if field.data and field.data < CARD_EARLIEST:
        raise ValidationError("请填写 1994 年以后的日期。")


class DutiesForm(Form):
    dues_year = SelectField("年份", choices=[], validate_choice=False)
    dues_month = SelectField("月份", choices=[], validate_choice=False)
    card_issued_on = DateField("《流动党员活动证》发证日期（没有活动证的不填）",
                               validators=[Optional(), _card_day_ok])
    graduate = BooleanField("我是学校的毕业生党员，组织关系留在学校、离校在外"
                            "（思想汇报每半年一次）")
    submit = SubmitField("保存")

    def fill_choices(self, today: date) -> None:
        years = range(today.year + 1, today.year - 11, -1)
        self.dues_year.choices = [SelectChoice("", "（不填）")] + [
            SelectChoice(str(y), f"{y}年") for y in years]
        self.dues_month.choices = [SelectChoice("", "（不填）")] + [
            SelectChoice(str(m), f"{m}月") for m in range(1, 13)]

    def validate_dues_year(self, field: SelectField) -> None:
        known = {c.value for c in field.choices}
        field.data = field.data or ""  # left out of the POST: not declared
        self.dues_month.data = self.dues_month.data or ""
        if field.data not in known:
            raise ValidationError("请从列表中选择年份。")
        if bool(field.data) != bool(self.dues_month.data):
            raise ValidationError("请同时选择年份和月份；都不填表示不记录党费。")

    def validate_dues_month(self, field: SelectField) -> None:
        if field.data not in {c.value for c in field.choices}:
            raise ValidationError("请从列表中选择月份。")

    def paid_until(self) -> date | None:
        if not (self.dues_year.data and self.dues_month.data):
            return None
        return date(int(self.dues_year.data), int(self.dues_month.data), 1)


@bp.route("/me/duties", methods=["GET", "POST"])
@login_required
def declare():
    s = db.session()
    user = s.get(User, current_user.id)
    today = beijing_today()
    form = DutiesForm()
    form.fill_choices(today)
    if request.method == "GET":
        if user.dues_paid_until:
            form.dues_year.data = str(user.dues_paid_until.year)
            form.dues_month.data = str(user.dues_paid_until.month)
        form.card_issued_on.data = user.card_issued_on
        form.graduate.data = user.thought_every_months == GRADUATE_MONTHS
    if form.validate_on_submit():
        paid = form.paid_until()
        if paid and duties.months_between(today, paid) > 12:
            form.dues_year.errors.append("党费最多预交到一年以后，请核对年份和月份。")
        else:
            user.dues_paid_until = paid
            user.card_issued_on = form.card_issued_on.data
            user.thought_every_months = GRADUATE_MONTHS if form.graduate.data \
                else DEFAULT_MONTHS
            audit.record(s, audit.actor_name(user), "declare_duties", ip=client_ip())
            s.commit()
            flash("已保存。", "success")
            return redirect(url_for("members.mine"), 303)
    return render_template("members/duties.html", form=form), 400 if form.errors else 200
