"""台账 (issue 14, branch): GET /app/editor/ledger.xlsx, the branch's ledger as an Excel
workbook, one row per member (role member), ordered by username (no ranking, no points).

A row: username, study buddy, the last contact a buddy noted, the last organisational
life, this year's reports by kind and the day of the last report, this year's study
minutes (Beijing calendar year) and how far they go towards the yearly study target.
The target is a number the branch sets (STUDY_TARGET_HOURS, MINUTES_PER_STUDY_HOUR), not
a rule of the documents this site holds: the workbook says so above the table.

The workbook holds personal data: every download is an audit row (export_ledger, with the
number of rows only). Text from members (usernames) is always written as text, never as a
formula, whatever it starts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from forms_app import audit, db
from forms_app.branch import risk
from forms_app.editor import editor_required
from forms_app.extensions import client_ip
from forms_app.forms import beijing_today
from forms_app.models import OrgLife, StudyLog, Submission, User, utcnow
from forms_app.pairs import contacts
from forms_app.pairs.care import _last_days
from forms_app.states import KIND_LABELS, REPORT_KINDS
from forms_app.working_days import beijing

bp = Blueprint("ledger", __name__, url_prefix="/app")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_RECORD = "无记录"
NO_BUDDY = "未结对"
CHUNK = 500  # user ids per IN list: well below SQLite's and PostgreSQL's parameter limits
HEADERS = ("用户名", "帮学联系人", "最近一次联系", "最近一次组织生活",
           *(f"本年{KIND_LABELS[k]}（份）" for k in REPORT_KINDS), "最近一次报告",
           "本年学习时长（分钟）", "折合学时", "年度学习目标完成")
FIRST_DATA_ROW = 3  # row 1: the note on the target, row 2: the headers
WIDTHS = (16, 16, 14, 16, 14, 14, 14, 14, 18, 10, 16)
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class LedgerRow:
    username: str
    buddy: str | None
    last_contact: date | None
    last_orglife: date | None
    reports: tuple[int, ...]  # this year, per REPORT_KINDS
    last_report: date | None
    minutes: int  # this year


def _chunked(look_up, ids: list[int]) -> dict[int, date]:
    """A per-member look-up of the care list, over all members a chunk of ids at a time."""
    found: dict[int, date] = {}
    for i in range(0, len(ids), CHUNK):
        found.update(look_up(ids[i:i + CHUNK]))
    return found


def ledger_rows(s: Session, today: date) -> list[LedgerRow]:
    buddy = aliased(User)
    members = s.execute(select(User.id, User.username, buddy.username)
                        .outerjoin(buddy, User.buddy_id == buddy.id)
                        .where(User.role == "member", User.mobile.is_(True))
                        .order_by(User.username)).all()
    ids = [uid for uid, _, _ in members]
    # The same look-ups as the buddy's care list (forms_app/pairs/care.py) and 断线提醒.
    contact = _chunked(lambda chunk: contacts.last_contacts(s, chunk), ids)
    orglife = _chunked(lambda chunk: _last_days(s, OrgLife.day, OrgLife.user_id, chunk), ids)
    year = date(today.year, 1, 1)
    minutes = dict(s.execute(
        select(StudyLog.user_id, func.sum(StudyLog.minutes))
        .where(StudyLog.day >= year, StudyLog.day < date(today.year + 1, 1, 1))
        .group_by(StudyLog.user_id)).all())
    counted = (Submission.kind.in_(REPORT_KINDS), Submission.user_id.is_not(None),
               Submission.state.not_in(risk.NOT_COUNTED))
    counts: dict[tuple[int, str], int] = {
        (uid, kind): n for uid, kind, n in s.execute(
            select(Submission.user_id, Submission.kind, func.count())
            .where(*counted, Submission.created_at >= risk._utc(year),
                   Submission.created_at < risk._utc(date(today.year + 1, 1, 1)))
            .group_by(Submission.user_id, Submission.kind))}
    last_report = {uid: beijing(at).date() for uid, at in s.execute(
        select(Submission.user_id, func.max(Submission.created_at)).where(*counted)
        .group_by(Submission.user_id))}
    return [LedgerRow(name, buddy_name, contact.get(uid), orglife.get(uid),
                      tuple(counts.get((uid, kind), 0) for kind in REPORT_KINDS),
                      last_report.get(uid), int(minutes.get(uid) or 0))
            for uid, name, buddy_name in members]


def target_note(hours: int, per_hour: int) -> str:
    return (f"年度学习目标为支部在本站设置的数字（当前 {hours} 学时，每学时按 {per_hour} 分钟计），"
            "不是本站收录文件的规定。")


def text_cell(cell: Cell, value: str) -> Cell:
    """Member text as a text cell, never a formula: a value starting with = + - or @ is
    stored as a string with Excel's quote prefix (shown as typed, stays text on edit)."""
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.data_type = "s"
    if value[:1] in ("=", "+", "-", "@"):
        cell.quotePrefix = True
    return cell


def _day(ws: Worksheet, row: int, column: int, value: date | None) -> None:
    if value is None:
        ws.cell(row, column, NO_RECORD)
    else:
        ws.cell(row, column, value).number_format = DATE_FORMAT


def _members_sheet(ws: Worksheet, rows: list[LedgerRow], hours: int, per_hour: int) -> None:
    ws.title = "台账"
    note = ws.cell(1, 1, target_note(hours, per_hour) + f"“{NO_RECORD}”表示本站没有这项记录。")
    note.font = Font(bold=True)
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws.row_dimensions[1].height = 36
    for column, header in enumerate(HEADERS, 1):
        ws.cell(2, column, header).font = Font(bold=True)
    target = hours * per_hour
    for r, item in enumerate(rows, FIRST_DATA_ROW):
        text_cell(ws.cell(r, 1), item.username)
        text_cell(ws.cell(r, 2), item.buddy or NO_BUDDY)
        _day(ws, r, 3, item.last_contact)
        _day(ws, r, 4, item.last_orglife)
        for i, n in enumerate(item.reports):
            ws.cell(r, 5 + i, n)
        _day(ws, r, 5 + len(REPORT_KINDS), item.last_report)
        column = 6 + len(REPORT_KINDS)
        ws.cell(r, column, item.minutes)
        ws.cell(r, column + 1, round(item.minutes / per_hour, 1)).number_format = "0.0"
        share = ws.cell(r, column + 2, round(item.minutes / target, 4) if target else None)
        share.number_format = "0%"
    for column, width in enumerate(WIDTHS, 1):
        ws.column_dimensions[ws.cell(2, column).column_letter].width = width
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 2)


def _rules_sheet(ws: Worksheet, today: date, generated: datetime, by: str, count: int,
                 hours: int, per_hour: int) -> None:
    ws.title = "统计口径"
    lines: list[tuple[str, Any]] = [
        ("生成时间（北京时间）", generated.strftime("%Y-%m-%d %H:%M")),
        ("导出人", by),
        ("党员人数", count),
        ("统计年度", f"{today.year}年1月1日至{today.year}年12月31日（北京时间），计到生成时"),
        ("年度学习目标", target_note(hours, per_hour)),
        ("成员", "本站角色为党员的账号，每人一行，按用户名排列；不排名、不打分。"),
        ("最近一次联系", "帮学联系人在本站记下的最近一次联系（电话、微信、云谈话、上门）的日期。"),
        ("最近一次组织生活", "本人或帮学联系人在本站登记的最近一次组织生活的日期，含尚未确认的。"),
        ("本年报告", "本年收到的外出报告、返回报告、思想汇报份数，不含已撤回的；"
                     "本人删除的报告不再计入。"),
        ("最近一次报告", "上述三类报告中最近一份的报送日期，不限年度。"),
        ("本年学习时长", "本年学习记录的分钟数之和，按学习日期计，含尚未确认的；上一年的不计。"),
        ("折合学时", f"学习分钟数除以 {per_hour}，保留一位小数。"),
        ("年度学习目标完成", f"学习分钟数除以 {hours * per_hour} 分钟（{hours} 学时）。"),
        ("“无记录”", "本站没有这项记录；不等于没有参加，可能是没有在本站登记。"),
        ("个人信息", "本表含个人信息，仅供支部工作使用，请妥善保管，用完删除；"
                     "每次下载都记入审计日志。"),
    ]
    for r, (key, value) in enumerate(lines, 1):
        ws.cell(r, 1, key).font = Font(bold=True)
        if isinstance(value, str):
            text_cell(ws.cell(r, 2), value).alignment = Alignment(wrap_text=True)
        else:
            ws.cell(r, 2, value)
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 80


def workbook(rows: list[LedgerRow], today: date, generated: datetime, by: str,
             hours: int, per_hour: int) -> bytes:
    book = Workbook()
    _members_sheet(book.active, rows, hours, per_hour)
    _rules_sheet(book.create_sheet(), today, generated, by, len(rows), hours, per_hour)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def disposition(today: date) -> str:
    """attachment with an ASCII name for old clients and the Chinese one (RFC 6266)."""
    day = today.isoformat()
    return (f'attachment; filename="ledger-{day}.xlsx"; '
            f"filename*=UTF-8''{quote(f'台账-{day}.xlsx')}")


@bp.get("/editor/ledger.xlsx")
@editor_required
def download():
    s = db.session()
    today = beijing_today()
    rows = ledger_rows(s, today)
    hours = int(current_app.config["STUDY_TARGET_HOURS"])
    per_hour = int(current_app.config["MINUTES_PER_STUDY_HOUR"]) or 45
    data = workbook(rows, today, beijing(utcnow()), current_user.username, hours, per_hour)
    audit.record(s, audit.actor_name(current_user), "export_ledger", ip=client_ip(),
                 detail=f"{len(rows)} rows")
    s.commit()
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": disposition(today)})
