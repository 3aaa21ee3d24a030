"""Findings for one boot target: the single place where the rules decide.

A node group and a Karpenter node class are judged by the same code: once the
AMI family is known, what matters is the user data the node boots with (the
AL2023 parts, the AL2 script, the Bottlerocket TOML), and ``judge_boot`` takes
exactly that, with the family said explicitly.
"""

from __future__ import annotations

import re

from . import expected, nodeconfig
from .bottlerocket import read_network
from .catalog import (
    AL2_END_OF_LIFE,
    AMI_TOO_OLD,
    BLANKET_AMAZONAWS,
    BOTTLEROCKET_PROXY_MISSING,
    CONTAINERD_NOT_COVERED,
    HARMFUL_SCRIPT,
    KUBELET_NOT_COVERED,
    NO_PROXY_INCOMPLETE,
    NODEADM_NOT_COVERED,
    NODECONFIG_CLUSTER,
    NOT_STATIC,
    PACKAGE_MANAGER,
    PROXY_DIFFERS,
    PROXY_INEFFECTIVE,
    PROXY_MISSING,
    SCRIPT_NOT_RUN,
    UNSUPPORTED,
    VARIABLES_INCONSISTENT,
    VPC_CIDR_UNKNOWN,
    Finding,
    Rule,
    TargetRef,
)
from .coverage import Coverage, analyse
from .delivery import ami_family
from .facts import BOOTHOOK_PREFIX, BOOTHOOK_TYPE, GroupFacts, ModuleFacts, Opaque, Origin, Part, starts_with_shebang
from .family import Family, FamilyVerdict
from .nodeconfig_lint import lint
from .scripts import harmful_lines, read_script
from .settings import SettingError, Settings, validate
from .values import covers, mask_credentials, normalize, shorten, split_no_proxy

MIN_AMI_RELEASE = 20251120


class Sink:
    """Collects one target's findings; ``note`` qualifies every message (an inferred major version)."""

    def __init__(self, ref: TargetRef, note: str = "") -> None:
        self.ref, self.note = ref, note
        self.findings: list[Finding] = []

    def __call__(self, rule: Rule, message: str, line: int | None = None, file: str | None = None) -> None:
        if self.note:
            message = f"{message} ({self.note})"
        self.findings.append(self.ref.finding(rule, message, line, file))


def group_ref(module: ModuleFacts, group: GroupFacts) -> TargetRef:
    """A node group as a target: owned by its module call, keyed by its map and name."""
    return TargetRef(module.name, module.file, module.line, group.map, group.name, group.file or module.file,
                     group.line)


def evaluate_group(module: ModuleFacts, group: GroupFacts, settings: Settings) -> list[Finding]:
    if group.unreadable is not None:
        sink = Sink(group_ref(module, group))
        _opaque(group.unreadable, sink)
        return sink.findings
    verdict = ami_family(module, group)
    sink = Sink(group_ref(module, group), verdict.note)
    if verdict.family is None or not verdict.family.supported:
        unsupported(verdict, sink)
    elif verdict.mismatch:
        sink(PROXY_INEFFECTIVE, verdict.mismatch)
    elif isinstance(group.launch_template, Opaque):
        _opaque(group.launch_template, sink, verdict.family)
    elif not group.launch_template:
        sink(PROXY_INEFFECTIVE, f"{group.launch_template_reason}: the module builds no launch template, so user "
                                "data never reaches the node; the proxy cannot be applied to this group")
    else:
        judge_boot(verdict, module, group, settings, sink)
    return sink.findings


def judge_boot(boot: FamilyVerdict, module: ModuleFacts, group: GroupFacts, settings: Settings, sink: Sink) -> None:
    """The rules for the user data of one node, by its family and what reaches it; ``module`` is the cluster."""
    if boot.family is Family.AL2023:
        _al2023(boot, module, group, settings, sink)
    elif boot.family is Family.AL2:
        _al2(boot, module, group, settings, sink)
    elif boot.family is Family.BOTTLEROCKET:
        _bottlerocket(module, group, settings, sink)
    else:
        raise ValueError(f"{boot.family} user data is not judged")


def _named(group: GroupFacts, setting: str) -> str:
    """The name the user knows the setting by: the module's argument, or a node class's spec.userData."""
    return group.user_data_setting or setting


# What to paste where a value cannot be read, in the words of the family's own user data.
_PASTE = {
    Family.AL2023: "add the parts printed by `eksproxy-gen render` where that value is defined",
    Family.AL2: "add the block printed by `eksproxy-gen render --family al2` to the script where that value is "
                "defined",
    Family.BOTTLEROCKET: "add the [settings.network] keys printed by `eksproxy-gen render --family bottlerocket` "
                         "where that value is defined",
}


def _opaque(opaque: Opaque, sink: Sink, family: Family | None = None) -> None:
    where = f" (at {opaque.where})" if opaque.where else ""
    paste = _PASTE.get(family) if family is not None else None
    advice = paste or ("set the proxy where that value is defined (`eksproxy-gen render --family al2023|al2|"
                       "bottlerocket` prints what each family needs)")
    if opaque.refused:
        sink(NOT_STATIC, f"{opaque.setting}: {shorten(opaque.expression)}{where}, so it was not read; eksproxy-gen "
                         "neither judges nor rewrites this group: give a path that holds that file too (such as "
                         f"the repository's root), make it a literal, or {advice}")
        return
    sink(NOT_STATIC, f"{opaque.setting} is {shorten(opaque.expression)}{where}, which only Terraform can compute; "
                     f"eksproxy-gen neither judges nor rewrites this group: make it a literal, or {advice}")


def readable_parts(group: GroupFacts, sink: Sink) -> tuple[Part, ...] | None:
    """The group's parts when every one can be read; otherwise one EKSP010 naming what cannot."""
    if isinstance(group.parts, Opaque):
        _opaque(group.parts, sink, Family.AL2023)
        return None
    for part in group.parts:
        if part.opaque is not None:
            _opaque(part.opaque, sink, Family.AL2023)
            return None
    return group.parts


def current_proxy(family: Family | None, group: GroupFacts) -> str | None:
    """The proxy URL a group's nodes use now (HTTPS_PROXY first), when its user data can be read; else None."""
    if family is Family.BOTTLEROCKET:
        text = group.bootstrap_extra_args
        return read_network(text).https_proxy if isinstance(text, str) else None
    if family is Family.AL2023 and isinstance(group.parts, tuple):
        env = analyse(group.parts).primary_env()
    elif family is Family.AL2 and isinstance(group.pre_bootstrap_user_data, str):
        env = read_script(group.pre_bootstrap_user_data).env
    else:
        return None
    return next((env[v] for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy") if env.get(v)), None)


def current_no_proxy(group: GroupFacts) -> list[str]:
    """The NO_PROXY entries an AL2023 or AL2 group has now (empty when none can be read)."""
    if isinstance(group.parts, tuple) and group.parts:
        env = analyse(group.parts).primary_env()
    elif isinstance(group.pre_bootstrap_user_data, str):
        env = Coverage(scripts=(read_script(group.pre_bootstrap_user_data),)).primary_env()
    else:
        return []
    return split_no_proxy(env.get("NO_PROXY", env.get("no_proxy", "")))


def _al2023(boot: FamilyVerdict, module: ModuleFacts, group: GroupFacts, settings: Settings, sink: Sink) -> None:
    if boot.delivered is not None and "cloudinit_pre_nodeadm" not in boot.delivered:
        sink(PROXY_INEFFECTIVE, f"cloudinit_pre_nodeadm does not reach the node with terraform-aws-eks "
                                f"{_releases(module)} (the root module passes it to node groups from v20.8.4), so no "
                                "proxy can be given to this group's nodes; upgrade the module to v20.9 or later")
        return
    parts = readable_parts(group, sink)
    if parts is None:
        return
    _lint_nodeconfig(group, _named(group, "cloudinit_pre_nodeadm"), parts, sink)
    _not_run(group, parts, sink)
    post: tuple[Part, ...] = ()
    if isinstance(group.post_parts, tuple):
        _lint_nodeconfig(group, "cloudinit_post_nodeadm", group.post_parts, sink)
        if boot.delivered is not None and "cloudinit_post_nodeadm" in boot.delivered:
            post = group.post_parts  # nodeadm merges these too, after the module's own NodeConfig
    coverage = analyse((*parts, *post))
    _release(group, sink)
    if not coverage.any_proxy:
        sink(PROXY_MISSING, f"no proxy configuration in {_named(group, 'cloudinit_pre_nodeadm')}; nodeadm, "
                            "containerd and kubelet will try to reach AWS and registries directly")
        return
    if not coverage.reaches("nodeadm"):
        sink(NODEADM_NOT_COVERED, "the proxy is not in a NodeConfig spec.instance.environment.default: nodeadm-config "
                                  "calls EC2 before any shell part runs, so the node cannot join")
    _runtime_units(coverage, sink)
    _judge_env(coverage.primary_env(), module, settings, sink)
    for unit, var in coverage.unit_overrides():
        sink(VARIABLES_INCONSISTENT, f"environment.{unit} sets {var} to another value than environment.default; "
                                     f"systemd gives {unit} its own value")
    if not any(s.writes_dnf_conf for s in coverage.scripts):
        sink(PACKAGE_MANAGER, "no part sets proxy= in /etc/dnf/dnf.conf; dnf run outside systemd units "
                              "(an SSH session, a script with a clean environment) will not use the proxy")
    for part in parts:
        if part.is_shell or (part.content_type is None and part.text):
            _harmful(part, module, sink)


def _releases(module: ModuleFacts) -> str:
    from .module_versions import released, span

    return span(module.versions or frozenset(released()))


def _al2(boot: FamilyVerdict, module: ModuleFacts, group: GroupFacts, settings: Settings, sink: Sink) -> None:
    sink(AL2_END_OF_LIFE, "Amazon Linux 2 is end of life for EKS; move this group to AL2023 (ami_type AL2023_*)")
    if isinstance(group.parts, tuple) and group.parts:
        why = "the module's default for an unset ami_type is the AL2 template" if group.ami_type is None \
            else f"ami_type {group.ami_type} uses the AL2 template"
        sink(PROXY_INEFFECTIVE, f"cloudinit_pre_nodeadm is ignored here ({why}); the proxy must go in "
                                "pre_bootstrap_user_data, or set ami_type to an AL2023_* type")
    if isinstance(group.pre_bootstrap_user_data, Opaque):
        _opaque(group.pre_bootstrap_user_data, sink, Family.AL2)
        return
    script = group.pre_bootstrap_user_data or ""
    runs = not script or starts_with_shebang(script) or not boot.own_part
    if not runs:
        sink(SCRIPT_NOT_RUN, f"{_named(group, 'pre_bootstrap_user_data')} has no #! first line: "
                             f"{_own_part_why(group)}, which cloud-init runs as a program and cannot run without "
                             "one (\"Exec format error\"), so nothing in it happens; start it with #!/bin/bash",
             *_at(group.pre_bootstrap_origin, 0))
    coverage = Coverage(scripts=(read_script(script),)) if script and runs else Coverage()
    if not coverage.any_proxy:
        sink(PROXY_MISSING, f"no proxy in {_named(group, 'pre_bootstrap_user_data')}; containerd, kubelet and yum "
                            "will try to reach AWS and registries directly")
        return
    _runtime_units(coverage, sink, Family.AL2, _named(group, "pre_bootstrap_user_data"))
    _judge_env(coverage.primary_env(), module, settings, sink)
    if not any(s.writes_yum_conf for s in coverage.scripts):
        sink(PACKAGE_MANAGER, f"{_named(group, 'pre_bootstrap_user_data')} does not set proxy= in /etc/yum.conf; "
                              "yum will not use the proxy")
    facts = coverage.scripts[0]
    if facts.overwrites_etc_environment or (facts.set_x and facts.has_credentials):
        for index, why in harmful_lines(script):
            if "yum.conf" not in why:
                sink(HARMFUL_SCRIPT, f"{_named(group, 'pre_bootstrap_user_data')} line {index + 1} {why}",
                     *_at(group.pre_bootstrap_origin, index))


def _own_part_why(group: GroupFacts) -> str:
    if group.kind == "karpenter":
        return "Karpenter passes it on as a text/x-shellscript part of the node's user data"
    return "for a managed node group on the EKS AMI the module passes it on as a text/x-shellscript part"


def _not_run(group: GroupFacts, parts: tuple[Part, ...], sink: Sink) -> None:
    """EKSP027 for every part cloud-init executes and cannot run: a script (also per boot, instance or once) or a
    boothook without a ``#!`` line."""
    for index, part in enumerate(parts):
        if part.executed and not part.runs:
            after = f" (after its {BOOTHOOK_PREFIX} line)" if part.cloud_init_type == BOOTHOOK_TYPE else ""
            sink(SCRIPT_NOT_RUN, f"{_named(group, 'cloudinit_pre_nodeadm')}[{index}] is a {part.cloud_init_type} "
                                 f"part without a #! first line{after}: cloud-init runs it as a program and cannot "
                                 "(\"Exec format error\"), so nothing in it happens; start it with #!/bin/bash",
                 *_at(part.origin, 0))


def _bottlerocket(module: ModuleFacts, group: GroupFacts, settings: Settings, sink: Sink) -> None:
    if isinstance(group.bootstrap_extra_args, Opaque):
        _opaque(group.bootstrap_extra_args, sink, Family.BOTTLEROCKET)
        return
    network = read_network(group.bootstrap_extra_args)
    name = _named(group, "bootstrap_extra_args")
    if network.computed:
        key, expression = network.computed[0]
        sink(NOT_STATIC, f"{name}: [settings.network] {key} is {shorten(expression)}, which only Terraform can "
                         "compute; eksproxy-gen neither judges nor rewrites this group: make it a literal, or check "
                         "the value it renders to by hand")
        return
    if network.error:
        sink(NOT_STATIC, f"{name} cannot be read because {network.error}; add https-proxy and "
                         "no-proxy to its [settings.network] table by hand")
        return
    if network.https_proxy is None:
        sink(BOTTLEROCKET_PROXY_MISSING, f"{name} has no [settings.network] https-proxy; containerd, "
                                         "host-containerd and kubelet will try to reach AWS and registries directly")
        return
    env = {"HTTPS_PROXY": network.https_proxy, "https_proxy": network.https_proxy}
    if network.no_proxy is not None:
        env["NO_PROXY"] = env["no_proxy"] = ",".join(network.no_proxy)
    _no_proxy(env, module, settings, sink, label="[settings.network] no-proxy")
    _configured_proxy(env, settings, sink)


def unsupported(verdict: FamilyVerdict, sink: Sink) -> None:
    if verdict.family is Family.WINDOWS:
        sink(UNSUPPORTED, "Windows node groups are not supported by eksproxy-gen; configure the proxy for "
                          "containerd and kubelet in pre_bootstrap_user_data (PowerShell) by hand")
    elif verdict.family is Family.CUSTOM:
        sink(UNSUPPORTED, "ami_type CUSTOM uses your own user-data template; eksproxy-gen cannot check it")
    else:
        sink(UNSUPPORTED, f"the AMI family cannot be told, so this group is neither judged nor rewritten: "
                          f"{verdict.why}")


def _release(group: GroupFacts, sink: Sink) -> None:
    match = re.search(r"(20\d{6})", group.release_version or "")
    if match and int(match.group(1)) < MIN_AMI_RELEASE:
        sink(AMI_TOO_OLD, f"ami_release_version {group.release_version} predates v{MIN_AMI_RELEASE}; older AL2023 "
                          "AMIs apply spec.instance.environment too late or not at all (use v20251120 or newer)")


def _runtime_units(coverage: Coverage, sink: Sink, family: Family = Family.AL2023, setting: str = "") -> None:
    """EKSP003/EKSP004, in the words of the family's own mechanism: NodeConfig on AL2023; on AL2 (no nodeadm)
    a systemd drop-in that the script writes, with Environment= or an EnvironmentFile."""
    for unit, rule in (("containerd", CONTAINERD_NOT_COVERED), ("kubelet", KUBELET_NOT_COVERED)):
        if coverage.reaches(unit):
            continue
        if family is Family.AL2:
            sink(rule, f"{unit} does not get the proxy: {setting or 'the script'} writes no "
                       f"/etc/systemd/system/{unit}.service.d/ drop-in that sets HTTPS_PROXY (Environment= or an "
                       f"EnvironmentFile= such as /etc/eksproxy-gen/proxy.env), and systemd gives {unit} nothing "
                       "else; exports in the script reach only the script and bootstrap.sh")
        else:
            sink(rule, f"{unit} does not get the proxy (no environment.default, environment.{unit} "
                       f"or {unit}.service drop-in)")


def _judge_env(env: dict[str, str], module: ModuleFacts, settings: Settings, sink: Sink) -> None:
    _variables(env, sink)
    _no_proxy(env, module, settings, sink)
    _configured_proxy(env, settings, sink)


def _variables(env: dict[str, str], sink: Sink) -> None:
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
    problems += port_problems(env)
    if problems:
        sink(VARIABLES_INCONSISTENT, "; ".join(problems))


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


def port_problems(env: dict[str, str]) -> list[str]:
    """The proxy URLs of ``env`` that name no port, each with the variables that hold it, in the words
    ``settings.validate`` refuses such a URL with: programs that read the same variable dial different ports.

    ``fix`` refuses to write a URL without a port (configured, or inferred from
    the groups), so ``check`` must say so of a group that already uses one.
    """
    holders: dict[str, list[str]] = {}
    for var in _PROXY_VARIABLES:
        url = env.get(var)
        if url is not None:
            holders.setdefault(url.strip(), []).append(var)
    problems: list[str] = []
    for url, names in holders.items():
        why = _no_port(url)
        if why is not None:
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            problems.append(f"{listed} {'is' if len(names) == 1 else 'are'} {mask_credentials(url)}: {why}")
    return problems


def _no_port(url: str) -> str | None:
    """Why a literal http(s) proxy URL without a port cannot be used (None: it has one, or is not literal).

    The scheme and host alone are handed to ``settings.validate`` (once with a
    port, so a host it refuses is left to other checks), which refuses them for
    the missing port: the message is the one fix gives, and no credential ever
    reaches it. A URL without a scheme is read as http, as
    Go and curl read it.
    """
    if "${" in url or "%{" in url:
        return None  # Terraform computes it
    scheme, found, rest = url.partition("://")
    if not found:
        scheme, rest = "http", url
    if scheme.lower() not in {"http", "https"}:
        return None
    server = rest.rpartition("@")[2].partition("/")[0].partition("?")[0].partition("#")[0]
    if server.startswith("["):
        host, _closed, after = server.partition("]")
        host, port = host + "]", after.removeprefix(":") if after else None
    else:
        host, _colon, port = server.partition(":")
    if port or not host:
        return None
    written = f"{scheme.lower()}://{host}"
    try:
        validate(f"{written}:3128", [], [], None, "URL")  # the host itself is another matter, not this one's
    except SettingError:
        return None
    try:
        validate(written, [], [], None, "URL")
    except SettingError as exc:
        return str(exc).removeprefix("URL: proxy: ")
    return None


def _no_proxy(env: dict[str, str], module: ModuleFacts, settings: Settings, sink: Sink,
              label: str = "NO_PROXY") -> None:
    value = env.get("NO_PROXY", env.get("no_proxy"))
    if value is None:
        sink(NO_PROXY_INCOMPLETE, f"{label} is not set: metadata, VPC and cluster traffic would go through the proxy")
        return
    entries = split_no_proxy(value)
    refs = dict(module.refs)
    required = expected.required_no_proxy(module, settings)
    for entry in required:
        if not covers(entries, entry.value, refs):
            sink(NO_PROXY_INCOMPLETE, f"{label} lacks {entry.value} ({entry.reason})")
    if not settings.vpc_cidrs and not _has_vpc_like(entries, required):
        sink(VPC_CIDR_UNKNOWN, "NO_PROXY has no VPC CIDR and none is configured; set vpc_cidrs in "
                               ".eksproxy-gen.toml (or --vpc-cidr) so eksproxy-gen can check and write it")
    if not expected.blanket_allowed(settings) and any(e in expected.BLANKET_AWS for e in entries):
        sink(BLANKET_AMAZONAWS, "NO_PROXY contains .amazonaws.com: every AWS call bypasses the proxy, so each AWS "
                                "service needs a VPC endpoint; list the endpoint hosts instead, or add "
                                ".amazonaws.com to no_proxy in .eksproxy-gen.toml to accept it")


def _has_vpc_like(entries: list[str], required: tuple[expected.Entry, ...]) -> bool:
    """Some entry beyond the required ones that looks like a VPC range: a CIDR or an interpolation."""
    known = {normalize(e.value) for e in required}
    for entry in entries:
        text = normalize(entry)
        if text in known:
            continue
        if "${" in text or "$" in text or ("/" in text and text[0].isdigit()):
            return True
    return False


def _configured_proxy(env: dict[str, str], settings: Settings, sink: Sink) -> None:
    if settings.proxy is None:
        return
    wanted = normalize(settings.proxy)
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        have = env.get(var)
        if have is not None and normalize(have).rstrip("/") != wanted.rstrip("/"):
            sink(PROXY_DIFFERS, f"{var} is {mask_credentials(have)}, not the configured "
                                f"{mask_credentials(settings.proxy)}")
            return


def _lint_nodeconfig(group: GroupFacts, setting: str, parts: tuple[Part, ...], sink: Sink) -> None:
    """Each NodeConfig part against nodeadm's API, and spec.cluster where EKS writes its own."""
    for index, part in enumerate(parts):
        if not part.is_nodeconfig or part.text is None:
            continue
        for problem in lint(part.text):
            where = _at(part.origin, problem.line - 1) if problem.line else (None, None)
            sink(problem.rule, f"{setting}[{index}]: {problem.message}", *where)
        if group.kind == "eks_managed" and not group.custom_ami and _sets_cluster(part.text):
            sink(NODECONFIG_CLUSTER, f"{setting}[{index}] sets spec.cluster, but EKS adds its own NodeConfig with "
                                     "the cluster's details after your parts for a managed node group on an EKS AMI, "
                                     "and nodeadm lets the later one win: remove spec.cluster (it is needed only "
                                     "with a custom AMI)")


def _sets_cluster(text: str) -> bool:
    docs = nodeconfig.read(text).items
    spec = docs[0].get("spec") if docs and isinstance(docs[0], dict) else None
    return isinstance(spec, dict) and spec.get("cluster") is not None


def _harmful(part: Part, module: ModuleFacts, sink: Sink) -> None:
    """EKSP014: one finding per harmful line of a hand-written shell part, at that line."""
    text = part.text or ""
    for index, why in harmful_lines(text):
        sink(HARMFUL_SCRIPT, f"a shell part {why}", *_at(part.origin, index))
    pattern = re.compile(r"\$\{[^}]*\bmodule\." + re.escape(module.name) + r"\.")
    for index, line in enumerate(text.split("\n")):
        if pattern.search(line):
            sink(HARMFUL_SCRIPT, f"a shell part refers to module.{module.name} inside module \"{module.name}\" "
                                 "itself; Terraform rejects that with a Cycle error (use the module's own service "
                                 "CIDR argument)", *_at(part.origin, index))


def _at(origin: Origin | None, index: int) -> tuple[int | None, str | None]:
    if origin is None:
        return None, None
    return origin.line(index), origin.file
