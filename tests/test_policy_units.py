"""Unit tests of the matching functions the rules rest on, and of families and versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eksproxy_gen.module_source import classify, constraint_majors
from eksproxy_gen.parse_errors import scan
from eksproxy_gen.policy.expected import carry_over, required_no_proxy
from eksproxy_gen.policy.facts import GroupFacts, ModuleFacts, Opaque
from eksproxy_gen.policy.family import ami_family
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
    ("see u:p@h", "see u:p@h"),
])
def test_mask_credentials(text: str, masked: str) -> None:
    assert mask_credentials(text) == masked


@pytest.mark.parametrize(("constraint", "majors"), [
    ("21.1.0", {21}), ("~> 21.0", {21}), ("~> 20.31", {20}), ("~> 20.31.2", {20}), (">= 20.8, < 21.0", {20}),
    (">= 20.8, < 21", {20}), ("< 21.1", set(range(0, 22))), ("!= 21.0.0, ~> 21.0", {21}), ("v21.3.0", {21}),
])
def test_constraint_majors(constraint: str, majors: set[int]) -> None:
    assert constraint_majors(constraint) == frozenset(majors)


def test_constraints_that_span_majors_or_cannot_be_read() -> None:
    spanning = constraint_majors(">= 20.8")
    assert spanning is not None and {20, 21, 22} <= spanning and 19 not in spanning
    assert constraint_majors("~> 20") is not None and 21 in constraint_majors("~> 20")  # type: ignore[operator]
    assert constraint_majors("latest") is None


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


def _module(majors: set[int], basis: str = "") -> ModuleFacts:
    return ModuleFacts("eks", "main.tf", 1, frozenset(majors), basis)


@pytest.mark.parametrize(("majors", "group", "family"), [
    ({21}, GroupFacts("g", 2), "AL2023"),
    ({20}, GroupFacts("g", 2), "AL2"),
    ({20}, GroupFacts("g", 2, platform="bottlerocket"), "BOTTLEROCKET"),
    ({19}, GroupFacts("g", 2, platform="bottlerocket", ami_type="AL2023_x86_64_STANDARD"), "BOTTLEROCKET"),
    ({19}, GroupFacts("g", 2, platform="windows"), "WINDOWS"),
    ({20, 21}, GroupFacts("g", 2, ami_type="AL2023_ARM_64_STANDARD"), "AL2023"),
    ({21}, GroupFacts("g", 2, ami_type="CUSTOM"), "CUSTOM"),
    ({21}, GroupFacts("g", 2, ami_type="AL2023_${var.arch}_STANDARD"), "AL2023"),
    ({21}, GroupFacts("g", 2, kind="self_managed"), "AL2023"),
    ({20}, GroupFacts("g", 2, kind="self_managed"), "AL2"),
    ({20, 21}, GroupFacts("g", 2), None),
    ({21}, GroupFacts("g", 2, ami_type=Opaque("ami_type", "var.ami")), None),
])
def test_ami_family(majors: set[int], group: GroupFacts, family: str | None) -> None:
    assert ami_family(_module(majors), group).family == family


def test_an_inferred_family_says_so_only_when_it_depended_on_the_version() -> None:
    module = _module(set(range(21, 41)), "module version taken as v21 or later from its arguments")
    assert "pin version" in ami_family(module, GroupFacts("g", 2)).note
    assert ami_family(module, GroupFacts("g", 2, ami_type="AL2023_x86_64_STANDARD")).note == ""


def test_required_no_proxy_on_ipv6_with_a_service_cidr_expression() -> None:
    module = ModuleFacts("eks", "main.tf", 1, ipv6=True, service_cidr="${var.svc}", private_endpoint=False)
    values = [e.value for e in required_no_proxy(module, Settings(vpc_cidrs=("10.0.0.0/16",)))]
    assert values == ["localhost", "127.0.0.1", "169.254.169.254", "fd00:ec2::254", "10.0.0.0/16", "${var.svc}",
                      ".internal"]


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
