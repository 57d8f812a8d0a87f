"""The append-only audit log: logins, refusals, moderation, reveals, exports."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from forms_app.models import AuditEntry, Submission

log = logging.getLogger(__name__)

ACTION_LABELS = {
    "submit": "提交", "answer": "答复", "refer": "呈报批示", "resume": "批示返回",
    "approve": "采用", "request_changes": "请作者修改", "reject": "不予采用",
    "spam": "标为垃圾信息", "publish": "发布到网站", "archive": "归档", "withdraw": "撤回",
    "revise": "作者修改后重新提交", "erase": "删除个人信息", "reveal": "查看完整个人信息",
    "login": "登录", "login_failed": "登录失败", "logout": "退出登录", "export": "导出",
    "confirm_study": "确认学习记录", "password": "修改密码", "pair": "结对帮学",
}
# What a member sees of an item's history on its tracking page (never who or where).
PUBLIC_LABELS = {
    "submit": "已登记", "answer": "已答复", "refer": "呈报领导批示",
    "resume": "批示已返回，继续办理", "approve": "已采用",
    "request_changes": "请作者修改", "reject": "未采用",
    "publish": "已发布到网站", "withdraw": "已撤回", "revise": "作者已修改",
    "erase": "个人信息已删除", "archive": "已归档",
}


def record(session: Session, actor: str, action: str, ip: str | None = None,
           item: Submission | None = None, from_state: str | None = None,
           to_state: str | None = None, detail: str | None = None) -> None:
    """Add one row to the session's transaction; the caller commits."""
    session.add(AuditEntry(actor=actor[:40], ip=ip, action=action,
                           submission_id=item.id if item is not None else None,
                           from_state=from_state, to_state=to_state, detail=detail))
    log.info("audit %s %s item=%s %s->%s", actor, action,
             item.id if item is not None else "-", from_state, to_state)
