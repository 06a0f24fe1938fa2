"""Imports between the apps run one way (DESIGN.md, "Layout"):

lib → integrations → text → accounts → conversations → knowledge → rollout → bot → inbox
→ analytics → exports → widget, and the orchestration module `supportops.flows` above them.

An app may import itself and the apps below it, never one above or beside it; model
references by string ("conversations.Conversation") count as imports. Entry points (views,
the widget API, tasks, URLs, admin, management commands) may also import `supportops.flows`,
which is how they start a flow that crosses apps. The project's own wiring (settings, urls,
celery, wsgi, asgi) is exempt.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "supportops"
LAYERS = [
    "lib",
    "integrations",
    "text",
    "accounts",
    "conversations",
    "knowledge",
    "rollout",
    "bot",
    "inbox",
    "analytics",
    "exports",
    "widget",
    "flows",
]
RANK = {name: rank for rank, name in enumerate(LAYERS)}
WIRING = {"settings", "urls", "celery", "wsgi", "asgi", "__init__"}
ENTRY_POINTS = {"views", "api", "tasks", "urls", "admin"}
# "app_label.Model" in ForeignKey/ManyToManyField/OneToOneField calls.
MODEL_REFERENCE = re.compile(r"^([a-z_]+)\.[A-Z]\w*$")


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} imports {self.target}"


def _module_parts(path: Path, root: Path) -> list[str]:
    relative = path.relative_to(root.parent).with_suffix("")
    return list(relative.parts)


def _is_entry_point(parts: list[str]) -> bool:
    return parts[-1] in ENTRY_POINTS or "commands" in parts[:-1]


def _imported_apps(tree: ast.AST, parts: list[str]) -> list[tuple[int, str]]:
    """(line, app) for every `supportops.<app>` this module imports, at any depth."""
    package = parts[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [module]
            if module == "supportops":  # from supportops import flows, lib, ...
                names = [f"supportops.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = getattr(func, "attr", None) or getattr(func, "id", None)
            if name in ("ForeignKey", "ManyToManyField", "OneToOneField") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    match = MODEL_REFERENCE.match(first.value)
                    if match:
                        names = [f"supportops.{match.group(1)}"]
        for name in names:
            pieces = name.split(".")
            if len(pieces) >= 2 and pieces[0] == "supportops" and pieces[1] in RANK:
                found.append((node.lineno, pieces[1]))
    return found


def import_violations(root: Path) -> list[Violation]:
    violations = []
    for path in sorted(root.rglob("*.py")):
        parts = _module_parts(path, root)
        if "migrations" in parts:
            continue
        source = parts[1]
        if len(parts) == 2 and source in WIRING:
            continue
        if source not in RANK:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, target in _imported_apps(tree, parts):
            if target == source:
                continue
            if target == "flows" and _is_entry_point(parts):
                continue
            if RANK[target] < RANK[source]:
                continue
            violations.append(Violation(str(path.relative_to(root.parent)), line, source, target))
    return violations


def test_apps_import_only_downwards():
    violations = import_violations(ROOT)
    assert not violations, "imports that run up or across the layers:\n" + "\n".join(
        map(str, violations)
    )


def test_every_app_has_a_layer():
    apps = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert apps <= set(RANK), f"apps without a layer in LAYERS: {sorted(apps - set(RANK))}"


def test_conversations_imports_nothing_above_it():
    above = {name for name in LAYERS if RANK[name] > RANK["conversations"]}
    hits = [v for v in import_violations(ROOT) if v.source == "conversations" and v.target in above]
    assert not hits
    # Not even an entry point of conversations reaches up (it has none that needs to).
    for path in (ROOT / "conversations").rglob("*.py"):
        tree = ast.parse(path.read_text())
        targets = {app for _, app in _imported_apps(tree, _module_parts(path, ROOT))}
        assert not targets & above, f"{path} imports {sorted(targets & above)}"


@pytest.mark.parametrize(
    ("relative", "code", "expected"),
    [
        ("conversations/services.py", "from supportops.bot.turn import decide\n", ["bot"]),
        ("conversations/services.py", "def f():\n    from supportops.inbox import x\n", ["inbox"]),
        ("bot/turn.py", "from supportops import flows\n", ["flows"]),
        ("bot/tasks.py", "from supportops import flows\n", []),
        ("bot/tasks.py", "from supportops.widget import api\n", ["widget"]),
        ("inbox/models.py", "from ..conversations.models import Message\n", []),
        ("knowledge/search.py", "from supportops.conversations.models import Message\n", []),
        ("conversations/models.py", "x = models.ForeignKey('knowledge.Article')\n", ["knowledge"]),
        ("bot/management/commands/x.py", "from supportops import flows\n", []),
    ],
)
def test_the_check_catches_upward_imports(tmp_path, relative, code, expected):
    root = tmp_path / "supportops"
    path = root / relative
    path.parent.mkdir(parents=True)
    path.write_text(code)
    assert [v.target for v in import_violations(root)] == expected
