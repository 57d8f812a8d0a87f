"""The README documents every content field and opens with the two commands."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from generator.models import CONTENT_TYPES, SiteConfig
from generator.models.basis import BasisDoc

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _models(model: type[BaseModel], seen: set[type]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for arg in [field.annotation, *_flatten(field.annotation)]:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _models(arg, seen)


def _flatten(annotation: object) -> list[object]:
    out: list[object] = []
    for arg in typing.get_args(annotation):
        out.append(arg)
        out.extend(_flatten(arg))
    return out


def test_every_content_field_is_documented():
    models: set[type] = set()
    for model in [SiteConfig, BasisDoc, *CONTENT_TYPES.values()]:
        _models(model, models)
    reference = README.split("## Content reference", 1)[1].split("## Why each dependency", 1)[0]
    missing = sorted({f"{m.__name__}.{name}" for m in models for name in m.model_fields
                      if f"`{name}`" not in reference and f"`{name}` " not in reference
                      and f".{name}`" not in reference and f"/ `{name}`" not in reference})
    assert missing == []


def test_every_content_folder_is_documented():
    for folder in CONTENT_TYPES:
        assert f"`content/{folder}/ID.yaml`" in README, folder


def test_readme_opens_with_the_two_commands_ci_runs():
    commands = re.findall(r"^bash (scripts/\S+)", README, flags=re.M)
    assert commands[:2] == ["scripts/run.sh", "scripts/test.sh"]
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in ("dangxiao check", "dangxiao build", "dangxiao serve"):
        assert f"`{command}" in README


def test_every_setting_is_documented():
    from forms_app.settings import SETTINGS

    section = README.split("### Settings", 1)[1].split("###", 1)[0]
    missing = [s.name for s in SETTINGS if f"| `{s.name}` |" not in section]
    assert missing == []


def test_every_dependency_is_explained():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[\[<>=]", d)[0] for d in
             project["dependencies"] + project["optional-dependencies"]["test"]]
    why = README.split("## Why each dependency is there", 1)[1].split("##", 1)[0].lower()
    assert [n for n in names if n.lower() not in why] == []
