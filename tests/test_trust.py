"""Named examples of the shapes real repositories use, where a linter must never be confidently wrong.

The invariants are tested by property in test_invariants.py; these pin down
each shape and the exact verdict and edit it gets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import fmt_clean, replaced

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16")
SHA = "0123456789abcdef0123456789abcdef01234567"
NODECONFIG_KUBELET = """\
        {
          content_type = "application/node.eks.aws"
          content      = <<-EOT
            ---
            apiVersion: node.eks.aws/v1alpha1
            kind: NodeConfig
            spec:
              kubelet:
                flags:
                  - --node-labels=team=payments
          EOT
        }"""


def _dedent(text: str, width: int) -> str:
    return "\n".join(line[width:] if line.startswith(" " * width) else line for line in text.split("\n"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def findings(cli, path: Path) -> list[dict]:
    result = cli("check", str(path), "--format", "json")
    found = json.loads(result.out)["findings"]
    assert result.code == (1 if any(f["severity"] == "error" for f in found) else 0), result.err
    return found


def rules_of(found: list[dict], group: str | None = None) -> list[str]:
    return sorted(f["rule"] for f in found if group is None or f["node_group"] == group)


def fix_json(cli, path: Path, *extra: str) -> dict:
    result = cli("fix", str(path), "--format", "json", *FLAGS, *extra)
    return json.loads(result.out)


def module(source: str, args: str, groups: str, version: str | None = None) -> str:
    head = f'module "eks" {{\n  source = "{source}"\n'
    if version:
        head = f'module "eks" {{\n  source  = "{source}"\n  version = "{version}"\n'
    return head + f"\n{args}\n  eks_managed_node_groups = {{\n{groups}\n  }}\n}}\n"


V21_ARGS = '  name               = "c"\n  kubernetes_version = "1.33"\n'
V20_ARGS = '  cluster_name    = "c"\n  cluster_version = "1.31"\n'


# --- the family is named only when it is known ----------------------------------------------------------------------

def test_a_git_source_pinned_to_a_commit_is_read_from_its_arguments_and_says_so(cli, tmp_path: Path) -> None:
    source = f"git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref={SHA}"
    path = write(tmp_path, "main.tf", module(source, V21_ARGS, "    general = {}"))
    found = findings(cli, path)
    assert rules_of(found) == ["EKSP001"]
    assert "module release taken as v21.0.0 to v21.19.0 from the inputs its arguments (kubernetes_version, name) " \
        "name" in found[0]["message"]
    assert f"the git ref {SHA[:12]} is not a version tag" in found[0]["message"]
    fixed = fix_json(cli, path)
    assert [g["node_group"] for g in fixed["fixed"]] == ["general"]
    text = path.read_text(encoding="utf-8")
    assert "cloudinit_pre_nodeadm" in text and "pre_bootstrap_user_data" not in text


@pytest.mark.parametrize(("source", "version", "why"), [
    ("terraform-aws-modules/eks/aws", "~> 22.0",
     'version "~> 22.0" admits no release eksproxy-gen knows (it knows v17.0.0 to v21.19.0)'),
    ("terraform-aws-modules/eks/aws", "latest", 'version "latest" cannot be read'),
    ("git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v30.1.0", None,
     "the git ref v30.1.0 names no release eksproxy-gen knows (it knows v17.0.0 to v21.19.0)"),
])
def test_a_release_newer_than_the_table_is_told_apart_from_an_unreadable_version(
        cli, tmp_path: Path, source: str, version: str | None, why: str) -> None:
    """A constraint that admits only releases newer than the table was reported as one that "cannot be read"."""
    path = write(tmp_path, "main.tf", module(source, V21_ARGS, "    general = {}", version=version))
    found = findings(cli, path)
    assert rules_of(found) == ["EKSP001"]
    assert f"module release taken as v21.0.0 to v21.19.0 from the inputs its arguments (kubernetes_version, " \
           f"name) name, because {why}" in found[0]["message"]


def test_a_commit_pinned_source_without_telling_arguments_is_not_guessed(cli, tmp_path: Path) -> None:
    source = f"git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref={SHA}"
    path = write(tmp_path, "main.tf", module(source, "", "    general = {}"))
    found = findings(cli, path)
    assert rules_of(found) == ["EKSP015"]
    message = found[0]["message"]
    assert "the user-data template depends on the module release: v18.0.0 to v20.37.2 give the AL2 (bootstrap.sh) " \
        "template, v21.0.0 to v21.19.0 give the AL2023 template" in message
    assert "set ami_type (e.g. AL2023_x86_64_STANDARD) or pin the module's version" in message
    before = path.read_bytes()
    fix_json(cli, path)
    assert path.read_bytes() == before


def test_a_range_that_spans_majors_is_decided_by_the_arguments(cli, tmp_path: Path) -> None:
    """terraform init installs the newest release the constraint admits whose inputs take the call's arguments."""
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, "    general = {}",
                                             version=">= 20.8"))
    found = findings(cli, path)
    assert rules_of(found) == ["EKSP001"]
    assert "(" not in found[0]["message"]  # a pinned constraint is judged as its newest release, with no guess
    v20 = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V20_ARGS, "    general = {}",
                                            version=">= 20.8"))
    assert rules_of(findings(cli, v20)) == ["EKSP001", "EKSP017"]


def test_an_ami_type_in_a_group_local_decides_the_family(cli, tmp_path: Path) -> None:
    write(tmp_path, "locals.tf", 'locals {\n  general = {\n    ami_type = "AL2023_x86_64_STANDARD"\n  }\n}\n')
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V20_ARGS,
                                             "    general = local.general", version="~> 20.31"))
    found = findings(cli, tmp_path)
    assert [(f["rule"], f["file"]) for f in found] == [("EKSP001", "main.tf")]
    assert "cloudinit_pre_nodeadm" in found[0]["message"]
    fixed = fix_json(cli, tmp_path)
    assert fixed["files_changed"] == ["locals.tf"]
    assert path.read_text(encoding="utf-8").count("cloudinit_pre_nodeadm") == 0
    assert findings(cli, tmp_path) == []


def test_merge_of_literal_maps_is_followed_and_the_group_object_is_edited(cli, tmp_path: Path) -> None:
    write(tmp_path, "main.tf", 'locals {\n  defaults = {\n    ami_type = "AL2023_x86_64_STANDARD"\n  }\n}\n\n'
          + module("terraform-aws-modules/eks/aws", V20_ARGS,
                   "    general = merge(local.defaults, {\n      min_size = 1\n    })", version="~> 20.31"))
    found = findings(cli, tmp_path)
    assert rules_of(found) == ["EKSP001"]
    fix_json(cli, tmp_path)
    text = (tmp_path / "main.tf").read_text(encoding="utf-8")
    assert text.index("min_size = 1") < text.index("cloudinit_pre_nodeadm")
    assert text.index("defaults = {") < text.index("min_size") and findings(cli, tmp_path) == []
    assert fmt_clean(tmp_path / "main.tf")


def test_a_defaults_map_given_as_a_local_is_followed(cli, tmp_path: Path) -> None:
    write(tmp_path, "main.tf", 'locals {\n  defaults = {\n    ami_type = "AL2023_x86_64_STANDARD"\n  }\n}\n\n'
          + module("terraform-aws-modules/eks/aws", V20_ARGS + "  eks_managed_node_group_defaults = local.defaults\n",
                   "    blue  = {}\n    green = {}", version="~> 20.31"))
    assert rules_of(findings(cli, tmp_path)) == ["EKSP001", "EKSP001"]
    fixed = fix_json(cli, tmp_path)
    assert sorted(g["node_group"] for g in fixed["fixed"]) == ["blue", "green"]
    text = (tmp_path / "main.tf").read_text(encoding="utf-8")
    assert text.count("eksproxy-gen-proxy.yaml") == 1
    assert text.index("eksproxy-gen-proxy.yaml") < text.index('module "eks"')
    assert findings(cli, tmp_path) == []


# --- what cannot be read is never judged as if it could -----------------------------------------------------------

@pytest.mark.parametrize("content", ["var.user_script", "base64encode(local.script)",
                                     'templatefile("${var.dir}/x.sh", {})'])
def test_an_unreadable_part_gets_one_eksp010_and_is_never_fixed(cli, tmp_path: Path, content: str) -> None:
    groups = ("    general = {\n      ami_type = \"AL2023_x86_64_STANDARD\"\n\n      cloudinit_pre_nodeadm = [\n"
              f"        {{\n          content_type = \"text/x-shellscript\"\n          content      = {content}\n"
              "        }\n      ]\n    }")
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, groups, version="~> 21.0"))
    found = findings(cli, path)
    assert rules_of(found) == ["EKSP010"]
    assert "cloudinit_pre_nodeadm[0].content is" in found[0]["message"]
    before = path.read_bytes()
    assert fix_json(cli, path)["fixed"] == []
    assert path.read_bytes() == before


def test_a_nodeconfig_written_with_yamlencode_is_read(cli, tmp_path: Path) -> None:
    part = ('        {\n          content_type = "application/node.eks.aws"\n          content = yamlencode({\n'
            '            apiVersion = "node.eks.aws/v1alpha1"\n            kind       = "NodeConfig"\n'
            "            spec = {\n              instance = {\n                environment = {\n"
            "                  default = {\n"
            '                    HTTP_PROXY  = "http://proxy.corp.example:3128"\n'
            '                    HTTPS_PROXY = "http://proxy.corp.example:3128"\n'
            '                    NO_PROXY    = local.no_proxy\n'
            '                    http_proxy  = "http://proxy.corp.example:3128"\n'
            '                    https_proxy = "http://proxy.corp.example:3128"\n'
            '                    no_proxy    = local.no_proxy\n'
            "                  }\n                }\n              }\n            }\n          })\n        }")
    groups = ("    general = {\n      ami_type = \"AL2023_x86_64_STANDARD\"\n\n"
              f"      cloudinit_pre_nodeadm = [\n{part}\n      ]\n    }}")
    write(tmp_path, "main.tf", 'locals {\n  no_proxy = "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,'
          '172.20.0.0/16,.internal,.eks.amazonaws.com"\n}\n\n'
          + module("terraform-aws-modules/eks/aws", V21_ARGS + '  service_ipv4_cidr  = "172.20.0.0/16"\n', groups,
                   version="~> 21.0"))
    assert rules_of(findings(cli, tmp_path)) == ["EKSP013"]


def test_a_script_read_with_file_is_judged_and_cut_where_it_lives(cli, tmp_path: Path) -> None:
    write(tmp_path, "setup.sh", "#!/bin/bash\nset -e\ncat > /etc/environment <<EOF\n"
          "HTTPS_PROXY=http://old:3128\nhttps_proxy=http://old:3128\nEOF\nsysctl -w vm.max_map_count=262144\n")
    groups = ("    general = {\n      ami_type = \"AL2023_x86_64_STANDARD\"\n\n      cloudinit_pre_nodeadm = [\n"
              "        {\n          content_type = \"text/x-shellscript\"\n"
              "          content      = file(\"${path.module}/setup.sh\")\n        }\n      ]\n    }")
    write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, groups, version="~> 21.0"))
    found = findings(cli, tmp_path)
    assert ("EKSP014", "setup.sh", 3) in {(f["rule"], f["file"], f["line"]) for f in found}
    fixed = fix_json(cli, tmp_path)
    assert sorted(fixed["files_changed"]) == ["main.tf", "setup.sh"]
    assert (tmp_path / "setup.sh").read_text() == "#!/bin/bash\nset -e\nsysctl -w vm.max_map_count=262144\n"
    assert any("setup.sh" in n["note"] for n in fixed["notes"])
    assert findings(cli, tmp_path) == []


def test_another_modules_literal_output_covers_the_vpc_cidr(cli, tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text('vpc_cidrs = ["tf:module.vpc.vpc_cidr_block"]\n')
    no_proxy = "localhost,127.0.0.1,169.254.169.254,10.20.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com"
    env = "".join(f"                {k}: {v}\n" for k, v in (
        ("HTTP_PROXY", "http://p:3128"), ("HTTPS_PROXY", "http://p:3128"), ("NO_PROXY", no_proxy),
        ("http_proxy", "http://p:3128"), ("https_proxy", "http://p:3128"), ("no_proxy", no_proxy)))
    part = ('        {\n          content_type = "application/node.eks.aws"\n          content      = <<-EOT\n'
            "            apiVersion: node.eks.aws/v1alpha1\n            kind: NodeConfig\n            spec:\n"
            "              instance:\n                environment:\n                  default:\n"
            + env.replace("                ", "                    ") + "          EOT\n        }")
    groups = ("    general = {\n      ami_type = \"AL2023_x86_64_STANDARD\"\n\n"
              f"      cloudinit_pre_nodeadm = [\n{part}\n      ]\n    }}")
    vpc = 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n  cidr   = "10.20.0.0/16"\n}\n\n'
    args = V21_ARGS + '  service_ipv4_cidr  = "172.20.0.0/16"\n'
    write(tmp_path, "main.tf", vpc + module("terraform-aws-modules/eks/aws", args, groups, version="~> 21.0"))
    assert rules_of(findings(cli, tmp_path)) == ["EKSP013"]


# --- user intent is kept -----------------------------------------------------------------------------------------

def _group_with(parts: str) -> str:
    return ("    general = {\n      ami_type = \"AL2023_x86_64_STANDARD\"\n\n"
            f"      cloudinit_pre_nodeadm = [\n{parts}\n      ]\n    }}")


def test_a_script_that_also_does_other_work_keeps_it(cli, tmp_path: Path) -> None:
    script = ('        {\n          content_type = "text/x-shellscript"\n          content      = <<-EOT\n'
              "            #!/bin/bash\n            cat > /etc/environment <<EOF\n"
              "            HTTPS_PROXY=http://old:3128\n"
              "            NO_PROXY=.corp.example,10.0.0.0/16\n            EOF\n"
              "            dnf install -y amazon-efs-utils\n          EOT\n        }")
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, _group_with(script),
                                             version="~> 21.0"))
    fixed = fix_json(cli, path)
    assert [(g["node_group"], g["complete"]) for g in fixed["fixed"]] == [("general", True)]
    text = path.read_text(encoding="utf-8")
    assert "dnf install -y amazon-efs-utils" in text and "/etc/environment" not in text
    assert ".corp.example" in text.split("eksproxy-gen-proxy.yaml")[1].split("EOT")[1]
    assert findings(cli, path) == []


def test_proxy_lines_that_cannot_be_cut_exactly_stay_and_are_named(cli, tmp_path: Path) -> None:
    script = ('        {\n          content_type = "text/x-shellscript"\n          content      = <<-EOT\n'
              "            #!/bin/bash\n            PROXY=http://old:3128\n"
              "            echo \"HTTPS_PROXY=$PROXY\" > /etc/environment && dnf install -y amazon-efs-utils\n"
              "          EOT\n        }")
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, _group_with(script),
                                             version="~> 21.0"))
    fixed = fix_json(cli, path)
    assert [(g["node_group"], g["complete"]) for g in fixed["fixed"]] == [("general", False)]
    notes = " ".join(n["note"] for n in fixed["notes"])
    # the line also runs another command: the advice names it to keep, never "remove the line"
    assert "remove by hand the proxy set-up from main.tf line 64, which also runs `dnf install -y " \
           "amazon-efs-utils` (keep that)" in notes
    text = path.read_text(encoding="utf-8")
    assert "dnf install -y amazon-efs-utils" in text and "> /etc/environment" in text
    assert rules_of(findings(cli, path)) == ["EKSP014"]


def test_a_nodeconfig_with_other_variables_keeps_them_and_the_generated_part_wins(cli, tmp_path: Path) -> None:
    part = ('        {\n          content_type = "application/node.eks.aws"\n          content      = <<-EOT\n'
            "            apiVersion: node.eks.aws/v1alpha1\n            kind: NodeConfig\n            spec:\n"
            "              instance:\n                environment:\n                  default:\n"
            "                    TEAM: payments\n                    HTTPS_PROXY: http://old:3128\n"
            "                  containerd:\n                    HTTPS_PROXY: http://old:3128\n"
            "          EOT\n        }")
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, _group_with(part),
                                             version="~> 21.0"))
    fix_json(cli, path)
    text = path.read_text(encoding="utf-8")
    assert "TEAM: payments" in text
    assert text.index("TEAM: payments") < text.index("eksproxy-gen-proxy.yaml")
    generated = text.split("eksproxy-gen-proxy.yaml")[1].split("EOT")[1]
    assert "containerd:" in generated and generated.count("http://proxy.corp.example:3128") == 8
    assert findings(cli, path) == []


def test_entries_of_a_replaced_no_proxy_are_carried(cli, tmp_path: Path) -> None:
    script = ('        {\n          content_type = "text/x-shellscript"\n          content      = <<-EOT\n'
              "            #!/bin/bash\n            export HTTPS_PROXY=http://old:3128\n"
              "            export NO_PROXY=10.50.0.0/16,.corp.example,.svc\n"
              "            cat > /etc/environment <<EOF\n            HTTPS_PROXY=$HTTPS_PROXY\n            EOF\n"
              "          EOT\n        }")
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, _group_with(script),
                                             version="~> 21.0"))
    result = cli("fix", str(path), "--proxy", "http://proxy.corp.example:3128")
    assert result.code == 0, result.err
    text = path.read_text(encoding="utf-8")
    assert "10.50.0.0/16,.corp.example,.svc" in text
    assert findings(cli, path) == []


def test_a_boot_time_vpc_cidr_is_not_dropped_silently(cli, tmp_path: Path) -> None:
    script = ('        {\n          content_type = "text/x-shellscript"\n          content      = <<-EOT\n'
              "            #!/bin/bash\n            VPC_CIDR=$(curl -s http://169.254.169.254/latest/meta-data/x)\n"
              "            cat > /etc/environment <<EOF\n            HTTPS_PROXY=http://old:3128\n"
              "            NO_PROXY=$VPC_CIDR,localhost\n            EOF\n          EOT\n        }")
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, _group_with(script),
                                             version="~> 21.0"))
    before = path.read_bytes()
    result = cli("fix", str(path), "--proxy", "http://proxy.corp.example:3128")
    assert result.code == 1
    assert "set vpc_cidrs" in result.err and "$VPC_CIDR" in result.err
    assert path.read_bytes() == before


def test_an_ignored_group_gets_nothing_through_the_defaults_map(cli, tmp_path: Path) -> None:
    groups = "    blue = {}\n    # eksproxy-gen:ignore ALL the green nodes use a baked AMI\n    green = {}"
    args = V20_ARGS + '  eks_managed_node_group_defaults = {\n    ami_type = "AL2023_x86_64_STANDARD"\n  }\n'
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", args, groups, version="~> 20.31"))
    fixed = fix_json(cli, path)
    assert [g["node_group"] for g in fixed["fixed"]] == ["blue"]
    text = path.read_text(encoding="utf-8")
    assert text.count("eksproxy-gen-proxy.yaml") == 1
    assert text.index("blue") < text.index("eksproxy-gen-proxy.yaml") < text.index("green")


def test_a_group_that_inherits_parts_keeps_them_when_it_gets_its_own(cli, tmp_path: Path) -> None:
    groups = "    blue = {}\n    # eksproxy-gen:ignore ALL\n    green = {}"
    args = (V20_ARGS + '  eks_managed_node_group_defaults = {\n    ami_type = "AL2023_x86_64_STANDARD"\n\n'
            f"    cloudinit_pre_nodeadm = [\n{_dedent(NODECONFIG_KUBELET, 2)}\n    ]\n  }}\n")
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", args, groups, version="~> 20.31"))
    assert fmt_clean(path)
    fix_json(cli, path)
    text = path.read_text(encoding="utf-8")
    own = text.split("blue = {")[1].split("green")[0]
    assert "eksproxy-gen-proxy.yaml" in own and "--node-labels=team=payments" in own
    assert text.count("--node-labels=team=payments") == 2
    assert fmt_clean(path)


def test_a_symlinked_file_is_edited_at_its_target(cli, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = write(shared, "eks.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, "    general = {}",
                                            version="~> 21.0"))
    stack = tmp_path / "stack"
    stack.mkdir()
    link = stack / "eks.tf"
    link.symlink_to(target)
    assert cli("fix", str(tmp_path), *FLAGS).code == 0
    assert link.is_symlink() and "eksproxy-gen-proxy.yaml" in target.read_text(encoding="utf-8")


def test_a_symlink_that_leaves_the_scanned_paths_is_refused(cli, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = write(outside, "eks.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, "    general = {}",
                                             version="~> 21.0"))
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "eks.tf").symlink_to(target)
    before = target.read_bytes()
    result = cli("fix", str(stack), *FLAGS)
    assert result.code == 1
    assert "outside the paths given" in result.err
    assert target.read_bytes() == before


def test_linked_folders_are_not_walked_so_a_loop_ends(cli, tmp_path: Path) -> None:
    """Terraform reads no subfolders either; two links back up the tree would otherwise multiply the walk."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write(tmp_path / name, "eks.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, "    general = {}",
                                                version="~> 21.0"))
        (tmp_path / name / "up").symlink_to("..")
    found = findings(cli, tmp_path)
    assert sorted(f["file"] for f in found) == ["a/eks.tf", "b/eks.tf"]


# --- never write what Terraform rejects ----------------------------------------------------------------------------

def test_a_setting_that_refers_to_the_module_being_edited_is_a_usage_error(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, "    general = {}",
                                             version="~> 21.0"))
    before = path.read_bytes()
    result = cli("fix", str(path), "--proxy", "http://p:3128", "--vpc-cidr", "tf:module.eks.vpc_cidr")
    assert result.code == 2
    assert 'refers to module "eks", which fix edits' in result.err and "cycle" in result.err
    assert path.read_bytes() == before


@pytest.mark.parametrize("char", ["\u0085", "\u00a0", "\u2028", "\u2029", "\u200b", "\t"])
def test_unicode_separators_in_settings_are_refused(cli, tmp_path: Path, char: str) -> None:
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, "    general = {}"))
    result = cli("fix", str(path), "--proxy", f"http://proxy{char}.example:3128")
    assert result.code == 2
    assert f"U+{ord(char):04X}" in result.err


def test_an_unencoded_at_sign_in_the_password_is_refused_and_never_printed(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, "    general = {}"))
    result = cli("fix", str(path), "--proxy", "http://svc:p@ss-w0rd@proxy:3128")
    assert result.code == 2
    assert "%40" in result.err
    assert "p@ss" not in result.err and "w0rd" not in result.err


# --- messages ---------------------------------------------------------------------------------------------------

def test_messages_are_one_line_without_python_reprs_or_credentials(cli, tmp_path: Path) -> None:
    long_expr = "merge(" + ", ".join(f"local.part_{i}" for i in range(30)) + ")"
    groups = (f"    a = {{\n      ami_type = \"AL2023_x86_64_STANDARD\"\n      cloudinit_pre_nodeadm = {long_expr}\n"
              "    }\n    b = var.group_b")
    write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, groups, version="~> 21.0"))
    write(tmp_path, "creds.tf", replaced(module("terraform-aws-modules/eks/aws", V21_ARGS, _group_with(
        '        {\n          content_type = "text/x-shellscript"\n          content      = <<-EOT\n'
        "            #!/bin/bash\n            set -x\n"
        "            export HTTPS_PROXY=http://svc:Winter2025@proxy:3128\n          EOT\n        }"),
        version="~> 21.0"), 'module "eks" {', 'module "eks2" {'))
    for fmt in ("text", "json", "sarif", "github"):
        shown = cli("check", str(tmp_path), "--format", fmt)
        assert "Winter2025" not in shown.out + shown.err
    found = findings(cli, tmp_path)
    for finding in found:
        message = finding["message"]
        assert "\n" not in message and "{'" not in message and "['" not in message, message
    long = next(f for f in found if f["node_group"] == "a")
    assert "…" in long["message"] and len(long["message"]) < 400


def test_parse_errors_speak_terraform(cli, tmp_path: Path) -> None:
    write(tmp_path, "a.tf", 'module "eks" {\n  source = "terraform-aws-modules/eks/aws"\n'
          '  eks_managed_node_groups = {\n    a = {\n  }\n}\n')
    write(tmp_path, "b.tf", 'module "eks" {\n  source = "terraform-aws-modules/eks/aws\n}\n')
    errors = json.loads(cli("check", str(tmp_path), "--format", "json").out)["errors"]
    messages = {e["file"]: (e["line"], e["message"]) for e in errors}
    assert messages["a.tf"] == (1, 'the "{" opened here for module "eks" is never closed')
    assert messages["b.tf"] == (2, "a quoted string opened here is not closed on the same line")
    assert not any("$END" in m or "RBRACE" in m for _, m in messages.values())


# --- modules recognised however the source is written --------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?depth=1&ref=v21.1.0",
    "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v21.1.0&depth=1",
    "git::ssh://git@github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v21.1.0",
    "git@github.com:terraform-aws-modules/terraform-aws-eks.git?ref=v21.1.0",
    "github.com/terraform-aws-modules/terraform-aws-eks?ref=v21.1.0",
    "registry.terraform.io/terraform-aws-modules/eks/aws",
    "tfe.corp.example/platform/eks/aws",
])
def test_module_sources_in_every_form(cli, tmp_path: Path, source: str) -> None:
    path = write(tmp_path, "main.tf", module(source, V21_ARGS, "    general = {}"))
    assert rules_of(findings(cli, path)) == ["EKSP001"]


def test_a_private_registry_module_of_another_shape_is_not_read(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "main.tf", 'module "eks" {\n  source = "tfe.corp.example/platform/eks/aws"\n'
                 '  cluster = "c"\n}\n')
    assert findings(cli, path) == []


def test_a_vendored_copy_of_the_module_is_not_a_user_of_it(cli, tmp_path: Path) -> None:
    copy = tmp_path / "terraform-aws-eks"
    (copy / "modules" / "eks-managed-node-group").mkdir(parents=True)
    write(copy, "variables.tf", 'variable "kubernetes_version" {}\n')
    write(copy, "node_groups.tf", 'module "eks_managed_node_group" {\n'
          '  source   = "./modules/eks-managed-node-group"\n  for_each = var.eks_managed_node_groups\n'
          '  cloudinit_pre_nodeadm = try(each.value.cloudinit_pre_nodeadm, [])\n}\n')
    stack = tmp_path / "stack"
    stack.mkdir()
    write(stack, "main.tf", module("../terraform-aws-eks", V21_ARGS, "    general = {}"))
    found = findings(cli, tmp_path)
    assert [(f["file"], f["rule"]) for f in found] == [("stack/main.tf", "EKSP001")]


# --- fmt stays clean -------------------------------------------------------------------------------------------------

def test_one_line_groups_aligned_with_neighbours_stay_fmt_clean(cli, tmp_path: Path) -> None:
    groups = ('    a          = { ami_type = "AL2023_x86_64_STANDARD" }\n'
              '    "gpu-pool" = { ami_type = "AL2023_x86_64_STANDARD", min_size = 1 }\n'
              '    system     = { ami_type = "AL2023_x86_64_STANDARD" }')
    path = write(tmp_path, "main.tf", module("terraform-aws-modules/eks/aws", V21_ARGS, groups, version="~> 21.0"))
    assert fmt_clean(path)
    fix_json(cli, path)
    assert fmt_clean(path)
    assert findings(cli, path) == []
