"""送学上门 (代记): the study buddy brings the lesson to a member who cannot use a phone
and logs the session for them. The form is the member's own study form
(forms_app/forms.py StudyForm: same fields, same checks) without the way of study, which is
always 送学上门, and without the reflection, which is the member's own words.

The log is the member's (user_id), with logged_by_id the buddy, and it counts as confirmed
by the buddy: they were there. Wherever the member's logs show, it reads
“代记（帮学联系人 X 记录）”.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import SubmitField

from forms_app.forms import StudyForm
from forms_app.models import StudyLog, utcnow

MODE = "送学上门"
LIST_LIMIT = 200


class HomeStudyForm(StudyForm):
    mode = None  # fixed: MODE
    reflection = None  # the member's own words; a buddy does not write them
    submit = SubmitField("保存代记的学习记录")


def add(s: Session, form: HomeStudyForm, member_id: int, buddy_id: int) -> StudyLog:
    now = utcnow()
    log = StudyLog(user_id=member_id, day=form.day.data, lesson=form.lesson.data or None,
                   topic=(form.topic.data or "").strip() or None, minutes=form.minutes.data,
                   mode=MODE, form_key=form.form_key.data or None, logged_by_id=buddy_id,
                   confirmed_by_id=buddy_id, confirmed_at=now)
    s.add(log)
    return log


def logged_for(s: Session, member_id: int) -> list[StudyLog]:
    """The member's logs a buddy logged for them, newest first."""
    return list(s.scalars(select(StudyLog).where(
        StudyLog.user_id == member_id, StudyLog.logged_by_id.is_not(None))
        .order_by(StudyLog.day.desc(), StudyLog.id.desc()).limit(LIST_LIMIT)))


def logged_by_label(log: StudyLog) -> str:
    """“代记（帮学联系人 X 记录）” for a log a buddy logged, else empty."""
    if log.logged_by_id is None:
        return ""
    return f"代记（帮学联系人 {log.logged_by.username} 记录）"
