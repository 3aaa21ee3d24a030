"""The layering that lets checkov import the policy: checked, not just promised."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "generator"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_policy_uses_the_standard_library_only() -> None:
    for path in (PACKAGE / "policy").glob("*.py"):
        assert _imports(path) <= set(sys.stdlib_module_names) | {"__future__"}, path.name


def test_importing_the_policy_loads_no_third_party_package() -> None:
    code = ("import sys, eksproxy_gen.policy.evaluate, eksproxy_gen.policy.rules; "
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(ast.literal_eval(out))
    assert not loaded & {"hcl2", "lark", "jinja2", "typer", "click", "rich", "yaml"}


def test_package_init_is_empty() -> None:
    assert (PACKAGE / "__init__.py").read_text() == ""


def test_each_third_party_library_has_one_home() -> None:
    homes = {"hcl2": {"hcl.py"}, "lark": {"hcl.py"}, "jinja2": {"render.py"}, "typer": {"main.py"}}
    for path in PACKAGE.rglob("*.py"):
        for library, allowed in homes.items():
            if library in _imports(path):
                assert path.name in allowed, f"{path.name} imports {library}"
