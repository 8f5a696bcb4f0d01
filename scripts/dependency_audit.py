"""Check the pinned requirements for known vulnerabilities (pip-audit); fail on high ones.

    make audit                      # or: .venv/bin/python scripts/dependency_audit.py

Exit status: 0 every pinned package was checked and none has a known vulnerability of high
or critical severity (lower ones are listed); 1 at least one high or critical (or of
unknown severity: counted as high); 3 the audit could not be done — the vulnerability
service did not answer, or answered for only some packages. pip-audit alone reports "No
known vulnerabilities found" and exits 0 when it could check nothing at all (every package
"skipped"); this wrapper never does.

AUDIT_SERVICE picks pip-audit's service: osv (default: api.osv.dev, which also gives each
vulnerability's severity) or pypi (pypi.org's JSON API).
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SERVICES = {"osv": "https://api.osv.dev", "pypi": "https://pypi.org/pypi"}
SEVERITY_URL = "https://api.osv.dev/v1/vulns/{id}"
FAILING = {"HIGH", "CRITICAL", "UNKNOWN"}
UNREACHABLE = (
    "NameResolutionError",
    "Failed to resolve",
    "Max retries exceeded",
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Temporary failure in name resolution",
)
NOT_DONE, VULNERABLE = 3, 1


def pip_audit(service: str, requirements: Path) -> subprocess.CompletedProcess:
    # A fixed command: the venv's own pip-audit on the project's requirements.
    return subprocess.run(  # noqa: S603
        [
            str(Path(sys.executable).with_name("pip-audit")),
            "--requirement",
            str(requirements),
            "--no-deps",  # requirements.txt pins every package, dependencies included
            "--disable-pip",
            "--vulnerability-service",
            service,
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "--timeout",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


def severity_of(vulnerability_id: str) -> str:
    """HIGH, CRITICAL, MODERATE, LOW from OSV's record (GitHub's rating), or UNKNOWN."""
    try:
        url = SEVERITY_URL.format(id=vulnerability_id)  # always https://api.osv.dev/…
        with urllib.request.urlopen(url, timeout=20) as answer:  # noqa: S310
            record = json.load(answer)
    except (OSError, ValueError):
        return "UNKNOWN"
    rating = str((record.get("database_specific") or {}).get("severity") or "").upper()
    return rating or "UNKNOWN"


def not_done(message: str) -> int:
    print(f"DEPENDENCY AUDIT NOT DONE: {message}", file=sys.stderr)
    print(
        "Nothing was proven about the pinned requirements. Run `make audit` where the "
        "vulnerability service can be reached (AUDIT_SERVICE=osv or pypi).",
        file=sys.stderr,
    )
    return NOT_DONE


def main() -> int:
    service = os.environ.get("AUDIT_SERVICE", "osv")
    if service not in SERVICES:
        return not_done(f"unknown AUDIT_SERVICE {service!r}; use one of {sorted(SERVICES)}.")
    requirements = PROJECT_DIR / "requirements.txt"
    result = pip_audit(service, requirements)
    where = SERVICES[service]
    if any(marker in result.stderr for marker in UNREACHABLE):
        return not_done(f"the vulnerability service {where} cannot be reached from here.")
    try:
        report = json.loads(result.stdout or "")
    except ValueError:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return not_done(f"pip-audit failed (exit {result.returncode}) against {where}: {last}")
    dependencies = report.get("dependencies", [])
    skipped = [entry for entry in dependencies if entry.get("skip_reason")]
    if not dependencies or skipped:
        example = skipped[0]["skip_reason"] if skipped else "no package was listed"
        return not_done(
            f"{where} gave no answer for {len(skipped)} of {len(dependencies)} pinned "
            f"packages (first: {example}). The service is not reachable from here, or "
            "answers only in part."
        )

    findings = [
        (entry["name"], entry["version"], vulnerability)
        for entry in dependencies
        for vulnerability in entry.get("vulns", [])
    ]
    failing = 0
    for name, version, vulnerability in findings:
        rating = severity_of(vulnerability["id"])
        failing += rating in FAILING
        fixed = ", ".join(vulnerability.get("fix_versions") or []) or "no fixed version yet"
        print(f"{rating:9} {name} {version}: {vulnerability['id']} (fixed in {fixed})")
    print(
        f"{len(dependencies)} pinned packages checked against {where}: "
        f"{len(findings)} known vulnerabilities, {failing} high, critical or unrated."
    )
    return VULNERABLE if failing else 0


if __name__ == "__main__":
    sys.exit(main())
