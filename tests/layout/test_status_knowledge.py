"""Status knowledge lives in ``dashboard/status.py``: other modules use its ``Status`` and
its named groups, never a list of statuses of their own or a status word compared by hand."""
from __future__ import annotations

import ast
from pathlib import Path

from dashboard.status import Status

ROOT = Path(__file__).resolve().parents[2]
WORDS = {s.value for s in Status}


def _is_member(node: ast.AST) -> bool:
    """``Status.HOLD`` or ``Status.HOLD.value``."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "Status")


def _status_members(node: ast.AST) -> int:
    return sum(_is_member(e) for e in getattr(node, "elts", ()))


def _mentions_status(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "status" for n in ast.walk(node))


def status_knowledge(path: Path) -> list[str]:
    """Collections of two or more ``Status`` members, and ``.status`` compared with a status
    word, in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.Set, ast.Tuple, ast.List)) and _status_members(node) >= 2:
            found.append(f"{path.name}:{node.lineno}: a set of statuses")
        if isinstance(node, ast.Compare) and _mentions_status(node):
            words = [c.value for c in [node.left, *node.comparators]
                     if isinstance(c, ast.Constant) and c.value in WORDS]
            if words:
                found.append(f"{path.name}:{node.lineno}: compares with {words[0]!r}")
    return found


def test_no_module_but_the_status_rules_knows_statuses():
    found = [line for package in ("dashboard", "jobs") for path in (ROOT / package).rglob("*.py")
             if path != ROOT / "dashboard" / "status.py" for line in status_knowledge(path)]
    assert found == []


def test_the_check_finds_a_set_and_a_literal(tmp_path):
    path = tmp_path / "leaky.py"
    path.write_text("EDITABLE = (Status.HOLD.value, Status.FAILED.value)\n"
                    "def f(record):\n    return record.status != 'hold'\n"
                    "LEGEND = ((Status.PENDING, 'Sent'), (Status.SHIPPED, 'Shipped'))\n")
    assert status_knowledge(path) == ["leaky.py:1: a set of statuses",
                                      "leaky.py:3: compares with 'hold'"]
