"""The role matrix as a Markdown table, for the README (a test keeps the two equal).

Run ``python -m app.auth.matrix`` to print it.
"""

from __future__ import annotations

from app.auth.permissions import ROLE_PERMISSIONS, Permission
from app.auth.roles import ROLE_SCOPE, Role

BEGIN = "<!-- role-matrix:begin -->"
END = "<!-- role-matrix:end -->"


def markdown_table() -> str:
    """One row per permission, one column per role; the scope of each role in the header."""
    roles = list(Role)
    header = "| permission | " + " | ".join(f"{r.value} ({ROLE_SCOPE[r].value})" for r in roles) + " |"
    rule = "|---|" + "|".join(":-:" for _ in roles) + "|"
    rows = [
        f"| `{p.value}` | " + " | ".join("✔" if p in ROLE_PERMISSIONS[r] else "" for r in roles) + " |"
        for p in Permission
    ]
    return "\n".join([header, rule, *rows])


if __name__ == "__main__":
    print(markdown_table())
