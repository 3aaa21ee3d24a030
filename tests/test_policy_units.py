"""Unit tests of the matching functions the rules rest on, and of families and versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eksproxy_gen.module_source import classify
from eksproxy_gen.parse_errors import scan
from eksproxy_gen.policy import module_versions
from eksproxy_gen.policy.delivery import ami_family
from eksproxy_gen.policy.expected import carry_over, required_no_proxy
from eksproxy_gen.policy.facts import GroupFacts, ModuleFacts, Opaque
from eksproxy_gen.policy.scripts import harmful_lines, proxy_cut
from eksproxy_gen.policy.settings import Settings
from eksproxy_gen.policy.values import covers, mask_credentials, normalize, resolve, split_no_proxy


@pytest.mark.parametrize(("entries", "wanted", "expected"), [
    (["10.0.0.0/8"], "10.20.0.0/16", True),
    (["10.20.0.0/16"], "10.0.0.0/8", False),
    (["10.0.0.0/16"], "10.0.0.0/16", True),
    (["fd00::/8"], "fd00:ec2::254", True),
    (["10.0.0.0/8"], "fd00:ec2::254", False),
    ([".eks.amazonaws.com"], ".eks.amazonaws.com", True),
    (["amazonaws.com"], ".eks.amazonaws.com", True),
    ([".amazonaws.com"], "eks.amazonaws.com", True),
    ([".example.com"], ".internal", False),
    (["INTERNAL"], ".internal", True),
    (["${ var.cidr }"], "${var.cidr}", True),
    (["${var.cidr}"], "10.0.0.0/16", False),
    (["${module.vpc.vpc_cidr_block}"], "10.20.0.0/16", False),
])
def test_covers(entries: list[str], wanted: str, expected: bool) -> None:
    assert covers(entries, wanted) is expected


def test_covers_resolves_references_the_folder_defines() -> None:
    refs = {"module.vpc.vpc_cidr_block": "10.20.0.0/16"}
    assert covers(["${module.vpc.vpc_cidr_block}"], "10.20.0.0/16", refs)
    assert covers(["10.20.0.0/16"], "${ module.vpc.vpc_cidr_block }", refs)
    assert resolve("${module.vpc.vpc_cidr_block}", refs) == "10.20.0.0/16"
    assert normalize(" ${ a.b } ") == "${a.b}"


@pytest.mark.parametrize(("value", "entries"), [
    ("a,b ,, c", ["a", "b", "c"]),
    ("${join(\",\", var.x)},localhost", ['${join(",", var.x)}', "localhost"]),
    ("", []),
])
def test_split_no_proxy(value: str, entries: list[str]) -> None:
    assert split_no_proxy(value) == entries


@pytest.mark.parametrize(("text", "masked"), [
    ("http://u:p@h:1", "http://***@h:1"),
    ("x https://user:p@ss@proxy:3128/ y", "x https://***@proxy:3128/ y"),
    ("http://proxy:3128", "http://proxy:3128"),
    ("see u:p@h", "see ***@h"),  # no scheme: Bottlerocket, curl and Go take user:pass@host:port
    ("HTTPS_PROXY=u:p@h:1,NO_PROXY=x", "HTTPS_PROXY=***@h:1,NO_PROXY=x"),
    ("http:/u:p@h:1", "***@h:1"),
    ("ssh git@github.com:org/repo.git", "ssh git@github.com:org/repo.git"),  # no password: nothing to hide
    ("mail ops@corp.example", "mail ops@corp.example"),
    ("pull nginx:1.25@sha256:0a1b", "pull nginx:1.25@sha256:0a1b"),  # an image digest is no user-info
])
def test_mask_credentials(text: str, masked: str) -> None:
    assert mask_credentials(text) == masked


@pytest.mark.parametrize(("constraint", "first", "last"), [
    ("21.1.0", "21.1.0", "21.1.0"), ("~> 21.0", "21.0.0", "21.19.0"), ("~> 20.31", "20.31.0", "20.37.2"),
    ("~> 20.31.2", "20.31.2", "20.31.6"), (">= 20.8, < 21.0", "20.8.0", "20.37.2"), (">= 20.8, < 21", "20.8.0",
    "20.37.2"), ("!= 21.0.0, ~> 21.0", "21.0.1", "21.19.0"), ("v21.3.0", "21.3.0", "21.3.0"),
    ("~> 20.8.3", "20.8.3", "20.8.5"), ("~> 20", "20.0.0", "21.19.0"),
])
def test_constraint_versions(constraint: str, first: str, last: str) -> None:
    """Terraform's operators over the releases the module has had (~> lets only the last given segment grow)."""
    admitted = module_versions.constraint_versions(constraint)
    assert admitted is not None
    ordered = sorted(admitted, key=module_versions.key)
    assert (ordered[0], ordered[-1]) == (first, last)
    assert all(module_versions.key(first) <= module_versions.key(v) <= module_versions.key(last) for v in admitted)


def test_a_constraint_that_cannot_be_read_admits_nothing_known() -> None:
    assert module_versions.constraint_versions("latest") is None
    assert module_versions.ref_versions("main") is None
    assert module_versions.ref_versions("v20.8.3") == frozenset({"20.8.3"})


@pytest.mark.parametrize(("source", "kind", "ref"), [
    ("terraform-aws-modules/eks/aws", "root", None),
    ("terraform-aws-modules/eks/aws//modules/self-managed-node-group", "self_managed", None),
    ("git::https://github.com/terraform-aws-modules/terraform-aws-eks.git//modules/eks-managed-node-group"
     "?ref=v20.1.0", "eks_managed", "v20.1.0"),
    ("git::ssh://git@github.com/acme/terraform-aws-eks.git?depth=1&ref=abc", "root", "abc"),
    ("terraform-aws-modules/vpc/aws", None, None),
    ("acme/eks/aws", None, None),
    ("terraform-aws-modules/eks/aws//modules/karpenter", None, None),
])
def test_classify(source: str, kind: str | None, ref: str | None) -> None:
    found = classify(source, Path("."))
    assert (found.kind if found else None, found.ref if found else None) == (kind, ref)


def _module(versions: str, basis: str = "") -> ModuleFacts:
    admitted = module_versions.constraint_versions(versions)
    assert admitted
    return ModuleFacts("eks", "main.tf", 1, admitted, basis)


@pytest.mark.parametrize(("versions", "group", "family"), [
    ("~> 21.0", GroupFacts("g", 2), "AL2023"),
    (">= 20.9, < 21", GroupFacts("g", 2), "AL2"),
    ("~> 20.0", GroupFacts("g", 2, platform="bottlerocket"), "BOTTLEROCKET"),
    ("~> 19.0", GroupFacts("g", 2, platform="bottlerocket", ami_type="AL2023_x86_64_STANDARD"), "BOTTLEROCKET"),
    ("~> 19.0", GroupFacts("g", 2, platform="windows"), "WINDOWS"),
    ("~> 19.0", GroupFacts("g", 2, ami_type="BOTTLEROCKET_x86_64"), "AL2"),
    ("~> 20.8.0", GroupFacts("g", 2, ami_type="AL2023_x86_64_STANDARD"), "AL2"),
    (">= 20.9, < 22", GroupFacts("g", 2, ami_type="AL2023_ARM_64_STANDARD"), "AL2023"),
    ("~> 21.0", GroupFacts("g", 2, ami_type="CUSTOM"), "CUSTOM"),
    ("~> 21.0", GroupFacts("g", 2, ami_type="AL2023_${var.arch}_STANDARD"), "AL2023"),
    ("~> 21.0", GroupFacts("g", 2, kind="self_managed"), "AL2023"),
    ("~> 20.9", GroupFacts("g", 2, kind="self_managed"), "AL2"),
    (">= 20.0, < 22", GroupFacts("g", 2), None),
    (">= 20.0, < 22", GroupFacts("g", 2, ami_type="AL2023_x86_64_STANDARD"), None),
    ("~> 21.0", GroupFacts("g", 2, ami_type=Opaque("ami_type", "var.ami")), None),
])
def test_ami_family(versions: str, group: GroupFacts, family: str | None) -> None:
    assert ami_family(_module(versions), group).family == family


@pytest.mark.parametrize(("versions", "group"), [
    ("~> 19.0", GroupFacts("g", 2, ami_type="BOTTLEROCKET_x86_64")),
    ("~> 20.8.0", GroupFacts("g", 2, ami_type="AL2023_x86_64_STANDARD")),
    ("~> 19.0", GroupFacts("g", 2, platform="bottlerocket", ami_type="AL2023_x86_64_STANDARD")),
])
def test_a_template_that_does_not_fit_the_ami_is_said(versions: str, group: GroupFacts) -> None:
    verdict = ami_family(_module(versions), group)
    assert verdict.mismatch.startswith(f"ami_type {group.ami_type} makes EKS launch an ")
    assert "writes this group's user data in the" in verdict.mismatch


def test_an_inferred_family_says_so_only_when_it_depended_on_the_version() -> None:
    module = _module(">= 21.0", "module version taken as v21.0.0 to v21.19.0 from its arguments")
    assert "pin version" in ami_family(module, GroupFacts("g", 2)).note
    steady = GroupFacts("g", 2, ami_type="BOTTLEROCKET_x86_64", platform="bottlerocket")
    assert ami_family(module, steady).note == ""  # every release from v19 gives it the Bottlerocket template


def test_required_no_proxy_on_ipv6_with_a_service_cidr_expression() -> None:
    module = ModuleFacts("eks", "main.tf", 1, ipv6=True, service_cidr="${var.svc}", private_endpoint=False)
    values = [e.value for e in required_no_proxy(module, Settings(vpc_cidrs=("10.0.0.0/16",)))]
    assert values == ["localhost", "127.0.0.1", "169.254.169.254", "fd00:ec2::254", "10.0.0.0/16",
                      '${coalesce(var.svc, "fc00::/7")}', ".internal"]


def test_carry_over_keeps_drops_and_refuses_to_guess() -> None:
    module = ModuleFacts("eks", "main.tf", 1, service_cidr="172.20.0.0/16")
    carry = carry_over(["localhost", ".corp.example", "$VPC_CIDR", "${VPC}", ".amazonaws.com",
                        "${module.eks.cluster_service_cidr}", "${module.vpc.vpc_cidr_block}", "a b"],
                       module, Settings())
    assert carry.kept == (".corp.example", "${module.vpc.vpc_cidr_block}")
    assert carry.unknowable == ("$VPC_CIDR", "${VPC}", "a b")
    assert carry.dropped == (".amazonaws.com", "${module.eks.cluster_service_cidr}")


def test_proxy_cut_of_the_copied_script_is_whole() -> None:
    script = ("#!/bin/bash\nset -ex\nPROXY=http://p:1\nTOKEN=$(curl -sX PUT http://169.254.169.254/x)\n"
              'VPC_CIDR=$(curl -s -H "t: $TOKEN" http://169.254.169.254/y)\n'
              "cat > /etc/environment <<EOF\nHTTPS_PROXY=$PROXY\nNO_PROXY=$VPC_CIDR\nEOF\n"
              "mkdir -p /etc/systemd/system/containerd.service.d\n"
              "echo proxy=$PROXY >> /etc/yum.conf\nsystemctl daemon-reload\nsystemctl restart containerd\n")
    assert proxy_cut(script).whole


def test_proxy_cut_keeps_other_commands_and_the_variables_they_use() -> None:
    script = ("#!/bin/bash\nP=http://p:1\necho HTTPS_PROXY=$P > /etc/environment\ncurl -x $P https://x/y\n"
              "systemctl daemon-reload\nsystemctl enable --now agent\n")
    cut = proxy_cut(script)
    assert not cut.whole
    assert cut.kept == "#!/bin/bash\nP=http://p:1\ncurl -x $P https://x/y\nsystemctl daemon-reload\n" \
                       "systemctl enable --now agent\n"
    assert cut.removable == (2,)


def test_proxy_cut_refuses_a_line_that_does_two_things() -> None:
    cut = proxy_cut("#!/bin/bash\necho HTTPS_PROXY=x >> /etc/environment; dnf install -y a\n")
    assert (cut.whole, cut.kept, cut.removable) == (False, None, (1,))
    assert "together" in cut.reason


def test_harmful_lines_name_each_harm_once_at_its_first_line() -> None:
    text = ("#!/bin/bash\nset -x\nexport HTTPS_PROXY=http://u:pw@p:1\ncat > /etc/environment <<EOF\nEOF\n"
            "tee /etc/environment < /dev/null\nmkdir -p /etc/systemd/system/nodeadm.service.d\n"
            "echo x > /etc/systemd/system/nodeadm.service.d/a.conf\necho proxy=x >> /etc/yum.conf\n")
    assert [index for index, _ in harmful_lines(text)] == [1, 3, 6, 8]




@pytest.mark.parametrize(("text", "found"), [
    ('a = "x\n', (1, "a quoted string opened here is not closed on the same line")),
    ("a = [1,\n", (1, 'the "[" opened here is never closed')),
    ("b {\n  c = <<EOT\nx\n}\n", (2, "the heredoc <<EOT opened here has no closing EOT line")),
    ("a = 1 }\n", (1, '"}" closes nothing: there is no open "{" before it')),
    ("b {\n  c = [1, 2}\n}\n", (2, '"}" found where "]" should close the "[" opened at line 2')),
    ("/* x\n", (1, "a /* comment opened here is never closed")),
    ('b {\n  # "{"\n  c = "}"\n}\n', None),
])
def test_scan_finds_what_is_not_closed(text: str, found: tuple[int, str] | None) -> None:
    assert scan(text) == found


def test_v19_platform_and_create_false_through_the_cli(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'module "old" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 19.21"\n\n'
        '  cluster_name = "c"\n\n  eks_managed_node_groups = {\n    rocket = {\n      platform = "bottlerocket"\n'
        '    }\n    linux = {}\n    off = {\n      create = false\n    }\n  }\n}\n\n'
        'module "gone" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n  create  = false\n\n'
        '  eks_managed_node_groups = {\n    a = {}\n  }\n}\n', encoding="utf-8")
    found = json.loads(cli("check", str(tmp_path), "--format", "json").out)["findings"]
    assert sorted((f["module"], f["node_group"], f["rule"]) for f in found) == [
        ("old", "linux", "EKSP001"), ("old", "linux", "EKSP017"), ("old", "rocket", "EKSP009")]
