"""The dangxiao command: check, build and serve the site."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from generator.build import DEFAULT_CONTENT, DEFAULT_OUT, build_site
from generator.checks import check, errors_only
from generator.errors import ContentError


def _check(args: argparse.Namespace) -> int:
    _, problems = check(Path(args.content))
    for problem in problems:
        print(problem)
    sys.stdout.flush()
    errors = errors_only(problems)
    if errors:
        print(f"发现 {len(errors)} 处错误，{len(problems) - len(errors)} 条警告。", file=sys.stderr)
        return 1
    print(f"检查通过，{len(problems)} 条警告。", file=sys.stderr)
    return 0


def _refused(exc: ContentError, outcome: str) -> int:
    """Every problem on stdout (file:line:column: field: message), the outcome on stderr."""
    for problem in exc.problems:
        print(problem)
    sys.stdout.flush()
    print(f"内容有 {len(exc.problems)} 处错误，{outcome}。", file=sys.stderr)
    return 1


def _warn(warnings: list, content: Path, *, offline: bool) -> None:
    """The build's warnings, then a note while site.yaml's public_url is this machine
    (content already checked by the build, so the file parses)."""
    import yaml

    from generator.offline import local_address_warning

    for warning in warnings:
        print(warning)
    site = yaml.safe_load((content / "site.yaml").read_text(encoding="utf-8")) or {}
    local = local_address_warning(str(site.get("public_url") or ""), offline=offline)
    if local:
        print(local, file=sys.stderr)


def _build(args: argparse.Namespace) -> int:
    try:
        result = build_site(Path(args.content), Path(args.out))
    except ContentError as exc:
        return _refused(exc, "未构建；原有网站保持不变")
    _warn(result.warnings, Path(args.content), offline=False)
    written = len(result.rendered.written)
    print(f"已构建到 {result.out}({written} 个页面或文件有变化)。", file=sys.stderr)
    return 0


def _offline(args: argparse.Namespace) -> int:
    from generator.offline import build_offline

    try:
        result = build_offline(Path(args.content), Path(args.out), video=not args.no_video)
    except ContentError as exc:
        return _refused(exc, "未生成离线副本")
    _warn(result.warnings, Path(args.content), offline=True)
    print(f"已生成离线副本 {result.out}：{result.files} 个文件，"
          f"{result.size / 1024 / 1024:.1f} MB（{result.size} 字节）。", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from forms_app.combined import serve_product

    return serve_product(args.host, args.port, Path(args.content), Path(args.out),
                         build=not args.no_build)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dangxiao", description="流动党员网上党校")
    top.add_argument("-v", "--verbose", action="store_true", help="print progress")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate all content")
    p.add_argument("--content", default=str(DEFAULT_CONTENT), help="content folder")
    p.set_defaults(func=_check)

    p = sub.add_parser("build", help="check, render and build the static site")
    p.add_argument("--content", default=str(DEFAULT_CONTENT), help="content folder")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default site/)")
    p.set_defaults(func=_build)

    p = sub.add_parser("offline", help="write the whole site as a zip that works from file://")
    p.add_argument("--content", default=str(DEFAULT_CONTENT), help="content folder")
    p.add_argument("--out", default="dangxiao-offline.zip", help="zip file to write")
    p.add_argument("--no-video", action="store_true", help="leave video out (a smaller copy)")
    p.set_defaults(func=_offline)

    p = sub.add_parser("serve", help="build, then serve the site and the forms app on one port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--content", default=str(DEFAULT_CONTENT), help="content folder")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="site folder")
    p.add_argument("--no-build", action="store_true", help="serve the site as it is")
    p.set_defaults(func=_serve)

    from forms_app.commands import add_commands

    add_commands(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        # MkDocs and jieba announce every step at INFO; editors want only problems.
        logging.getLogger("mkdocs").setLevel(logging.WARNING)
        logging.getLogger("jieba").setLevel(logging.WARNING)
    from forms_app.settings import ConfigError

    try:
        return args.func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
