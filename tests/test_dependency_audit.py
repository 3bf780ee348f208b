"""The dependency audit never prints a clean result it did not establish."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "dependency_audit.py"
spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def _report(*deps) -> str:
    return json.dumps({"dependencies": list(deps)})


def test_every_package_not_found_is_not_audited_not_clean():
    deps = [{"name": f"p{i}", "version": "1", "skip_reason": "not found"} for i in range(161)]
    status, lines = audit.verdict(1, _report(*deps), "")
    assert status == audit.NOT_AUDITED == 3
    assert "NOT AUDITED" in lines[0] and "0 of 161" in lines[0]


def test_unreachable_vulnerability_data_is_not_audited():
    status, lines = audit.verdict(1, "", "ConnectionError: Max retries exceeded")
    assert status == 3 and "NOT AUDITED" in lines[0] and "ConnectionError" in lines[0]


def test_a_fixable_vulnerability_fails_and_a_clean_audit_passes():
    vuln = {"id": "GHSA-x", "fix_versions": ["2.0"]}
    status, lines = audit.verdict(0, _report({"name": "a", "version": "1", "vulns": [vuln]}), "")
    assert status == 1 and any("FIXABLE" in line for line in lines)
    status, lines = audit.verdict(0, _report({"name": "a", "version": "1", "vulns": []}), "")
    assert status == 0 and "1 packages audited" in lines[0]
