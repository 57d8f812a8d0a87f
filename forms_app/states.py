"""The queue's states and the actions that move an item between them, in one place.

Every state change of a submission goes through `apply()` in forms_app/moderation.py,
which looks the action up here; a view never sets `state` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

QUESTION, VOICE = "question", "voice"
# A member's private reports to the branch (signed in) and 三个必访 help requests (anyone):
# never exported to content/, never published, seen by editors and the member's buddy.
DEPARTURE, RETURN, THOUGHT, HELP = "departure", "return", "thought", "help"
REPORT_KINDS = (DEPARTURE, RETURN, THOUGHT)
PRIVATE_KINDS = (*REPORT_KINDS, HELP)
# Kinds an editor must act on within the working days of ANSWER_WORKING_DAYS.
DUE_KINDS = (QUESTION, *PRIVATE_KINDS)
KIND_LABELS = {QUESTION: "电子信箱", VOICE: "流动党员之声", DEPARTURE: "外出报告",
               RETURN: "返回报告", THOUGHT: "思想汇报", HELP: "三个必访"}

STATE_LABELS = {
    "received": "已登记，待处理",
    "referred": "呈报批示中",
    "changes_requested": "请作者修改",
    "answered": "已答复",
    "approved": "已采用，待发布",
    "published": "已发布",
    "rejected": "未采用",
    "spam": "垃圾信息",
    "withdrawn": "已撤回",
    "archived": "已归档",
    "visited": "已走访",  # a 三个必访 help request: the branch visited or called
    "acknowledged": "支部已阅",  # a report to the branch: an editor read and recorded it
}
# Items an editor still has to act on; the queue shows these first.
OPEN_STATES = ("received", "referred", "changes_requested")


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    kinds: tuple[str, ...]
    sources: tuple[str, ...]
    target: str
    by_member: bool = False
    needs_text: bool = False  # answer text or reason


BOTH = (QUESTION, VOICE)
ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("answer", "答复", (QUESTION,), ("received", "referred"), "answered",
           needs_text=True),
    Action("refer", "呈报批示", (QUESTION,), ("received",), "referred"),
    Action("resume", "批示已返回", (QUESTION,), ("referred",), "received"),
    Action("approve", "采用", (VOICE,), ("received", "changes_requested"), "approved"),
    # From approved too: an article Publish refused can go back to its author or be declined.
    Action("request_changes", "请作者修改", (VOICE,), ("received", "approved"),
           "changes_requested", needs_text=True),
    Action("reject", "不予采用", BOTH, ("received", "referred", "changes_requested", "approved"),
           "rejected", needs_text=True),
    Action("spam", "标为垃圾信息", (*BOTH, HELP), ("received", "referred", "changes_requested"),
           "spam"),
    Action("publish", "发布到网站", BOTH, ("approved", "answered"), "published"),
    Action("archive", "归档", (*BOTH, HELP),
           ("answered", "published", "rejected", "spam", "withdrawn", "visited"), "archived"),
    Action("withdraw", "撤回", (*BOTH, HELP, *REPORT_KINDS),
           ("received", "referred", "changes_requested", "approved"), "withdrawn",
           by_member=True),
    # 三个必访: the editor records the visit or call (date, who, outcome) on its own form
    # (forms_app/help_requests.py), never from the item page's generic buttons.
    Action("record_visit", "记录走访", (HELP,), ("received",), "visited"),
    # A report to the branch (forms_app/duties/reports.py): read and recorded within two
    # working days.
    Action("acknowledge", "已阅并记录", REPORT_KINDS, ("received",), "acknowledged"),
    # After a visit the member says the trouble is not over: back in the queue, due again.
    Action("reopen", "问题还没解决，请再联系我", (HELP,), ("visited",), "received",
           by_member=True),
    Action("revise", "修改后重新提交", (VOICE,), ("changes_requested",), "received",
           by_member=True),
)}
BULK_ACTIONS = ("approve", "reject", "spam", "archive")
# The states the queue's count table shows, and which of them each kind can be in.
COUNT_STATES = ("received", "referred", "changes_requested", "answered", "approved",
                "published", "rejected", "acknowledged", "visited")


def _reachable(kind: str) -> frozenset[str]:
    """The states an item of this kind can reach from received through its actions."""
    seen, todo = {"received"}, ["received"]
    while todo:
        state = todo.pop()
        for a in ACTIONS.values():
            if kind in a.kinds and state in a.sources and a.target not in seen:
                seen.add(a.target)
                todo.append(a.target)
    return frozenset(seen)


KIND_STATES = {kind: _reachable(kind) for kind in KIND_LABELS}

# Fixed reasons an editor can pick when declining, for each kind its own: an article's are
# about the column, a question's about what the mailbox answers. The asker or author reads
# the reason on their tracking page; a fixed reason may also stay in the audit log.
VOICE_REJECT_REASONS = (
    "与流动党员之声栏目主题无关",
    "内容与已发表文章重复",
    "涉及他人个人信息，不宜公开",
    "事实或政策表述有误，请核实后再投",
)
QUESTION_REJECT_REASONS = (
    "不属于本网站答复范围，请向当地党组织或有关部门咨询",
    "问题已在政策问答中解答，请查阅相关条目",
    "内容无法辨认，请写清楚后重新提问",
)
REJECT_REASONS_BY_KIND = {VOICE: VOICE_REJECT_REASONS, QUESTION: QUESTION_REJECT_REASONS}
# Every fixed reason of either kind.
REJECT_REASONS = VOICE_REJECT_REASONS + QUESTION_REJECT_REASONS


def allowed(action: str, kind: str, state: str) -> bool:
    a = ACTIONS.get(action)
    return a is not None and kind in a.kinds and state in a.sources


def available(kind: str, state: str, by_member: bool = False) -> list[Action]:
    return [a for a in ACTIONS.values()
            if a.by_member == by_member and kind in a.kinds and state in a.sources]
