"""The content checkout as git sees it: Publish's commit as the editor, one Publish at a time
per checkout, and with CONTENT_REMOTE the pull before and the push after that let several
app servers (each with its own clone) publish into one content repository.

With a remote, nothing is recorded as published unless the commit is on the remote: a push
that is refused twice (another server pushed in between and the rebase conflicts, or the
remote cannot be reached) takes the checkout back to the remote's tip and says so in
Chinese; the items stay approved in the database and the next Publish writes them again.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)
COMMITTER = {"GIT_COMMITTER_NAME": "网上党校", "GIT_COMMITTER_EMAIL": "forms@dangxiao.invalid"}
PUSH_REFUSED = ("另一位编辑刚刚在另一台服务器上也发布了内容，本次发布没有完成，网站没有变化。"
                "您审核通过的内容都还在待发布队列里，请再点一次“发布到网站”。")
UNREACHABLE = ("无法连接内容版本库（{remote}），本次发布没有完成，网站没有变化。"
               "待发布的内容都还在队列里，请稍后再试，或联系管理员。")


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    # An argument list, never a shell: titles and names cannot become commands.
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True, env=env, timeout=60).stdout.strip()


def top(root: Path) -> Path | None:
    """The work tree holding root, or None when it is not in one."""
    try:
        return Path(_git(root, "rev-parse", "--show-toplevel"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """One Publish (or take-down) at a time on this checkout, across gunicorn's workers and
    threads: two at once would fight over git's index.lock."""
    tree = top(root)
    if tree is None:
        yield
        return
    git_dir = Path(_git(tree, "rev-parse", "--absolute-git-dir"))
    with open(git_dir / "dangxiao-publish.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _editor_env(editor: str) -> dict[str, str]:
    return {**os.environ, "GIT_AUTHOR_NAME": editor,
            "GIT_AUTHOR_EMAIL": f"{editor}@editors.dangxiao.invalid", **COMMITTER}


def commit(root: Path, files: list[str], editor: str) -> tuple[str | None, str | None]:
    """Commit the published files (only those) as the editor; (sha, error)."""
    tree = top(root)
    if tree is None:
        return None, None  # content/ is not in a git work tree: nothing to commit
    paths = [str((root / f).resolve().relative_to(tree)) for f in files]
    removed = [p for f, p in zip(files, paths, strict=True) if not (root / f).exists()]
    try:
        kept = [p for p in paths if p not in removed]
        if kept:
            _git(tree, "add", "--", *kept)
        if removed:  # erased by their members: the deletion is committed too
            _git(tree, "rm", "-q", "--cached", "--ignore-unmatch", "--", *removed)
        staged = subprocess.run(["git", "-C", str(tree), "diff", "--cached", "--quiet", "--",
                                 *paths], capture_output=True, timeout=60)
        if staged.returncode == 0:
            return _git(tree, "rev-parse", "HEAD"), None  # already committed by a re-run
        message = (f"发布 {len(kept)} 条、撤下 {len(removed)} 条：流动党员之声与政策问答\n\n"
                   + "\n".join(paths))
        _git(tree, "commit", "-q", "-m", message, "--", *paths, env=_editor_env(editor))
        return _git(tree, "rev-parse", "HEAD"), None
    except subprocess.CalledProcessError as exc:
        log.error("git commit of published files failed: %s", exc.stderr)
        return None, (exc.stderr or str(exc)).strip()[:200]


def head(root: Path) -> str | None:
    tree = top(root)
    return _git(tree, "rev-parse", "HEAD") if tree else None


def _branch(tree: Path) -> str:
    return _git(tree, "rev-parse", "--abbrev-ref", "HEAD")


def _rebase_onto_remote(tree: Path, remote: str) -> bool:
    """Fetch the remote's branch and put this checkout's own commits on top of it; on a
    conflict leave nothing half done (the rebase is aborted). False when it failed."""
    try:
        _git(tree, "pull", "-q", "--rebase", "--autostash", remote, _branch(tree),
             env={**os.environ, **COMMITTER})
        return True
    except subprocess.CalledProcessError as exc:
        log.warning("pull --rebase from %s failed: %s", remote, exc.stderr)
        subprocess.run(["git", "-C", str(tree), "rebase", "--abort"], capture_output=True,
                       timeout=60)
        return False


def _back_to_remote(tree: Path, remote: str) -> None:
    """Drop this checkout's commits that are not on the remote (their items are still
    pending in the database and are written again by the next Publish)."""
    try:
        _git(tree, "fetch", "-q", remote, _branch(tree))
        _git(tree, "reset", "-q", "--keep", "FETCH_HEAD")
    except subprocess.CalledProcessError as exc:
        log.error("could not return the content checkout to %s: %s", remote, exc.stderr)


def pull(root: Path, remote: str) -> str | None:
    """Before Publish writes anything: bring in what other servers published. A Chinese
    message when that fails, else None."""
    tree = top(root)
    if tree is None:
        return None
    if _rebase_onto_remote(tree, remote):
        return None
    _back_to_remote(tree, remote)
    return None if _rebase_onto_remote(tree, remote) else UNREACHABLE.format(remote=remote)


def push(root: Path, remote: str) -> str | None:
    """Push this checkout's branch to the remote; when refused (another server pushed
    first), pull --rebase and push once more. A Chinese message when it did not land."""
    tree = top(root)
    if tree is None:
        return None
    branch = _branch(tree)
    for attempt in (1, 2):
        try:
            _git(tree, "push", "-q", remote, f"HEAD:refs/heads/{branch}")
            return None
        except subprocess.CalledProcessError as exc:
            log.warning("push to %s refused (attempt %d): %s", remote, attempt, exc.stderr)
        if attempt == 1 and not _rebase_onto_remote(tree, remote):
            break
    _back_to_remote(tree, remote)
    return PUSH_REFUSED
