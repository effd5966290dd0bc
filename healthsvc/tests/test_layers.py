"""The layers: healthsvc <- accounts <- clinics <- scheduling. Production code
of a lower app never imports a higher one (tests may, to build their rows),
so each app can be read, tested and changed without the ones above it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["healthsvc", "accounts", "clinics", "scheduling"]
# The project's URLconf and settings mount every app by name, which is their job.
MOUNTS = {"healthsvc/urls.py", "healthsvc/settings/base.py"}


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):  # function-level imports too
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(LAYERS)


def _production_modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or "/migrations/" in relative or relative in MOUNTS:
            continue
        yield relative, path


@pytest.mark.parametrize("app", LAYERS[:-1])
def test_a_lower_app_never_imports_a_higher_one(app):
    higher = set(LAYERS[LAYERS.index(app) + 1:])
    offenders = {relative: sorted(_imported_apps(path) & higher) for relative, path in _production_modules(app)}
    assert {k: v for k, v in offenders.items() if v} == {}
