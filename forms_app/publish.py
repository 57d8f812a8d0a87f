"""Publish: approved articles and confirmed answers become YAML in content/, one git
commit with the editor as author, then a background rebuild of the site: first only the
pages that changed (generator/quick_build.py, seconds at 3,000 pages), then, with
FULL_BUILD_AFTER_PUBLISH, the whole site so every page's navigation lists the new ones,
once FULL_BUILD_DELAY seconds have passed without another Publish.

Idempotent by construction: an item's file name comes from its id and arrival date only,
files are replaced atomically, and an item is marked published only once its page is in
the rebuilt site. A crash at any point and a re-run export each item exactly once.

One item can never stop the others: each file is checked as `dangxiao check` would check
it before it is written; one that fails stays in the queue with the reason for the editor.
An answer's `basis:` is the clauses its editor picked on 公开前核对 (forms_app/basis_pick.py).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from forms_app import audit, basis_pick, content_git, moderation
from forms_app.lessons import content_dir
from forms_app.models import AuditEntry, Submission, utcnow
from forms_app.states import QUESTION, VOICE
from forms_app.working_days import beijing
from generator.build import DEFAULT_OUT, build_site
from generator.checks import check_new_file
from generator.errors import ContentError
from generator.markup import member_markdown
from generator.plaintext import one_line, visible
from generator.quick_build import quick_build

log = logging.getLogger(__name__)
REBUILD_ACTIONS = ("rebuild_ok", "rebuild_failed")
TAKE_DOWN_ACTOR = "网上党校"  # a removal the member asked for, done by the site itself

_PUBLISHABLE_QUESTION = and_(Submission.kind == QUESTION, Submission.state == "answered",
                             Submission.allow_publish.is_(True),
                             Submission.personal_erased_at.is_(None))
_PENDING = or_(
    and_(Submission.kind == VOICE, Submission.state == "approved",
         Submission.personal_erased_at.is_(None)),
    and_(_PUBLISHABLE_QUESTION, Submission.public_confirmed_at.is_not(None),
         Submission.public_basis.is_not(None)),
)
# Confirmed before editors picked a basis (migration 0004): confirmed again, with the
# clauses the answer rests on, before it is published.
_NEEDS_BASIS = and_(_PUBLISHABLE_QUESTION, Submission.public_confirmed_at.is_not(None),
                    Submission.public_basis.is_(None))
# Answered questions the asker allowed to publish that no editor has checked yet, or checked
# without a basis.
_UNCONFIRMED = and_(_PUBLISHABLE_QUESTION, or_(Submission.public_confirmed_at.is_(None),
                                               Submission.public_basis.is_(None)))
_TO_REMOVE = and_(Submission.remove_from_site.is_(True), Submission.published_path.is_not(None))


@dataclass
class PublishResult:
    files: list[str] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    commit: str | None = None
    git_error: str | None = None
    rebuilding: bool = False
    # With CONTENT_REMOTE: why nothing was published (the items stay pending), in Chinese.
    push_error: str | None = None


class _BlockDumper(yaml.SafeDumper):
    """Multi-line text as a literal block, as an editor would write it by hand."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=1000)


def _plain_block(text: str | None) -> str:
    """A member's plain text as the YAML keeps it: visible characters, Unix line breaks."""
    return "\n".join(line.rstrip() for line in visible(text or "").replace(
        "\r\n", "\n").strip().split("\n"))


def export(item: Submission) -> tuple[str, dict[str, Any]]:
    """(path inside content/, data) for one item: nothing personal; member text as plain
    text, member Markdown as what the sanitiser allows (generator/markup.py)."""
    day = beijing(item.created_at).date()
    if item.kind == VOICE:
        data = {"title": one_line(item.title or ""),
                "author": one_line(item.author or "") or "一名流动党员",
                "date": day.isoformat(), "body": member_markdown(item.body)}
        return f"voices/{day.isoformat()}-voice-{item.id}.yaml", data
    data = {"question": one_line(item.public_title or ""),
            "letter": _plain_block(item.public_question),
            "answer": member_markdown(item.public_answer or ""),
            "basis": basis_pick.stored(item.public_basis),
            "reviewed_on": beijing(item.updated_at).date().isoformat(),
            "tags": [item.category or "其他"]}
    return f"faq/mailbox-{item.id}.yaml", data


def write_atomic(path: Path, text: str) -> bool:
    """Replace path with text in one rename; False when it already holds exactly that."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Submission).where(
        or_(_PENDING, _TO_REMOVE))) or 0


def unconfirmed_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Submission)
                          .where(_UNCONFIRMED)) or 0


def needs_basis(session: Session, limit: int) -> list[Submission]:
    """Confirmed questions without a basis, oldest first: the queue lists them."""
    return list(session.scalars(select(Submission).where(_NEEDS_BASIS)
                                .order_by(Submission.id).limit(limit)).all())


def last_rebuild(session: Session):
    """The newest rebuild result in the audit log, or None."""
    return session.scalar(select(AuditEntry).where(AuditEntry.action.in_(REBUILD_ACTIONS))
                          .order_by(AuditEntry.id.desc()).limit(1))


def _inside(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if root not in target.parents:  # names come from ids, but never write outside
        raise RuntimeError(f"refusing to write outside content/: {rel}")
    return target


def _checked(root: Path, item: Submission) -> tuple[str, str, list[str]]:
    """(path, YAML text, reasons it cannot be published) for one item."""
    try:
        rel, data = export(item)
        text = dump_yaml(data)
        problems = check_new_file(root, rel, text)
    except Exception as exc:  # noqa: BLE001 - one broken item must not stop the rest
        log.exception("could not export item %s", item.id)
        return "", "", [f"导出失败：{type(exc).__name__}"]
    return rel, text, [f"{p.field}：{p.message}" for p in problems]


def _refuse(session: Session, item: Submission, reasons: list[str], editor: str,
            ip: str | None) -> None:
    message = "；".join(reasons)[:1000]
    session.execute(update(Submission).where(Submission.id == item.id)
                    .values(publish_error=message).execution_options(synchronize_session=False))
    audit.record(session, editor, "publish_refused", ip=ip, item=item)
    session.commit()


def _remove_erased(session: Session, root: Path) -> list[str]:
    """Take the files of items their members erased after publication out of content/."""
    removed = []
    for item in session.scalars(select(Submission).where(_TO_REMOVE)).all():
        target = _inside(root, item.published_path or "")
        target.unlink(missing_ok=True)
        removed.append(item.published_path or "")
    return removed


def _forget_removed(session: Session, removed: list[str], editor: str, ip: str | None) -> None:
    for item in session.scalars(select(Submission).where(_TO_REMOVE)).all():
        if item.published_path in removed:
            item.remove_from_site = False
            item.published_path = None
            audit.record(session, editor, "unpublish", ip=ip, item=item)
    session.commit()


def publish(session: Session, editor: str, ip: str | None) -> PublishResult:
    root = content_dir().resolve()
    with content_git.locked(root):
        return _publish(session, root, current_app.config.get("CONTENT_REMOTE") or "",
                        editor, ip)


def _publish(session: Session, root: Path, remote: str, editor: str,
             ip: str | None) -> PublishResult:
    result = PublishResult()
    if remote:  # first what the other servers published, so this commit goes on top of it
        result.push_error = content_git.pull(root, remote)
        if result.push_error:
            return result
    items = session.scalars(select(Submission).where(_PENDING).order_by(Submission.id)).all()
    written: list[tuple[int, int, str]] = []
    for item in items:
        rel, text, reasons = _checked(root, item)
        if reasons:
            _refuse(session, item, reasons, editor, ip)
            result.refused.append((item.id, "；".join(reasons)))
            continue
        write_atomic(_inside(root, rel), text)
        result.files.append(rel)
        written.append((item.id, item.version, rel))
    result.removed = _remove_erased(session, root)
    if result.files or result.removed:
        result.commit, result.git_error = content_git.commit(
            root, result.files + result.removed, editor)
        if remote:  # recorded as published only once it is on the remote
            result.push_error = result.git_error or content_git.push(root, remote)
            if result.push_error:
                result.commit = None
                return result
            result.commit = content_git.head(root)  # a rebase may have moved it
        _forget_removed(session, result.removed, editor, ip)
        audit.record(session, editor, "export", ip=ip, detail=(
            f"{len(result.files)} files, {len(result.removed)} removed, "
            f"commit {result.commit or '-'}"))
        session.commit()
        if current_app.config["REBUILD_AFTER_PUBLISH"]:
            result.rebuilding = True
            rebuild_in_background(root, written, editor, ip)
        else:  # the site is built elsewhere (a deploy job): the files are the publication
            mark_published(session, written, editor, ip)
    return result


def take_down(session: Session, ip: str | None) -> list[str]:
    """At once, when a member erases an item that is on the site: its file leaves content/
    (and git, committed as the site itself) and the site is rebuilt. An editor's Publish
    would do the same later; a member who asked to be deleted should not wait for one.
    With CONTENT_REMOTE, a removal that does not reach the remote stays pending for the
    next Publish."""
    root = content_dir().resolve()
    remote = current_app.config.get("CONTENT_REMOTE") or ""
    with content_git.locked(root):
        if remote and content_git.pull(root, remote):
            return []
        removed = _remove_erased(session, root)
        if not removed:
            return []
        _, error = content_git.commit(root, removed, TAKE_DOWN_ACTOR)
        if remote and (error or content_git.push(root, remote)):
            return []
        _forget_removed(session, removed, TAKE_DOWN_ACTOR, ip)
    if current_app.config["REBUILD_AFTER_PUBLISH"]:
        rebuild_in_background(root, [], TAKE_DOWN_ACTOR, ip)
    return removed


def mark_published(session: Session, written: list[tuple[int, int, str]], editor: str,
                   ip: str | None, site: Path | None = None) -> list[int]:
    """Mark each written item published (with site: only those whose page it holds)."""
    missing = []
    for ident, version, rel in written:
        if site is not None and not (site / site_page(rel)).is_file():
            missing.append(ident)
            continue
        try:
            moderation.apply(session, ident, "publish", version, editor, ip,
                             detail=rel, extra={"published_path": rel,
                                                "published_at": utcnow(),
                                                "publish_error": None})
        except (moderation.Conflict, moderation.NotAllowed):
            log.warning("item %s changed while it was published; left as it is", ident)
    return missing


def site_page(rel: str) -> str:
    """content/voices/x.yaml is the built site's voices/x.html."""
    return rel.removesuffix(".yaml") + ".html"


def _rebuild(app: Flask, content: Path, out: Path, written: list[tuple[int, int, str]],
             editor: str, ip: str | None) -> None:
    with app.app_context():
        session = app.extensions["db_sessions"]()
        try:
            try:
                built = quick_build(content, out)
            except ContentError as exc:
                first = "；".join(str(p) for p in exc.problems[:3])
                log.error("rebuild after publish refused by the check: %s", first)
                _rebuild_failed(session, editor, ip, written,
                                f"内容检查未通过（{len(exc.problems)} 个问题）：{first}")
                return
            except Exception as exc:  # noqa: BLE001 - reported to the editors, not raised
                log.exception("rebuild after publish failed; the previous site stays")
                _rebuild_failed(session, editor, ip, written, f"生成失败：{type(exc).__name__}")
                return
            missing = mark_published(session, written, editor, ip, site=out)
            if missing:
                _rebuild_failed(session, editor, ip, written,
                                f"网站已生成，但缺少 {len(missing)} 条内容的页面")
                return
            audit.record(session, editor, "rebuild_ok", ip=ip,
                         detail=f"{len(written)} 条已上线" if written else "已撤下删除的内容")
            session.commit()
            log.info("site updated after publish (%s)",
                     f"{len(built.pages)} pages rebuilt" if built.quick else "whole site")
        finally:
            session.close()
        if built.quick and app.config["FULL_BUILD_AFTER_PUBLISH"]:
            _schedule_reconcile(content, out, float(app.config["FULL_BUILD_DELAY"]))


# The whole-site rebuild waits for FULL_BUILD_DELAY seconds without a Publish (in this
# process): it holds the build lock for the length of a whole build (~40 s at 3,000 pages),
# and a Publish that came meanwhile would wait behind it.
_pending: dict[Path, threading.Timer] = {}
_pending_lock = threading.Lock()


def _schedule_reconcile(content: Path, out: Path, delay: float) -> None:
    if delay <= 0:
        _reconcile(content, out)
        return
    with _pending_lock:
        waiting = _pending.pop(out, None)
        if waiting is not None:
            waiting.cancel()  # not started yet: one whole build after the last publish
        timer = threading.Timer(delay, _reconcile_later, args=(content, out))
        timer.name, timer.daemon = "dangxiao-full-build", True
        _pending[out] = timer
        timer.start()


def _reconcile_later(content: Path, out: Path) -> None:
    with _pending_lock:
        if _pending.get(out) is threading.current_thread():
            del _pending[out]
    _reconcile(content, out)


def _reconcile(content: Path, out: Path) -> None:
    """The whole site, after a quick build: the other pages' navigation (sidebars,
    previous and next) then lists the new pages too. The published pages are already
    served; a failure here leaves the quick build's site and is only logged."""
    try:
        build_site(content, out)
        log.info("site rebuilt after publish")
    except Exception:  # noqa: BLE001 - the site stays as the quick build left it
        log.exception("full rebuild after publish failed; the quick build's site stays")


def _rebuild_failed(session: Session, editor: str, ip: str | None,
                    written: list[tuple[int, int, str]], message: str) -> None:
    for ident, _, _ in written:
        session.execute(update(Submission).where(Submission.id == ident)
                        .values(publish_error=message[:1000])
                        .execution_options(synchronize_session=False))
    audit.record(session, editor, "rebuild_failed", ip=ip, detail=message[:500])
    session.commit()


def rebuild_in_background(content: Path, written: list[tuple[int, int, str]], editor: str,
                          ip: str | None) -> threading.Thread:
    """Rebuild the site; then mark the written items published if their pages exist, and
    record the result in the audit log, where the queue shows it to every editor."""
    out = Path(current_app.config.get("SITE_DIR") or DEFAULT_OUT)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_rebuild, args=(app, content, out, written, editor, ip),
                              name="dangxiao-rebuild", daemon=True)
    thread.start()
    current_app.extensions["dx_rebuild"] = thread
    return thread
