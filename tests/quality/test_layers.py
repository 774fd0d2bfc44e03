"""Imports go one way: entry points -> services -> ports -> domain and models.

Every module under app/ is parsed with `ast`; every `import` and `from`
(relative ones too, inside functions and under `if TYPE_CHECKING:` as well)
is resolved to the app module it names and checked against `LAYERS`:

- nothing imports a layer above its own (not even for type checking);
- ports do not import each other (a port is one package: app.rules,
  app.sync, ...); an import only for type checking may go sideways;
- app.domain imports nothing from app outside app.domain;
- an app import inside a function body says why, in a comment on the same
  line or the line before (a cycle, a heavy dependency kept off a fast path);
- the domain, the services, the rules and the sync port load without Flask.

A failure lists each arrow as `file:line -> imported module (layer -> layer)`.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"

# From the top down; a module belongs to the first entry whose name is it or
# its package. "app" alone is the package's __init__ (create_app, re-exported).
LAYERS: dict[str, tuple[str, ...]] = {
    "entry points": (
        "app",
        "app.api",
        "app.web",
        "app.cli",
        "app.factory",
        "app.jobs",
        "app.worker",
        "app.maintenance",
        "app.demo",
    ),
    "services": ("app.services", "app.runtime"),
    "ports": ("app.rules", "app.sync", "app.webhooks", "app.notify", "app.reports", "app.search"),
    "domain and models": (
        "app.domain",
        "app.models",
        "app.schemas",
        "app.settings",
        "app.db",
        "app.audit",
        "app.catalog",
        "app.queue",
    ),
}
RANK = {layer: rank for rank, layer in enumerate(reversed(LAYERS))}  # domain 0 ... entry 3
PORTS = LAYERS["ports"]


@dataclass(frozen=True)
class Import:
    path: str  # app/x/y.py
    line: int
    source: str  # the importing module, app.x.y
    target: str  # the app module imported
    type_only: bool  # under `if TYPE_CHECKING:`
    in_function: bool
    commented: bool  # a `#` comment on its line(s) or the line before


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(APP.rglob("*.py"))}


MODULES = all_modules()


def layer_of(module: str) -> tuple[str, str] | None:
    """(layer, unit): the unit is the LAYERS entry the module falls under."""
    for layer, units in LAYERS.items():
        for unit in units:
            if module == unit or (unit != "app" and module.startswith(unit + ".")):
                return layer, unit
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The app modules a `from` import names: a submodule if one exists, else the module."""
    if node.level:
        base = source.split(".")
        drop = node.level - 1 if is_package else node.level
        base = base[: len(base) - drop] if drop else base
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    if module != "app" and not module.startswith("app."):
        return []
    targets = []
    for alias in node.names:
        sub = f"{module}.{alias.name}"
        targets.append(sub if sub in MODULES else module)
    return targets


def _comment_lines(text: str) -> set[int]:
    return {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.COMMENT
    }


def imports_of(path: Path) -> Iterator[Import]:
    rel = path.relative_to(ROOT).as_posix()
    yield from imports_in(path.read_text(encoding="utf-8"), rel, path.name == "__init__.py")


def imports_in(text: str, rel: str, is_package: bool) -> Iterator[Import]:
    """The app imports in one module's source; `rel` is its path, app/x/y.py."""
    source = module_name(ROOT / rel)
    comments = _comment_lines(text)

    def found(
        node: ast.Import | ast.ImportFrom, type_only: bool, in_function: bool
    ) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.split(".")[0] == "app"]
        else:
            targets = _resolve(source, is_package, node)
        lines = set(range(node.lineno - 1, (node.end_lineno or node.lineno) + 1))
        for target in targets:
            yield Import(
                rel, node.lineno, source, target, type_only, in_function, bool(comments & lines)
            )

    def visit(nodes: Iterable[ast.AST], type_only: bool, in_function: bool) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield from found(node, type_only, in_function)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from visit(node.body, True, in_function)
                yield from visit(node.orelse, type_only, in_function)
            else:
                inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                yield from visit(ast.iter_child_nodes(node), type_only, inner)

    yield from visit(ast.parse(text, rel).body, False, False)


def all_imports() -> list[Import]:
    """Every import once (`from x import a, b` naming one module twice counts once)."""
    return list(dict.fromkeys(imp for path in MODULES.values() for imp in imports_of(path)))


def _arrow(imp: Import, why: str) -> str:
    src, dst = layer_of(imp.source), layer_of(imp.target)
    layers = f"{src[0] if src else '?'} -> {dst[0] if dst else '?'}"
    tc = ", TYPE_CHECKING" if imp.type_only else ""
    return f"{imp.path}:{imp.line} -> {imp.target}  ({layers}: {why}{tc})"


def test_every_module_has_a_layer() -> None:
    missing = sorted(name for name in MODULES if layer_of(name) is None)
    assert not missing, "modules in no layer (add them to LAYERS):\n  " + "\n  ".join(missing)


def against_direction(imports: Iterable[Import]) -> list[str]:
    wrong = []
    for imp in imports:
        src, dst = layer_of(imp.source), layer_of(imp.target)
        if src is None or dst is None:
            continue  # reported by test_every_module_has_a_layer
        if RANK[dst[0]] > RANK[src[0]]:
            wrong.append(_arrow(imp, "upward"))
        elif src[1] in PORTS and dst[1] in PORTS and src[1] != dst[1] and not imp.type_only:
            wrong.append(_arrow(imp, "sideways, port to port"))
    return wrong


def test_imports_point_down() -> None:
    wrong = against_direction(all_imports())
    assert not wrong, f"{len(wrong)} import(s) against the direction:\n  " + "\n  ".join(wrong)


def test_the_domain_imports_only_the_domain() -> None:
    wrong = [
        _arrow(imp, "app.domain must stand alone")
        for imp in all_imports()
        if (imp.source == "app.domain" or imp.source.startswith("app.domain."))
        and not (imp.target == "app.domain" or imp.target.startswith("app.domain."))
    ]
    assert not wrong, "\n  ".join(["app.domain imports from outside app.domain:", *wrong])


def test_imports_inside_functions_say_why() -> None:
    silent = [
        f"{imp.path}:{imp.line} -> {imp.target}"
        for imp in all_imports()
        if imp.in_function and not imp.commented
    ]
    assert not silent, (
        f"{len(silent)} app import(s) inside a function with no comment saying why "
        "(move it to the top, or add one on the same line or the line before):\n  "
        + "\n  ".join(silent)
    )


def test_the_core_loads_without_flask() -> None:
    code = (
        "import sys, app.domain, app.services.actions, app.rules.blameless, app.sync.tracker; "
        "print(','.join(sorted(m for m in ('flask', 'werkzeug') if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"loaded: {result.stdout.strip()}"


EXAMPLE = """\
from __future__ import annotations

from typing import TYPE_CHECKING

import app.domain.errors
from . import tracker, no_such_module
from ..rules import policy

if TYPE_CHECKING:
    from app.runtime import Runtime
else:
    import app.db


def f() -> None:
    # the reason
    from app.services import actions
    from .jira import JiraTracker  # also a reason
    import json
    from .local import LocalTracker
"""


def test_the_checker_resolves_what_it_should() -> None:
    """The parser itself: relative imports, packages, TYPE_CHECKING, functions, comments."""
    found = {
        (i.line, i.target, i.type_only, i.in_function, i.commented)
        for i in imports_in(EXAMPLE, "app/sync/example.py", is_package=False)
    }
    assert found == {
        (5, "app.domain.errors", False, False, False),
        (6, "app.sync.tracker", False, False, False),
        (6, "app.sync", False, False, False),  # not a module: a name in app/sync/__init__.py
        (7, "app.rules.policy", False, False, False),
        (10, "app.runtime", True, False, False),
        (12, "app.db", False, False, False),  # the else of TYPE_CHECKING runs
        (17, "app.services.actions", False, True, True),
        (18, "app.sync.jira", False, True, True),
        (20, "app.sync.local", False, True, False),
    }
    in_package = {
        i.target for i in imports_in("from . import jira\n", "app/sync/__init__.py", True)
    }
    assert in_package == {"app.sync.jira"}
    assert layer_of("app") == ("entry points", "app")
    assert layer_of("app.api.webhooks") == ("entry points", "app.api")
    assert layer_of("app.webhooks.generic") == ("ports", "app.webhooks")
    assert layer_of("app.services.actions") == ("services", "app.services")
    assert layer_of("application") is None
    assert against_direction(imports_in(EXAMPLE, "app/sync/example.py", False)) == [
        "app/sync/example.py:7 -> app.rules.policy  (ports -> ports: sideways, port to port)",
        "app/sync/example.py:10 -> app.runtime  (ports -> services: upward, TYPE_CHECKING)",
        "app/sync/example.py:17 -> app.services.actions  (ports -> services: upward)",
    ]
