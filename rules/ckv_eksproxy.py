"""eksproxy-gen's rules as checkov checks: CKV_EKSPROXY_<n> is rule EKSP<nnn>.

checkov and eksproxy-gen cannot share a Python environment, so this file
imports only the standard library and checkov. It asks the installed
``eksproxy-gen`` command for its rule table (one check per row) and, once per
scanned folder, for its JSON report: the checks give exactly the verdicts of
``eksproxy-gen check``, from the same parse and the same policy, and a check
costs a dictionary look-up. Nothing of checkov beyond the module-check base
class is used.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities, Severities
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.module.base_module_check import BaseModuleCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

ENV_COMMAND = "EKSPROXY_GEN"
TIMEOUT = 600
# The user-info of a URL: from "://" to the last "@" before a space or quote (as the CLI hides it).
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s\"'`]*@")


def _hidden(text: str) -> str:
    """Text for checkov's details with any URL's credentials hidden.

    The CLI hides credentials in its report, but details outlive the run in
    checkov's own outputs (CLI, JSON, SARIF uploaded to dashboards), and the
    text may also be an error line of another eksproxy-gen version, so they
    are hidden here too.
    """
    return _USERINFO.sub(lambda m: m.group(1) + "***@", text)


def command() -> list[str]:
    """How to run eksproxy-gen: one absolute, resolved path, found once, before any folder is scanned.

    The checks run eksproxy-gen with the scanned folder as the working folder,
    and that folder may be a pull request's: a relative path there would run
    whatever the pull request put at that path. So the command is
    ``$EKSPROXY_GEN`` (an absolute path, or a bare name looked up on PATH),
    else the script installed beside this file, else the first ``eksproxy-gen``
    on PATH, where relative PATH entries (``.``, ``bin``, an empty entry) are
    skipped; whichever it is, it is resolved to its real absolute path.
    """
    if _COMMAND:
        return list(_COMMAND)
    _COMMAND.append(_locate())
    return list(_COMMAND)


_COMMAND: list[str] = []


def _locate() -> str:
    explicit = os.environ.get(ENV_COMMAND)
    if explicit:
        if os.path.isabs(explicit):
            return _executable(explicit, f"{ENV_COMMAND}={explicit}")
        if os.sep in explicit or (os.altsep and os.altsep in explicit):
            raise FileNotFoundError(f"{ENV_COMMAND}={explicit} is a relative path, which would be looked for in "
                                    "each scanned folder; give an absolute path")
        return _on_path(explicit, f"{ENV_COMMAND}={explicit}")
    here = Path(os.path.abspath(__file__))
    for prefix in here.parents:
        for candidate in (prefix / "bin" / "eksproxy-gen", prefix / "Scripts" / "eksproxy-gen.exe"):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return os.path.realpath(candidate)
        if (prefix / "pyvenv.cfg").is_file():
            break
    return _on_path("eksproxy-gen", "eksproxy-gen")


def _on_path(name: str, what: str) -> str:
    """The first executable ``name`` in a PATH folder given as an absolute path, resolved."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isabs(folder):
            continue
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.realpath(candidate)
    raise FileNotFoundError(f"{what} is not installed where checkov can run it (relative PATH entries are not "
                            f"searched); install it (pipx install eksproxy-gen) or set {ENV_COMMAND} to its "
                            "absolute path")


def _executable(path: str, what: str) -> str:
    real = os.path.realpath(path)
    if not (os.path.isfile(real) and os.access(real, os.X_OK)):
        raise FileNotFoundError(f"{what}: no such executable file")
    return real


def _run(args: list[str], cwd: Path | None = None) -> tuple[int, str, str]:
    proc = subprocess.run([*command(), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False, env={**os.environ, "NO_COLOR": "1"})
    return proc.returncode, proc.stdout, proc.stderr


def _rule_table() -> tuple[list[dict[str, Any]], str | None]:
    try:
        code, out, err = _run(["rules", "--format", "json"])
        if code != 0:
            return [], (err.strip().splitlines() or ["eksproxy-gen rules failed"])[-1]
        return json.loads(out), None
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        return [], str(exc)


class FolderReport:
    """One ``eksproxy-gen check`` report, indexed by file so each check answers with a dictionary look-up."""

    def __init__(self, root: Path, data: dict[str, Any]) -> None:
        resolved: dict[str, Path] = {}

        def real(name: str) -> Path:
            if name not in resolved:
                resolved[name] = (root / name).resolve()
            return resolved[name]

        self.errors: dict[Path, list[dict[str, Any]]] = {}
        self.config_errors: list[tuple[Path, dict[str, Any]]] = []
        for error in data["errors"]:
            path = real(error["file"])
            if path.name == ".eksproxy-gen.toml":
                self.config_errors.append((path.parent, error))
            else:
                self.errors.setdefault(path, []).append(error)
        self.modules = {(real(m["file"]), m["name"], m["line"]) for m in data["modules"]}
        self.resources = {(real(r["file"]), r["name"]) for r in data.get("resources", [])}
        self.findings: dict[tuple[Path, str, str], list[dict[str, Any]]] = {}
        for finding in data["findings"]:
            key = (real(finding["module_file"]), finding["module"], finding["rule"])
            self.findings.setdefault(key, []).append(finding)

    def problems(self, file: Path) -> list[dict[str, Any]]:
        """What made eksproxy-gen unable to judge this file: its own parse errors, or a settings file above it."""
        above = [error for folder, error in self.config_errors if folder == file.parent or folder in file.parents]
        return self.errors.get(file, []) + above


class _Reports:
    """One ``eksproxy-gen check`` per scanned folder, shared by every check."""

    def __init__(self) -> None:
        self._by_root: dict[Path, tuple[FolderReport | None, str | None]] = {}
        self._roots: list[Path] | None = None
        self._located: dict[str, Path | None] = {}

    def roots(self) -> list[Path]:
        """The folders checkov scans: its -d/--directory values, the folders of its -f/--file values, the cwd."""
        if self._roots is not None:
            return self._roots
        found: list[Path] = []
        argv = sys.argv[1:]
        for index, arg in enumerate(argv):
            value = None
            if arg in {"-d", "--directory", "-f", "--file"} and index + 1 < len(argv):
                value, flag = argv[index + 1], arg
            elif arg.startswith(("--directory=", "--file=")):
                flag, value = arg.split("=", 1)
            else:
                continue
            path = Path(value).resolve()
            found.append(path.parent if flag in {"-f", "--file"} else path)
        found.append(Path.cwd())
        self._roots = list(dict.fromkeys(found))
        return self._roots

    def locate(self, entity_path: str) -> Path | None:
        """The real file of a module block checkov names by its path relative to a scanned folder."""
        relative = entity_path.rsplit(":", 2)[0].lstrip("/\\")
        if relative not in self._located:
            self._located[relative] = next((candidate for root in self.roots()
                                            if (candidate := (root / relative).resolve()).is_file()), None)
        return self._located[relative]

    def report(self, file: Path) -> tuple[FolderReport | None, str | None]:
        root = next((r for r in self.roots() if r == file.parent or r in file.parents), file.parent)
        if root not in self._by_root:
            self._by_root[root] = self._check(root)
        return self._by_root[root]

    @staticmethod
    def _check(root: Path) -> tuple[FolderReport | None, str | None]:
        try:
            code, out, err = _run(["check", "--format", "json", "--quiet", "."], cwd=root)
        except (OSError, subprocess.SubprocessError) as exc:
            return None, str(exc)
        if code not in (0, 1):
            return None, (err.strip().splitlines() or [f"eksproxy-gen check exited with {code}"])[-1]
        try:
            return FolderReport(root, json.loads(out)), None
        except (ValueError, KeyError, TypeError) as exc:
            return None, f"unreadable output of eksproxy-gen check ({exc})"


REPORTS = _Reports()


class _Verdicts:
    """What every check does: find the report of the entity's file, then the rule's findings for the entity."""

    rule: dict[str, Any]
    base_name: str
    name: str
    details: list[str]
    entity_path: str

    def verdict(self, owner: str, known: Callable[[FolderReport, Path], bool]) -> CheckResult:
        self.name = self.base_name
        file = REPORTS.locate(self.entity_path)
        if file is None:
            return CheckResult.UNKNOWN
        report, problem = REPORTS.report(file)
        if report is None:
            self.details = [_hidden(f"eksproxy-gen could not run: {problem}")]
            return CheckResult.FAILED
        problems = report.problems(file)
        if problems:
            self.details = [_hidden(f"eksproxy-gen could not read {p['file']}:{p['line']}: {p['message']}")
                            for p in problems]
            return CheckResult.FAILED
        if not known(report, file):
            return CheckResult.UNKNOWN
        found = report.findings.get((file, owner, self.rule["id"]), [])
        if not found:
            return CheckResult.PASSED
        where = ", ".join(dict.fromkeys(_location(f) for f in found))
        self.name = f"{self.base_name}: {where}"
        self.details = [_hidden(f"{_location(f)} ({f['file']}:{f['line']}): {f['message']}") for f in found]
        return CheckResult.FAILED


def _title(rule: dict[str, Any]) -> str:
    return f"{rule['title']} (eksproxy-gen {rule['id']})"


def _severity(rule: dict[str, Any]) -> Any:
    return Severities[BcSeverities.HIGH if rule["severity"] == "error" else BcSeverities.LOW]


class EksproxyCheck(_Verdicts, BaseModuleCheck):
    """One eksproxy-gen rule as a checkov module check: the node groups of a terraform-aws-eks call."""

    def __init__(self, rule: dict[str, Any]) -> None:
        self.rule = rule
        self.base_name = _title(rule)
        super().__init__(name=self.base_name, id=rule["checkov_id"], categories=[CheckCategories.NETWORKING],
                         guideline=rule["help_uri"])
        self.severity = _severity(rule)

    def scan_module_conf(self, conf: dict[str, Any]) -> CheckResult:
        """A terraform-aws-eks call's groups; otherwise the Karpenter node classes a module call holds."""
        name = str(conf.get("__address__", "")).split(".")[-1].split("[")[0]
        line = int(conf.get("__start_line__", 0) or 0)
        eks = self.verdict(name, lambda report, file: (file, name, line) in report.modules)
        if eks is not CheckResult.UNKNOWN:
            return eks
        owner = f"module.{name}"
        return self.verdict(owner, lambda report, file: (file, owner) in report.resources)


class EksproxyResourceCheck(_Verdicts, BaseResourceCheck):
    """The same rule for Karpenter in Terraform: node classes in manifests, the controller in its helm_release."""

    def __init__(self, rule: dict[str, Any]) -> None:
        self.rule = rule
        self.base_name = _title(rule)
        super().__init__(name=self.base_name, id=rule["checkov_id"], categories=[CheckCategories.NETWORKING],
                         supported_resources=KARPENTER_RESOURCES, guideline=rule["help_uri"])
        self.severity = _severity(rule)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        address = str(conf.get("__address__", "")).split(".")
        owner = ".".join(address[-2:]).split("[")[0]
        return self.verdict(owner, lambda report, file: (file, owner) in report.resources)


KARPENTER_RESOURCES = ("kubectl_manifest", "kubernetes_manifest", "local_file", "helm_release")


def _location(finding: dict[str, Any]) -> str:
    group = finding.get("node_group")
    return finding["module"] if group is None else f"{finding['module']}.{group}"


class SetupCheck(BaseModuleCheck):
    """Stands in for the rules when eksproxy-gen cannot be run, so the problem is reported, not hidden."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(name="eksproxy-gen rules could not be loaded", id="CKV_EKSPROXY_SETUP",
                         categories=[CheckCategories.NETWORKING])

    def scan_module_conf(self, conf: dict[str, Any]) -> CheckResult:
        source = conf.get("source")
        text = source[0] if isinstance(source, list) and source else source
        if not isinstance(text, str) or ("eks/aws" not in text and "terraform-aws-eks" not in text):
            return CheckResult.UNKNOWN
        self.details = [_hidden(self.problem)]
        return CheckResult.FAILED


RULES, PROBLEM = _rule_table()
CHECKS: list[BaseModuleCheck | BaseResourceCheck] = (
    [*(EksproxyCheck(rule) for rule in RULES), *(EksproxyResourceCheck(rule) for rule in RULES)]
    if RULES else [SetupCheck(PROBLEM or "no rules")])
