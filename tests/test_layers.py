"""The layers hold: pure domain, services without the request, no private names across modules.

These read the source (``ast``), so a change that breaks a layer rule fails here with the file
and line, before it can blur what each layer may do (docs/architecture.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "workshop"
FRAMEWORKS = ("flask", "flask_", "sqlalchemy", "flask_socketio", "socketio", "engineio")


def modules(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if "translations" not in p.parts)


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def package_of(path: Path) -> list[str]:
    """The package a module lives in, as parts: workshop/live/rooms.py -> [workshop, live]."""
    return list(path.relative_to(ROOT).parent.parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, resolved to an absolute dotted name, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_of(path)[: len(package_of(path)) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from . import domain`` imports the module workshop.domain.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def is_framework(module: str) -> bool:
    top = module.split(".")[0]
    return any(top == name or (name.endswith("_") and top.startswith(name)) for name in FRAMEWORKS)


def test_the_checks_see_a_framework_import() -> None:
    # The rules below are only as good as the resolution of imports they rely on.
    assert is_framework("flask.globals") and is_framework("flask_babel")
    assert is_framework("sqlalchemy.orm") and is_framework("flask_socketio")
    assert not is_framework("workshop.domain.core") and not is_framework("dataclasses")
    rooms = PACKAGE / "live" / "rooms.py"
    assert any(m == "workshop.live.cluster" for _, m in imported_modules(rooms))


@pytest.mark.parametrize(
    "path", modules(PACKAGE / "domain"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_domain_is_pure(path: Path) -> None:
    """No Flask, SQLAlchemy or Socket.IO below workshop/domain, and nothing of the outer layers."""
    wrong = [
        f"{path.name}:{line} imports {module}"
        for line, module in imported_modules(path)
        if is_framework(module)
        or (module.startswith("workshop.") and not module.startswith("workshop.domain"))
    ]
    assert not wrong


@pytest.mark.parametrize(
    "path",
    modules(PACKAGE / "services") + modules(PACKAGE / "queries"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_services_and_queries_never_see_the_request_nor_the_edges(path: Path) -> None:
    """A service is called with values: it never reads the HTTP request or a socket.

    Writers may read through queries; queries never write, so they never import services. Neither
    imports the web or live layers, which call them.
    """
    layer = package_of(path)[1]
    wrong = []
    for line, module in imported_modules(path):
        if (
            module in ("flask.request", "flask.session", "flask.g")
            or is_framework(module)
            and (module.startswith(("flask_socketio", "socketio", "engineio")))
        ):
            wrong.append(f"{path.name}:{line} imports {module}")
        if module.startswith(("workshop.web", "workshop.live")):
            wrong.append(f"{path.name}:{line} imports {module}")
        if layer == "queries" and module.startswith("workshop.services"):
            wrong.append(f"{path.name}:{line} imports {module}")
    tree = parsed(path)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("request", "session")
            and isinstance(node.value, ast.Name)
            and node.value.id == "flask"
        ):
            wrong.append(f"{path.name}:{node.lineno} uses flask.{node.attr}")
    assert not wrong


def module_names(tree: ast.Module) -> set[str]:
    """Names bound in a file to modules of this project (``from . import services`` → services)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "") == "workshop"):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workshop"):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def private_crossings(path: Path) -> list[str]:
    """Where a file takes a ``_name`` from another module of the project."""
    tree = parsed(path)
    ours = module_names(tree)
    wrong = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            project = node.level or (node.module or "").startswith("workshop")
            wrong += [
                f"{path.name}:{node.lineno} imports {alias.name}"
                for alias in node.names
                if project and alias.name.startswith("_")
            ]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in ours
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            wrong.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return wrong


@pytest.mark.parametrize(
    "path",
    modules(PACKAGE) + modules(ROOT / "tests") + modules(ROOT / "bench") + [ROOT / "run.py"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_private_name_crosses_a_module(path: Path) -> None:
    """A name used by another module is public: no ``from x import _y``, no ``x._y``."""
    assert not private_crossings(path)


def test_the_private_name_check_catches_both_ways(tmp_path: Path) -> None:
    # The check above can fail: a file breaking the rule both ways is found twice, and the
    # same names without the underscore pass.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from workshop.domain import _hidden\nfrom workshop import services\nservices._as_id(1)\n"
    )
    assert private_crossings(sample) == [
        "sample.py:1 imports _hidden",
        "sample.py:3 uses services._as_id",
    ]
    sample.write_text("from workshop.domain import hidden\nfrom workshop import services\n")
    assert private_crossings(sample) == []
