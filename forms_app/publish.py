"""Publish: approved articles and publishable answers become YAML in content/, one git
commit with the editor as author, then a background rebuild of the site.

Idempotent by construction: an item's file name comes from its id and arrival date only,
files are replaced atomically, and the database marks an item published only after its
file is whole. A crash at any point and a re-run export each item exactly once.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from forms_app import audit, moderation
from forms_app.lessons import content_dir
from forms_app.models import Submission, utcnow
from forms_app.personal import PHONE
from forms_app.states import QUESTION, VOICE
from forms_app.working_days import beijing
from generator.build import DEFAULT_OUT, build_site
from generator.markup import neutral_markdown
from generator.models.faq import FaqEntry
from generator.models.posts import Voice

log = logging.getLogger(__name__)
FAQ_BASIS = "网上党校电子信箱答复"

_PENDING = or_(
    and_(Submission.kind == VOICE, Submission.state == "approved"),
    and_(Submission.kind == QUESTION, Submission.state == "answered",
         Submission.allow_publish.is_(True), Submission.personal_erased_at.is_(None)),
)


@dataclass
class PublishResult:
    files: list[str] = field(default_factory=list)
    commit: str | None = None
    git_error: str | None = None


class _BlockDumper(yaml.SafeDumper):
    """Multi-line text as a literal block, as an editor would write it by hand."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=1000)


def scrub(text: str, item: Submission) -> str:
    """The text without phone numbers and without the asker's own name, branch or contact,
    should they have typed them into the question as well."""
    for value in (item.name, item.branch, item.contact):
        if value and len(value) >= 2:
            text = text.replace(value, "***")
    return PHONE.sub("***", text)


def export(item: Submission) -> tuple[str, dict[str, Any]]:
    """(path inside content/, data) for one item: nothing personal, valid under the schema."""
    day = beijing(item.created_at).date()
    if item.kind == VOICE:
        data = {"title": item.title, "author": item.author or "一名流动党员",
                "date": day.isoformat(), "body": neutral_markdown(item.body)}
        Voice.model_validate(data)
        return f"voices/{day.isoformat()}-voice-{item.id}.yaml", data
    data = {"question": neutral_markdown(scrub(item.body, item)),
            "answer": neutral_markdown(scrub(item.answer or "", item)),
            "basis": [FAQ_BASIS], "reviewed_on": beijing(item.updated_at).date().isoformat(),
            "tags": [item.category or "其他"]}
    FaqEntry.model_validate(data)
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
    return session.scalar(select(func.count()).select_from(Submission).where(_PENDING)) or 0


def publish(session: Session, editor: str, ip: str | None) -> PublishResult:
    root = content_dir().resolve()
    items = session.scalars(select(Submission).where(_PENDING).order_by(Submission.id)).all()
    result = PublishResult()
    for item in items:
        rel, data = export(item)
        target = (root / rel).resolve()
        if root not in target.parents:  # names come from ids, but never write outside
            raise RuntimeError(f"refusing to write outside content/: {rel}")
        write_atomic(target, dump_yaml(data))
        result.files.append(rel)
    if result.files:
        result.commit, result.git_error = git_commit(root, result.files, editor)
    for item, rel in zip(items, result.files, strict=True):
        try:
            moderation.apply(session, item.id, "publish", item.version, editor, ip,
                             detail=rel, extra={"published_path": rel,
                                                "published_at": utcnow()})
        except moderation.Conflict:
            log.warning("item %s changed while it was published; left as it is", item.id)
    if result.files:
        audit.record(session, editor, "export", ip=ip,
                     detail=f"{len(result.files)} files, commit {result.commit or '-'}")
        session.commit()
        if current_app.config["REBUILD_AFTER_PUBLISH"]:
            rebuild_in_background(root)
    return result


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    # An argument list, never a shell: titles and names cannot become commands.
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True, env=env, timeout=60).stdout.strip()


def git_commit(root: Path, files: list[str], editor: str) -> tuple[str | None, str | None]:
    """Commit the published files (only those) as the editor; (sha, error)."""
    try:
        top = Path(_git(root, "rev-parse", "--show-toplevel"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None, None  # content/ is not in a git work tree: nothing to commit
    paths = [str((root / f).resolve().relative_to(top)) for f in files]
    env = {**os.environ, "GIT_AUTHOR_NAME": editor,
           "GIT_AUTHOR_EMAIL": f"{editor}@editors.dangxiao.invalid",
           "GIT_COMMITTER_NAME": "网上党校", "GIT_COMMITTER_EMAIL": "forms@dangxiao.invalid"}
    try:
        _git(top, "add", "--", *paths)
        staged = subprocess.run(["git", "-C", str(top), "diff", "--cached", "--quiet", "--",
                                 *paths], capture_output=True, timeout=60)
        if staged.returncode == 0:
            return _git(top, "rev-parse", "HEAD"), None  # already committed by a re-run
        message = f"发布 {len(paths)} 条：流动党员之声与政策问答\n\n" + "\n".join(paths)
        _git(top, "commit", "-q", "-m", message, "--", *paths, env=env)
        return _git(top, "rev-parse", "HEAD"), None
    except subprocess.CalledProcessError as exc:
        log.error("git commit of published files failed: %s", exc.stderr)
        return None, (exc.stderr or str(exc)).strip()[:200]


def rebuild_in_background(content: Path) -> threading.Thread:
    out = Path(current_app.config.get("SITE_DIR") or DEFAULT_OUT)

    def run() -> None:
        try:
            build_site(content, out)
            log.info("site rebuilt after publish")
        except Exception:
            log.exception("rebuild after publish failed; the previous site stays")

    thread = threading.Thread(target=run, name="dangxiao-rebuild", daemon=True)
    thread.start()
    current_app.extensions["dx_rebuild"] = thread
    return thread
