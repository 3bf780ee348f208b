"""Fail CI on a known vulnerability that has a fixed version; never print a clean result that was
not established.

Runs pip-audit against the project's virtual environment (PyPI's vulnerability data). Packages
that PyPI does not know at the pinned version are listed as not audited, not as passed. When no
package could be audited (the vulnerability data was unreachable, or every package came back
"not found") it prints "NOT AUDITED" with the reason and exits with status 3, which `.ci/run`
reports without failing unless DEPENDENCY_AUDIT_REQUIRED=1.
"""

from __future__ import annotations

import json
import subprocess
import sys

NOT_AUDITED = 3


def verdict(returncode: int, stdout: str, stderr: str) -> tuple[int, list[str]]:
    """(exit status, lines to print) for one pip-audit run."""
    try:
        report = json.loads(stdout or "")
    except json.JSONDecodeError:
        reason = (stderr.strip() or f"pip-audit exited {returncode} without a report")[:300]
        return NOT_AUDITED, [f"dependency audit: NOT AUDITED: {reason}"]
    fixable, unfixable, skipped = [], [], []
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            skipped.append(dep["name"])
            continue
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln["fix_versions"]) or "no release"
            line = f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})"
            (fixable if vuln["fix_versions"] else unfixable).append(line)
    audited = len(report.get("dependencies", [])) - len(skipped)
    if audited == 0:
        return NOT_AUDITED, [
            f"dependency audit: NOT AUDITED: 0 of {len(skipped)} packages could be checked "
            "(no vulnerability data reachable, or none known at its pinned version)"
        ]
    lines = [
        f"dependency audit: {audited} packages audited, {len(skipped)} not known to PyPI at "
        "their pinned version"
    ]
    lines += [f"  known vulnerability without a fix yet: {line}" for line in unfixable]
    lines += [f"  FIXABLE VULNERABILITY: {line}" for line in fixable]
    return (1 if fixable else 0), lines


def main() -> int:
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "-f", "json", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
    )
    status, lines = verdict(result.returncode, result.stdout, result.stderr)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
