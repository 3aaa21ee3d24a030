"""`eksproxy-gen fix`: rewrites exactly the flagged node groups, keeps every other byte, converges."""

from __future__ import annotations

import difflib
import json
import os
import stat
from pathlib import Path

import pytest

from eksproxy_gen.hcl import parse

from .conftest import FIXTURES, copy_fixture, fmt_clean, replaced

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16",
         "--vpc-cidr", "tf:module.vpc.vpc_cidr_block")


@pytest.mark.parametrize("name", ["shapes.tf", "handwritten.tf"])
def test_golden_output(cli, tmp_path: Path, name: str) -> None:
    target = copy_fixture(name, tmp_path)
    result = cli("fix", str(target), *FLAGS)
    assert result.code == 0, result.err
    assert target.read_text(encoding="utf-8") == (FIXTURES / "expected" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["shapes.tf", "handwritten.tf", "partial.tf", "correct.tf"])
def test_second_fix_changes_nothing_and_check_passes(cli, tmp_path: Path, name: str) -> None:
    target = copy_fixture(name, tmp_path)
    assert cli("fix", str(target), *FLAGS).code == 0
    once = target.read_bytes()
    second = cli("fix", str(target), *FLAGS)
    assert target.read_bytes() == once
    assert "nothing to fix" in second.err
    check = cli("check", str(target), "--format", "json")
    assert [f for f in json.loads(check.out)["findings"] if f["severity"] == "error"] == []


@pytest.mark.parametrize("name", ["shapes.tf", "handwritten.tf", "partial.tf", "correct.tf"])
def test_output_passes_terraform_fmt(cli, tmp_path: Path, name: str) -> None:
    target = copy_fixture(name, tmp_path)
    assert fmt_clean(target)
    cli("fix", str(target), *FLAGS)
    assert fmt_clean(target)


def _changed_line_ranges(old: str, new: str) -> list[tuple[int, int]]:
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    return [(i1 + 1, i2) for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal"]


def test_only_bytes_inside_flagged_groups_change(cli, tmp_path: Path) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    old = target.read_text(encoding="utf-8")
    doc = parse(old)
    groups = doc.body.blocks[1].body.attribute("eks_managed_node_groups")
    assert groups is not None
    spans = [(doc.line_of(e.span.start), doc.line_of(e.span.end)) for e in groups.value.elems]  # type: ignore[attr-defined]
    cli("fix", str(target), *FLAGS)
    for first, last in _changed_line_ranges(old, target.read_text(encoding="utf-8")):
        assert any(start <= first and last <= end + 1 for start, end in spans), (first, last)


def test_user_parts_survive_byte_for_byte_and_in_order(cli, tmp_path: Path) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    old = target.read_text(encoding="utf-8")
    tuned = old[old.index("        {\n          content_type = \"application/node.eks.aws\"\n          content "):]
    tuned = tuned[: tuned.index("        }\n") + len("        }")]
    inline = old[old.index('{\n        content      = <<-EOT\n          #!/bin/bash'):]
    inline = inline[: inline.index("      }]")]
    cli("fix", str(target), *FLAGS)
    new = target.read_text(encoding="utf-8")
    assert tuned in new and inline in new
    assert new.index("eksproxy-gen-proxy.yaml") < new.index("shutdownGracePeriod")


def test_handwritten_script_is_replaced_and_other_parts_kept(cli, tmp_path: Path) -> None:
    target = copy_fixture("handwritten.tf", tmp_path)
    result = cli("fix", str(target), *FLAGS)
    assert ("handwritten.tf: note: eks.workers: NO_PROXY entries kept from the replaced set-up: .svc.cluster.local, "
            ".svc, .cluster.local") in result.err
    assert ("handwritten.tf: note: eks.workers: NO_PROXY entries filled at boot ($VPC_CIDR) are replaced by the "
            "configured vpc_cidrs") in result.err
    new = target.read_text(encoding="utf-8")
    for gone in ("/etc/environment", "nodeadm.service.d", "/etc/yum.conf", "set -ex", "Winter2025",
                 "module.eks.cluster_service_ipv4_cidr"):
        assert gone not in new
    assert "--node-labels=team=payments" in new
    assert "172.20.0.0/16" in new


def test_service_cidr_expression_is_used_and_self_reference_never(cli, tmp_path: Path) -> None:
    text = replaced((FIXTURES / "shapes.tf").read_text(encoding="utf-8"),
                    'service_ipv4_cidr  = "172.20.0.0/16"', "service_ipv4_cidr  = var.service_cidr")
    target = tmp_path / "main.tf"
    target.write_text(text, encoding="utf-8")
    cli("fix", str(target), *FLAGS)
    expected = ('169.254.169.254,10.0.0.0/16,${module.vpc.vpc_cidr_block},${coalesce(var.service_cidr, '
                '"10.100.0.0/16")},${coalesce(var.service_cidr, "172.20.0.0/16")},.internal,')
    assert expected in target.read_text(encoding="utf-8")
    target.write_text(replaced(text, "var.service_cidr", "module.eks.cluster_service_cidr"), encoding="utf-8")
    cli("fix", str(target), *FLAGS, "--service-cidr", "10.96.0.0/16")
    new = target.read_text(encoding="utf-8")
    assert "${module.eks" not in new.split("eks_managed_node_groups")[1]
    assert "10.0.0.0/16,${module.vpc.vpc_cidr_block},10.96.0.0/16,.internal,.eks.amazonaws.com" in new


def test_defaults_are_both_eks_service_ranges(cli, tmp_path: Path) -> None:
    original = (FIXTURES / "shapes.tf").read_text(encoding="utf-8")
    text = replaced(original, '  service_ipv4_cidr  = "172.20.0.0/16"\n', "")
    target = tmp_path / "main.tf"
    target.write_text(text, encoding="utf-8")
    cli("fix", str(target), "--proxy", "tf:var.proxy_url", "--vpc-cidr", "10.0.0.0/16")
    new = target.read_text(encoding="utf-8")
    assert ('"localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,10.100.0.0/16,172.20.0.0/16,.internal,'
            '.eks.amazonaws.com"') in new
    assert 'HTTPS_PROXY: "${var.proxy_url}"' in new and "proxy='${var.proxy_url}'" in new


def test_crlf_and_bom_are_kept(cli, tmp_path: Path) -> None:
    text = (FIXTURES / "shapes.tf").read_text(encoding="utf-8")
    target = tmp_path / "main.tf"
    target.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    assert cli("fix", str(target), *FLAGS).code == 0
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:].decode("utf-8")
    assert body.count("\r\n") == body.count("\n")
    expected = (FIXTURES / "expected" / "shapes.tf").read_text(encoding="utf-8")
    assert body.replace("\r\n", "\n") == expected


def test_mixed_newlines_are_refused_and_left_alone(cli, tmp_path: Path) -> None:
    text = (FIXTURES / "shapes.tf").read_text(encoding="utf-8")
    target = tmp_path / "main.tf"
    target.write_bytes(text.replace("\n", "\r\n", 3).encode("utf-8"))
    before = target.read_bytes()
    result = cli("fix", str(target), *FLAGS)
    assert result.code == 1
    assert "mixes CRLF and LF" in result.err
    assert target.read_bytes() == before


def test_unparseable_file_is_untouched_and_the_rest_is_fixed(cli, tmp_path: Path) -> None:
    broken = copy_fixture("broken.tf", tmp_path)
    good = copy_fixture("shapes.tf", tmp_path)
    before = broken.read_bytes()
    result = cli("fix", str(tmp_path), *FLAGS)
    assert result.code == 1
    assert "broken.tf:5: error:" in result.err
    assert broken.read_bytes() == before
    assert "eksproxy-gen-proxy.yaml" in good.read_text(encoding="utf-8")


def test_not_utf8_is_reported_with_a_line(cli, tmp_path: Path) -> None:
    target = tmp_path / "latin1.tf"
    target.write_bytes(b'# ok\n# caf\xe9\nmodule "x" {}\n')
    result = cli("check", str(target), "--format", "json")
    assert json.loads(result.out)["errors"] == [{"file": "latin1.tf", "line": 2,
                                                 "message": "not UTF-8 text (byte 0xe9)"}]


def test_diff_and_check_modes_write_nothing(cli, tmp_path: Path) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    before = target.read_bytes()
    diff = cli("fix", str(target), *FLAGS, "--diff")
    assert diff.code == 0
    assert diff.out.startswith("--- a/shapes.tf\n+++ b/shapes.tf\n")
    assert "+      cloudinit_pre_nodeadm = [" in diff.out
    checked = cli("fix", str(target), *FLAGS, "--check")
    assert checked.code == 1
    assert "would fix 5 findings in 5 groups (1 file); 0 left." in checked.err
    assert target.read_bytes() == before
    cli("fix", str(target), *FLAGS)
    assert cli("fix", str(target), *FLAGS, "--check").code == 0


def test_diff_masks_credentials(cli, tmp_path: Path) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    result = cli("fix", str(target), "--proxy", "http://svc:Winter2025@proxy:3128", "--vpc-cidr", "10.0.0.0/16",
                 "--diff")
    assert "Winter2025" not in result.out + result.err
    assert "http://***@proxy:3128" in result.out
    assert "warning: the proxy URL holds credentials" in result.err


def test_permissions_are_kept_and_no_temporary_files_remain(cli, tmp_path: Path) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    os.chmod(target, 0o640)
    cli("fix", str(target), *FLAGS)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shapes.tf"]


def test_render_prints_the_attribute(cli) -> None:
    result = cli("render", "--proxy", "http://proxy:3128", "--vpc-cidr", "10.0.0.0/16", "--service-cidr",
                 "172.20.0.0/16")
    assert result.code == 0
    assert result.out.startswith("cloudinit_pre_nodeadm = [\n  {\n")
    parsed = parse("x = {\n" + result.out + "}\n")
    assert parsed.body.attributes[0].name == "x"
    assert '"localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com"' in result.out


def test_render_masks_credentials_and_says_so(cli) -> None:
    result = cli("render", "--proxy", "http://svc:Winter2025@proxy:3128")
    assert "Winter2025" not in result.out + result.err
    assert "tf:var.proxy_url" in result.err


def test_empty_list_between_aligned_lines_keeps_terraform_fmt_alignment(cli, tmp_path: Path) -> None:
    target = tmp_path / "main.tf"
    target.write_text('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n'
                      "  eks_managed_node_groups = {\n    own = {\n"
                      '      ami_type              = "AL2023_x86_64_STANDARD"\n'
                      "      cloudinit_pre_nodeadm = []\n"
                      "      min_size              = 1 # keep\n"
                      "      max_size              = 3\n"
                      "    }\n  }\n}\n", encoding="utf-8")
    assert cli("fix", str(target), *FLAGS).code == 0
    text = target.read_text(encoding="utf-8")
    assert '      ami_type = "AL2023_x86_64_STANDARD"\n      cloudinit_pre_nodeadm = [\n' in text
    assert "      ]\n      min_size = 1 # keep\n      max_size = 3\n" in text
    assert fmt_clean(target)
