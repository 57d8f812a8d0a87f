"""Editors' moderation: the queue, one item, bulk actions, reveals, publish. The editors'
pages about people (study logs, pairs, the audit log) are in forms_app/editor_people.py."""

from __future__ import annotations

import functools
import time
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from forms_app import audit, basis_pick, db, disclosure, help_requests, moderation, publish
from forms_app.extensions import client_ip, login_manager
from forms_app.forms import ConfirmForm, ItemActionForm, PublicTextForm, choices
from forms_app.models import AuditEntry, StudyLog, Submission
from forms_app.states import (
    ACTIONS,
    BULK_ACTIONS,
    KIND_LABELS,
    OPEN_STATES,
    REJECT_REASONS_BY_KIND,
    STATE_LABELS,
    available,
)

bp = Blueprint("editor", __name__, url_prefix="/app/editor")
PAGE_SIZE = 50


def editor_required(view):
    """Anonymous → the login page; a signed-in member → 403."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_editor:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @functools.wraps(view)
    @editor_required
    def wrapped(*args, **kwargs):
        if current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


COUNTS_SECONDS = 60


def _counts(s: Session) -> tuple[dict[tuple[str, str], int], int]:
    """Counts per kind and state, and how many items Publish would export. Counting a
    million rows takes a while, so each worker keeps its last count while nothing has
    happened since: every editor's action writes an audit row and every submission a row,
    so the newest of each (two primary-key lookups) tells any worker, not only the one that
    acted, that its counts are stale. At most COUNTS_SECONDS old otherwise (a purge)."""
    changed = (s.scalar(select(func.max(AuditEntry.id))),
               s.scalar(select(func.max(Submission.id))))
    cached = current_app.extensions.get("dx_counts")
    if cached and cached[1] == changed and time.monotonic() - cached[0] < COUNTS_SECONDS:
        return cached[2]
    rows = s.execute(select(Submission.kind, Submission.state, func.count())
                     .group_by(Submission.kind, Submission.state)).all()
    result = ({(kind, state): n for kind, state, n in rows}, publish.pending_count(s))
    current_app.extensions["dx_counts"] = (time.monotonic(), changed, result)
    return result


def _page(s: Session, query, after: tuple[datetime, int] | None) -> list[Submission]:
    if after:
        # A row-value comparison is one index range on (due_at, id), at any depth.
        query = query.where(tuple_(Submission.due_at, Submission.id) > tuple_(*after))
    return list(s.scalars(query.order_by(Submission.due_at, Submission.id)
                          .limit(PAGE_SIZE + 1)).all())


def _parse_after(value: str | None) -> tuple[datetime, int] | None:
    try:
        stamp, _, ident = (value or "").rpartition("_")
        return datetime.fromisoformat(stamp), int(ident)
    except ValueError:
        return None


@bp.get("/")
@editor_required
def queue():
    """Oldest-due first, 50 a page, keyset-paged on (due_at, id) so any depth is fast."""
    s = db.session()
    kind = request.args.get("kind", "")
    state = request.args.get("state", "open")
    query = select(Submission)
    if kind in KIND_LABELS:
        query = query.where(Submission.kind == kind)
    after = _parse_after(request.args.get("after"))
    states = OPEN_STATES if state == "open" else (state,) if state in STATE_LABELS else ()
    # 三个必访 help requests come first among open items, on the first page.
    first = []
    if state == "open" and kind not in KIND_LABELS:
        first = help_requests.open_first(s, PAGE_SIZE) if after is None else []
        query = query.where(Submission.kind != help_requests.HELP)
    if states:
        # One index range per state, merged here: an IN list would make the database sort
        # every open item before it could return the first 50.
        items = sorted((i for st in states
                        for i in _page(s, query.where(Submission.state == st), after)),
                       key=lambda i: (i.due_at, i.id))[:PAGE_SIZE + 1]
    else:
        items = _page(s, query, after)
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    items = first + items
    next_after = f"{items[-1].due_at.isoformat()}_{items[-1].id}" if more else None
    unconfirmed = s.scalar(select(func.count()).select_from(StudyLog)
                           .where(StudyLog.confirmed_at.is_(None)))
    counts, publishable = _counts(s)
    refused = s.scalars(select(Submission).where(Submission.publish_error.is_not(None),
                                                 Submission.state.in_(("approved", "answered")))
                        .order_by(Submission.id).limit(PAGE_SIZE)).all()
    return render_template(
        "editor/queue.html", items=items, counts=counts, kind=kind, state=state,
        next_after=next_after, due_status=moderation.due_status, form=ConfirmForm(),
        # Filtered to one kind, only the bulk actions that kind has (none for reports).
        bulk_actions=[ACTIONS[a] for a in BULK_ACTIONS
                      if kind not in KIND_LABELS or kind in ACTIONS[a].kinds],
        unconfirmed=unconfirmed,
        reasons=_bulk_reasons(kind), publishable=publishable, refused=refused,
        needs_basis=publish.needs_basis(s, PAGE_SIZE),
        to_confirm=publish.unconfirmed_count(s), rebuild=publish.last_rebuild(s),
        rebuilding=_rebuilding())


def _bulk_reasons(kind: str) -> list[tuple[str, tuple[str, ...]]]:
    """[(kind label, reasons), ...] for the queue's bulk 不予采用: the filtered kind's own,
    or each kind's under its name."""
    kinds = [kind] if kind in REJECT_REASONS_BY_KIND else list(REJECT_REASONS_BY_KIND)
    return [(KIND_LABELS[k], REJECT_REASONS_BY_KIND[k]) for k in kinds]


# Actions whose text is a reason the author or asker reads: a fixed reason may stand for it.
PRESET_ACTIONS = ("reject", "request_changes")
# Actions with fields of their own, posted to their own route (not the generic buttons).
OWN_FORM_ACTIONS = ("record_visit",)


def _rebuilding() -> bool:
    thread = current_app.extensions.get("dx_rebuild")
    return bool(thread and thread.is_alive())


def _item(item_id: int) -> Submission:
    item = db.session().get(Submission, item_id)
    if item is None:
        abort(404)
    return item


def _render_item(item: Submission, form: ItemActionForm | None = None,
                 revealed: bool = False, status: int = 200,
                 public: PublicTextForm | None = None):
    s = db.session()
    history = s.scalars(select(AuditEntry).where(AuditEntry.submission_id == item.id)
                        .order_by(AuditEntry.id)).all()
    form = form or ItemActionForm(version=item.version)
    # Each kind only its own reasons; the box for free text is above this list.
    form.preset.choices = choices([("", "（不选：用上面框里写的文字）")] +
                                  [(r, r) for r in REJECT_REASONS_BY_KIND.get(item.kind, ())])
    proposal, public_form = disclosure.panel(item, public)
    picker = None if public_form is None else basis_pick.picker(
        public_form.basis.data or [], public_form.answer.data)
    actors = audit.actor_labels(s, history)
    for entry in history:  # someone with the tracking code: this item's asker or author
        if entry.actor in audit.CODE_HOLDER_LABELS:
            actors[entry.id] = audit.CODE_HOLDER_LABELS[entry.actor][item.kind]
    actions = [a for a in available(item.kind, item.state)
               if a.name not in ("publish", *OWN_FORM_ACTIONS)]
    return render_template(
        "editor/item.html", item=item, history=history, form=form, revealed=revealed,
        actions=actions, presets=any(a.name in PRESET_ACTIONS for a in actions),
        due_status=moderation.due_status(item), action_labels=audit.ACTION_LABELS,
        confirm=ConfirmForm(), proposal=proposal, public_form=public_form, picker=picker,
        actors=actors), status


@bp.get("/item/<int:item_id>")
@editor_required
def item(item_id: int):
    return _render_item(_item(item_id))


@bp.post("/item/<int:item_id>")
@editor_required
def act(item_id: int):
    item = _item(item_id)
    form = ItemActionForm()
    form.preset.choices = choices([(r, r) for r in REJECT_REASONS_BY_KIND.get(item.kind, ())])
    if (not form.validate_on_submit() or form.action.data not in ACTIONS
            or form.action.data in OWN_FORM_ACTIONS):
        abort(400)
    action = ACTIONS[form.action.data]
    text = (form.text.data or "").strip()
    if not text and action.name in PRESET_ACTIONS:  # a reason, never an answer
        text = (form.preset.data or "").strip()
    if action.needs_text and not text:
        reader = "提问人" if item.kind == "question" else "作者"
        form.text.errors.append("请填写答复内容。" if action.name == "answer"
                                else f"请选择或填写理由，{reader}会看到它。")
        return _render_item(item, form, status=400)
    try:
        moderation.apply(db.session(), item.id, action.name, int(form.version.data),
                         current_user.username, client_ip(), text=text or None)
    except moderation.Conflict:
        db.session().expire_all()
        flash("这条内容刚被其他编辑处理过，您的操作没有保存。请看最新状态后再决定。", "error")
        return _render_item(_item(item_id), status=409)
    except moderation.NotAllowed:
        flash(f"当前状态下不能“{action.label}”。", "error")
        return _render_item(item, status=409)
    done = action.label if action.label.startswith("已") else "已" + action.label
    flash(f"{done}。", "success")
    return redirect(url_for("editor.item", item_id=item.id), 303)


@bp.post("/item/<int:item_id>/public")
@editor_required
def confirm_public(item_id: int):
    """The editor confirms the question and answer as the public FAQ will show them, with
    the clauses the answer rests on. Text that still holds personal data is shown again,
    marked, instead of being stored; no clause, or one not in content/basis/, is refused."""
    item = _item(item_id)
    form = PublicTextForm()
    if not form.validate_on_submit() or not form.version.data.isdigit():
        return _render_item(item, public=form, status=400)
    again = disclosure.propose(item, form.question.data, form.answer.data, form.title.data)
    if again.removed:
        flash(f"修改后的文字里还有 {again.removed} 处个人信息，已标出并隐去，请再核对一次。",
              "error")
        return _render_item(item, public=form, status=400)
    try:
        disclosure.confirm(db.session(), item, int(form.version.data), form.title.data,
                           form.question.data, form.answer.data,
                           basis_pick.citations(form.basis.data), current_user.username,
                           client_ip())
    except disclosure.Conflict:
        db.session().expire_all()
        flash("这条内容刚被其他编辑处理过，您的确认没有保存。请看最新状态后再决定。", "error")
        return _render_item(_item(item_id), status=409)
    current_app.extensions.pop("dx_counts", None)
    flash("已确认公开内容，下次“发布到网站”时发布。", "success")
    return redirect(url_for("editor.item", item_id=item.id), 303)


@bp.post("/item/<int:item_id>/reveal")
@editor_required
def reveal(item_id: int):
    """Show the full personal data once; the reveal is written to the audit log."""
    item = _item(item_id)
    s = db.session()
    audit.record(s, current_user.username, "reveal", ip=client_ip(), item=item)
    s.commit()
    return _render_item(item, revealed=True)


@bp.post("/bulk")
@editor_required
def bulk():
    action = request.form.get("action", "")
    if action not in BULK_ACTIONS:  # the CSRF token was checked by CSRFProtect
        abort(400)
    reason = (request.form.get("reason") or "").strip()
    if ACTIONS[action].needs_text and not reason:
        flash("批量不予采用需要选择理由。", "error")
        return redirect(url_for("editor.queue"), 303)
    selected = [value.partition(":") for value in request.form.getlist("item")[:PAGE_SIZE]]
    selected = [(ident, version) for ident, _, version in selected
                if ident.isdigit() and version.isdigit()]
    # A fixed reason of one kind is not sent to the other's askers or authors.
    fits = {k for k, reasons in REJECT_REASONS_BY_KIND.items() if reason in reasons}
    kinds = {ident: kind for ident, kind in db.session().execute(
        select(Submission.id, Submission.kind).where(
            Submission.id.in_([int(i) for i, _ in selected])))} if fits and selected else {}
    done = skipped = 0
    for ident, version in selected:
        if fits and kinds.get(int(ident)) not in fits:
            skipped += 1
            continue
        try:
            moderation.apply(db.session(), int(ident), action, int(version),
                             current_user.username, client_ip(), text=reason or None)
            done += 1
        except (moderation.Conflict, moderation.NotAllowed):
            skipped += 1
    message = f"已{ACTIONS[action].label} {done} 条。"
    if skipped:
        message += f"{skipped} 条已被他人处理或不适用，未改动。"
    flash(message, "success" if not skipped else "error")
    return redirect(url_for("editor.queue"), 303)


@bp.get("/publish")
@editor_required
def publish_confirm():
    """What 发布到网站 will write into content/ and take down, to look over before the POST
    that does it (publish_now): a confirmation that works without JavaScript."""
    s = db.session()
    items = s.scalars(select(Submission).where(publish._PENDING)
                      .order_by(Submission.id).limit(PAGE_SIZE * 4)).all()
    removals = s.scalars(select(Submission).where(publish._TO_REMOVE)
                         .order_by(Submission.id).limit(PAGE_SIZE * 4)).all()
    return render_template("editor/publish.html", items=items, removals=removals,
                           total=publish.pending_count(s), form=ConfirmForm(),
                           to_confirm=publish.unconfirmed_count(s), rebuilding=_rebuilding())


@bp.post("/publish")
@editor_required
def publish_now():
    result = publish.publish(db.session(), current_user.username, client_ip())
    current_app.extensions.pop("dx_counts", None)
    if result.push_error:  # CONTENT_REMOTE: nothing published, everything still pending
        flash(result.push_error, "error")
        return redirect(url_for("editor.queue"), 303)
    done = len(result.files) + len(result.removed)
    if done and result.rebuilding:
        flash(f"已写入 {len(result.files)} 条" + (f"、撤下 {len(result.removed)} 条"
              if result.removed else "") + "，正在重新生成网站；页面生成后才显示为“已发布”。"
              "刷新本页可看到生成结果。", "success")
    elif done:
        flash(f"已发布 {len(result.files)} 条到网站" + (
            f"，撤下 {len(result.removed)} 条" if result.removed else "") + "。", "success")
    elif not result.refused:
        flash("没有待发布的内容。", "success")
    if result.refused:
        flash(f"{len(result.refused)} 条未能发布，仍留在队列中，原因见下方“未能发布”。", "error")
    if result.git_error:
        flash(f"内容已写入，但提交到内容版本库失败：{result.git_error}", "error")
    return redirect(url_for("editor.queue"), 303)
