"""Findings for one node group: the single place where the rules decide."""

from __future__ import annotations

import re
from collections.abc import Callable

from . import expected
from .bottlerocket import read_network
from .coverage import Coverage, analyse
from .facts import GroupFacts, ModuleFacts, release_date
from .rules import Finding
from .scripts import read_script
from .settings import Settings
from .values import covers, mask_credentials, normalize, split_no_proxy

MIN_AMI_RELEASE = 20251120

Emit = Callable[[str, str], None]


_PLATFORMS = {"linux": "AL2", "al2023": "AL2023", "bottlerocket": "BOTTLEROCKET", "windows": "WINDOWS"}


def ami_family(group: GroupFacts, major: int | None) -> str:
    """AL2023, AL2, BOTTLEROCKET, WINDOWS, CUSTOM or UNKNOWN, as the module picks its user-data template.

    v21 goes by ami_type (default AL2023); v20 by ami_type, falling back to the
    deprecated ``platform`` (default linux, the AL2 template); v19 by platform only.
    """
    if major is not None and major <= 19:
        return _PLATFORMS.get(group.platform or "linux", "UNKNOWN")
    ami = group.ami_type
    if ami is None:
        if major is not None and major >= 21:
            return "AL2023"
        if major is not None:
            return _PLATFORMS.get(group.platform or "linux", "UNKNOWN")
        return "UNKNOWN"
    if "${" in ami:
        return "UNKNOWN"
    for prefix, family in (("AL2023_", "AL2023"), ("AL2_", "AL2"), ("BOTTLEROCKET_", "BOTTLEROCKET"),
                           ("WINDOWS_", "WINDOWS"), ("CUSTOM", "CUSTOM")):
        if ami.startswith(prefix):
            return family
    return "UNKNOWN"


def evaluate_group(module: ModuleFacts, group: GroupFacts, settings: Settings) -> list[Finding]:
    findings: list[Finding] = []

    def emit(rule: str, message: str) -> None:
        findings.append(Finding(rule, group.file or module.file, group.line, module.name, group.name, message))

    family = ami_family(group, module.major)
    if family in {"UNKNOWN", "CUSTOM", "WINDOWS"}:
        _unsupported(family, group, emit)
    elif not group.launch_template:
        emit("EKSP008", f"{group.launch_template_reason}: the module builds no launch template, so user data "
                        "never reaches the node; the proxy cannot be applied to this group")
    elif family == "AL2023":
        _al2023(module, group, settings, emit)
    elif family == "AL2":
        _al2(module, group, settings, emit)
    else:
        _bottlerocket(module, group, settings, emit)
    return findings


def current_no_proxy(group: GroupFacts) -> list[str]:
    """The NO_PROXY entries an AL2023 or AL2 group has now (empty when none can be read)."""
    if group.parts:
        env = analyse(group.parts).primary_env()
    elif group.pre_bootstrap_user_data:
        env = Coverage(scripts=(read_script(group.pre_bootstrap_user_data),)).primary_env()
    else:
        return []
    return split_no_proxy(env.get("NO_PROXY", env.get("no_proxy", "")))


def _al2023(module: ModuleFacts, group: GroupFacts, settings: Settings, emit: Emit) -> None:
    if group.parts is None:
        emit("EKSP010", f"cloudinit_pre_nodeadm is an expression ({group.parts_expression}); add the parts "
                        "printed by `eksproxy-gen render` where that list is defined")
        return
    coverage = analyse(group.parts)
    _release(group, emit)
    if not coverage.any_proxy:
        emit("EKSP001", "no proxy configuration in cloudinit_pre_nodeadm; nodeadm, containerd and kubelet "
                        "will try to reach AWS and registries directly")
        return
    if not coverage.covers("nodeadm"):
        why = "the proxy is not in a NodeConfig spec.instance.environment.default"
        if any("nodeadm" in s.dropin_units for s in coverage.scripts):
            why += "; the drop-in for nodeadm.service does nothing (there is no such unit)"
        emit("EKSP002", f"{why}: nodeadm-config calls EC2 before any shell part runs, so the node cannot join")
    _runtime_units(coverage, emit)
    _judge_env(coverage.primary_env(), module, settings, emit)
    if not any(s.writes_dnf_conf for s in coverage.scripts):
        emit("EKSP013", "no part sets proxy= in /etc/dnf/dnf.conf; dnf run outside systemd units "
                        "(an SSH session, a script with a clean environment) will not use the proxy")
    _scripts(coverage, emit, yum_is_wrong=True)
    _self_reference(group, module, emit)


def _al2(module: ModuleFacts, group: GroupFacts, settings: Settings, emit: Emit) -> None:
    emit("EKSP017", "Amazon Linux 2 is end of life for EKS; move this group to AL2023 (ami_type AL2023_*)")
    if group.parts:
        why = "ami_type is unset, so this v20 module uses the AL2 template" if group.ami_type is None \
            else f"ami_type {group.ami_type} uses the AL2 template"
        emit("EKSP008", f"cloudinit_pre_nodeadm is ignored here ({why}); the proxy must go in "
                        "pre_bootstrap_user_data, or set ami_type to an AL2023_* type")
    script = group.pre_bootstrap_user_data or ""
    coverage = Coverage(scripts=(read_script(script),)) if script else Coverage()
    if not coverage.any_proxy:
        emit("EKSP001", "no proxy in pre_bootstrap_user_data; containerd, kubelet and yum will try to reach "
                        "AWS and registries directly")
        return
    _runtime_units(coverage, emit)
    _judge_env(coverage.primary_env(), module, settings, emit)
    if not any(s.writes_yum_conf for s in coverage.scripts):
        emit("EKSP013", "pre_bootstrap_user_data does not set proxy= in /etc/yum.conf; yum will not use the proxy")
    _scripts(coverage, emit, yum_is_wrong=False)


def _bottlerocket(module: ModuleFacts, group: GroupFacts, settings: Settings, emit: Emit) -> None:
    network = read_network(group.bootstrap_extra_args)
    if network.error:
        emit("EKSP010", f"bootstrap_extra_args cannot be read because {network.error}; add https-proxy and "
                        "no-proxy to its [settings.network] table by hand")
        return
    if network.https_proxy is None:
        emit("EKSP009", "bootstrap_extra_args has no [settings.network] https-proxy; containerd, host-containerd "
                        "and kubelet will try to reach AWS and registries directly")
        return
    env = {"HTTPS_PROXY": network.https_proxy, "https_proxy": network.https_proxy}
    if network.no_proxy is not None:
        env["NO_PROXY"] = env["no_proxy"] = ",".join(network.no_proxy)
    _no_proxy(env, module, settings, emit, label="[settings.network] no-proxy")
    _configured_proxy(env, settings, emit)


def _unsupported(family: str, group: GroupFacts, emit: Emit) -> None:
    if family == "WINDOWS":
        emit("EKSP015", "Windows node groups are not supported by eksproxy-gen; configure the proxy for "
                        "containerd and kubelet in pre_bootstrap_user_data (PowerShell) by hand")
    elif family == "CUSTOM":
        emit("EKSP015", "ami_type CUSTOM uses your own user-data template; eksproxy-gen cannot check it")
    elif group.ami_type is None:
        emit("EKSP015", "ami_type is unset and the module version is unknown; set ami_type "
                        "(AL2023_x86_64_STANDARD) or a version constraint so the AMI family is known")
    else:
        emit("EKSP015", f"ami_type {group.ami_type} is not a literal; eksproxy-gen cannot tell the AMI family")


def _release(group: GroupFacts, emit: Emit) -> None:
    date = release_date(group.release_version)
    if date is not None and date < MIN_AMI_RELEASE:
        emit("EKSP012", f"ami_release_version {group.release_version} predates v{MIN_AMI_RELEASE}; older AL2023 "
                        "AMIs apply spec.instance.environment too late or not at all (use v20251120 or newer)")


def _runtime_units(coverage: Coverage, emit: Emit) -> None:
    for unit in ("containerd", "kubelet"):
        if not coverage.covers(unit):
            rule = "EKSP003" if unit == "containerd" else "EKSP004"
            emit(rule, f"{unit} does not get the proxy (no environment.default, environment.{unit} "
                       f"or {unit}.service drop-in)")


def _judge_env(env: dict[str, str], module: ModuleFacts, settings: Settings, emit: Emit) -> None:
    _variables(env, emit)
    _no_proxy(env, module, settings, emit)
    _configured_proxy(env, settings, emit)


def _variables(env: dict[str, str], emit: Emit) -> None:
    problems: list[str] = []
    if "HTTPS_PROXY" not in env and "https_proxy" not in env:
        problems.append("HTTPS_PROXY is not set (Go never falls back to HTTP_PROXY for https)")
    for upper in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        lower = upper.lower()
        if (upper in env) != (lower in env):
            have, lack = (upper, lower) if upper in env else (lower, upper)
            problems.append(f"{lack} is not set while {have} is")
        elif upper in env and normalize(env[upper]) != normalize(env[lower]):
            problems.append(f"{upper} and {lower} differ")
    if env.get("HTTP_PROXY", env.get("http_proxy")) is None:
        problems.append("HTTP_PROXY is not set")
    if problems:
        emit("EKSP005", "; ".join(problems))


def _no_proxy(env: dict[str, str], module: ModuleFacts, settings: Settings, emit: Emit,
              label: str = "NO_PROXY") -> None:
    value = env.get("NO_PROXY", env.get("no_proxy"))
    if value is None:
        emit("EKSP006", f"{label} is not set: metadata, VPC and cluster traffic would go through the proxy")
        return
    entries = split_no_proxy(value)
    required = expected.required_no_proxy(module, settings)
    for entry in required:
        if not covers(entries, entry.value):
            emit("EKSP006", f"{label} lacks {entry.value} ({entry.reason})")
    if not settings.vpc_cidrs and not _has_vpc_like(entries, required):
        emit("EKSP016", "NO_PROXY has no VPC CIDR and none is configured; set vpc_cidrs in "
                        ".eksproxy-gen.toml (or --vpc-cidr) so eksproxy-gen can check and write it")
    if not expected.blanket_allowed(settings) and any(e in expected.BLANKET_AWS for e in entries):
        emit("EKSP007", "NO_PROXY contains .amazonaws.com: every AWS call bypasses the proxy, so each AWS "
                        "service needs a VPC endpoint; list the endpoint hosts instead, or add "
                        ".amazonaws.com to no_proxy in .eksproxy-gen.toml to accept it")


def _has_vpc_like(entries: list[str], required: tuple[expected.Entry, ...]) -> bool:
    """Some entry beyond the required ones that looks like a VPC range: a CIDR or an interpolation."""
    known = {normalize(e.value) for e in required}
    for entry in entries:
        text = normalize(entry)
        if text in known:
            continue
        if "${" in text or ("/" in text and text[0].isdigit()):
            return True
    return False


def _configured_proxy(env: dict[str, str], settings: Settings, emit: Emit) -> None:
    if settings.proxy is None:
        return
    actual = env.get("HTTPS_PROXY", env.get("https_proxy"))
    if actual is not None and normalize(actual).rstrip("/") != normalize(settings.proxy).rstrip("/"):
        emit("EKSP011", f"proxy is {mask_credentials(actual)} but the configured proxy is "
                        f"{mask_credentials(settings.proxy)}")


def _scripts(coverage: Coverage, emit: Emit, yum_is_wrong: bool) -> None:
    for script in coverage.scripts:
        if "nodeadm" in script.dropin_units:
            emit("EKSP014", "a shell part writes a drop-in for nodeadm.service, a unit that does not exist "
                            "(nodeadm runs as nodeadm-config and nodeadm-run), so it does nothing (P4)")
        if script.overwrites_etc_environment:
            emit("EKSP014", "a shell part overwrites /etc/environment (P4); use NodeConfig "
                            "spec.instance.environment instead")
        if yum_is_wrong and script.writes_yum_conf:
            emit("EKSP014", "a shell part writes /etc/yum.conf, which dnf on AL2023 does not read (P6)")
        if script.set_x and script.has_credentials:
            emit("EKSP014", "a shell part runs `set -x` while it holds a proxy URL with credentials: they end "
                            "up in cloud-init logs (P8)")


def _self_reference(group: GroupFacts, module: ModuleFacts, emit: Emit) -> None:
    pattern = re.compile(r"\$\{[^}]*\bmodule\." + re.escape(module.name) + r"\.")
    if any(part.content and pattern.search(part.content) for part in group.parts or ()):
        emit("EKSP014", f"a part refers to module.{module.name} inside module \"{module.name}\" itself; "
                        "Terraform rejects that with a Cycle error (use the module's own service CIDR argument)")
