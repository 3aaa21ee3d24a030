"""Every way fix refuses, fails to write, or fails itself: the file stays as it was and the user is told why."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eksproxy_gen import write
from eksproxy_gen.edits import CannotEdit
from eksproxy_gen.merge import AL2_BEGIN, merge_al2_script, merge_network_table
from eksproxy_gen.pipeline.analysis import FolderInput, analyse, display_name
from eksproxy_gen.plan import Context, plan_group
from eksproxy_gen.policy.settings import Settings

from .conftest import copy_fixture, tool

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16")
HEAD = 'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n  name = "c"\n\n'


def write_tf(folder: Path, body: str, name: str = "main.tf") -> Path:
    path = folder / name
    path.write_text(HEAD + body + "}\n", encoding="utf-8")
    return path


def fix(cli, path: Path, *extra: str) -> tuple[int, dict]:
    result = cli("fix", str(path), "--format", "json", *FLAGS, *extra)
    return result.code, json.loads(result.out)


def refusals(data: dict) -> list[str]:
    return [f["message"] for f in data["findings"] if f["message"].startswith("not rewritten")]


# --- refusals of the planner ---------------------------------------------------------------------------------------

def test_a_list_built_by_concat_is_not_rewritten(cli, tmp_path: Path) -> None:
    path = write_tf(tmp_path, '  eks_managed_node_groups = {\n    a = {\n      cloudinit_pre_nodeadm = concat([], [])\n'
                    "    }\n  }\n")
    before = path.read_bytes()
    code, data = fix(cli, path)
    assert code == 1
    assert refusals(data) == ["not rewritten: cloudinit_pre_nodeadm is built by an expression; add the parts "
                              "printed by `eksproxy-gen render` where it is defined"]
    assert path.read_bytes() == before


def test_a_quoted_script_with_other_work_is_not_cut(cli, tmp_path: Path) -> None:
    script = '"#!/bin/bash\\necho HTTPS_PROXY=http://old:1 > /etc/environment\\nsysctl -w a=1\\n"'
    path = write_tf(tmp_path, '  eks_managed_node_groups = {\n    a = {\n      cloudinit_pre_nodeadm = [\n'
                    f'        {{\n          content_type = "text/x-shellscript"\n          content      = {script}\n'
                    "        }\n      ]\n    }\n  }\n")
    before = path.read_bytes()
    code, data = fix(cli, path)
    assert code == 1
    assert "not a <<- heredoc or a file" in refusals(data)[0]
    assert path.read_bytes() == before


def test_an_inherited_part_that_needs_cutting_is_not_copied(cli, tmp_path: Path) -> None:
    text = ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 20.31"\n\n'
            '  cluster_name = "c"\n\n  eks_managed_node_group_defaults = {\n    ami_type = "AL2023_x86_64_STANDARD"\n'
            "    cloudinit_pre_nodeadm = [\n      {\n        content_type = \"text/x-shellscript\"\n"
            "        content      = <<-EOT\n          #!/bin/bash\n"
            "          echo HTTPS_PROXY=http://o:1 > /etc/environment\n"
            "          sysctl -w a=1\n        EOT\n      }\n    ]\n  }\n\n"
            "  eks_managed_node_groups = {\n    a = {}\n    # eksproxy-gen:ignore ALL\n    b = {}\n  }\n}\n")
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    code, data = fix(cli, path)
    assert code == 1
    assert "cut them there by hand" in refusals(data)[0]
    assert path.read_text(encoding="utf-8") == text


def test_an_inherited_part_in_a_plain_heredoc_is_not_copied(cli, tmp_path: Path) -> None:
    text = ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 20.31"\n\n'
            '  cluster_name = "c"\n\n  eks_managed_node_group_defaults = {\n    ami_type = "AL2023_x86_64_STANDARD"\n'
            "    cloudinit_pre_nodeadm = [\n      {\n        content_type = \"text/x-shellscript\"\n"
            "        content      = <<EOT\n#!/bin/bash\nsysctl -w a=1\nEOT\n      }\n    ]\n  }\n\n"
            "  eks_managed_node_groups = {\n    a = {}\n    # eksproxy-gen:ignore ALL\n    b = {}\n  }\n}\n")
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    code, data = fix(cli, path)
    assert code == 1
    assert "<<EOT heredoc whose text would change if moved" in refusals(data)[0]
    assert path.read_text(encoding="utf-8") == text


def test_a_one_line_submodule_block_is_not_rewritten(cli, tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    source = "git::https://github.com/terraform-aws-modules/terraform-aws-eks.git//modules/eks-managed-node-group"
    path.write_text(f'module "ng" {{ source = "{source}?ref=v21.1.0" }}\n', encoding="utf-8")
    before = path.read_bytes()
    code, data = fix(cli, path)
    assert code == 1
    assert "written on one line" in refusals(data)[0]
    assert path.read_bytes() == before


def test_an_inherited_pre_bootstrap_script_shared_with_an_ignored_group_is_not_edited(cli, tmp_path: Path) -> None:
    text = ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 20.31"\n\n'
            '  cluster_name = "c"\n\n  eks_managed_node_group_defaults = {\n    ami_type = "AL2_x86_64"\n'
            "    pre_bootstrap_user_data = <<-EOT\n      #!/bin/bash\n      echo hi\n    EOT\n  }\n\n"
            "  eks_managed_node_groups = {\n    a = {}\n    # eksproxy-gen:ignore ALL\n    b = {}\n  }\n}\n")
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    code, data = fix(cli, path)
    assert code == 1
    assert "inherits pre_bootstrap_user_data from the defaults map, which other groups share" in refusals(data)[0]
    assert path.read_text(encoding="utf-8") == text


def test_a_template_file_cannot_take_terraform_references(cli, tmp_path: Path) -> None:
    (tmp_path / "pre.sh.tpl").write_text("#!/bin/bash\necho ${name}\n", encoding="utf-8")
    path = write_tf(tmp_path, '  eks_managed_node_groups = {\n    a = {\n      ami_type = "AL2_x86_64"\n'
                    '      pre_bootstrap_user_data = templatefile("${path.module}/pre.sh.tpl", { name = "x" })\n'
                    "    }\n  }\n")
    before = path.read_bytes()
    result = cli("fix", str(tmp_path), "--format", "json", "--proxy", "tf:var.proxy_url")
    data = json.loads(result.out)
    assert result.code == 1
    assert "templatefile() template, whose variables are not the folder's, and the settings are Terraform references" \
        in refusals(data)[0]
    assert path.read_bytes() == before
    assert (tmp_path / "pre.sh.tpl").read_text(encoding="utf-8") == "#!/bin/bash\necho ${name}\n"


def test_a_quoted_pre_bootstrap_script_is_not_merged_into(cli, tmp_path: Path) -> None:
    path = write_tf(tmp_path, '  eks_managed_node_groups = {\n    a = {\n      ami_type                = "AL2_x86_64"\n'
                    '      pre_bootstrap_user_data = "#!/bin/bash\\necho hi\\n"\n    }\n  }\n')
    before = path.read_bytes()
    code, data = fix(cli, path)
    assert code == 1
    assert "is not a heredoc (<<-EOT)" in refusals(data)[0]
    assert path.read_bytes() == before


@pytest.mark.parametrize(("toml", "why"), [
    ("settings.network.hostname = \"n\"\n", "without a [settings.network] table header"),
])
def test_bottlerocket_toml_that_cannot_be_merged_exactly(toml: str, why: str) -> None:
    merge = merge_network_table('https-proxy = "http://p:1"\nno-proxy = []\n')
    with pytest.raises(CannotEdit, match=re.escape(why)):
        merge(toml.rstrip("\n").split("\n"))


def test_bottlerocket_toml_without_a_network_table_gets_one_and_keeps_the_rest() -> None:
    merge = merge_network_table('https-proxy = "http://p:1"\nno-proxy = ["localhost"]\n')
    assert merge(["[settings.kernel]", 'lockdown = "integrity"']) == [
        "[settings.kernel]", 'lockdown = "integrity"', "", "[settings.network]", 'https-proxy = "http://p:1"',
        'no-proxy = ["localhost"]']


def test_an_unpaired_marker_is_refused() -> None:
    merge = merge_al2_script("# >>> x\nnew\n# <<< x\n", [])
    with pytest.raises(CannotEdit, match="without its pair"):
        merge(["#!/bin/bash", AL2_BEGIN + ": old", "echo old"])


def test_an_existing_al2_block_is_replaced_in_place(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/al2.tf", tmp_path)
    cli("fix", str(target), *FLAGS)
    once = target.read_text(encoding="utf-8")
    assert cli("fix", str(target), "--proxy", "http://new-proxy:3128", "--vpc-cidr", "10.0.0.0/16").code == 0
    twice = target.read_text(encoding="utf-8")
    assert twice.count(AL2_BEGIN) == once.count(AL2_BEGIN) == 2
    assert "http://new-proxy:3128" in twice and "proxy.corp.example" not in twice
    assert 'echo "tuning" > /tmp/tuned' in twice


def _groups(path: Path) -> tuple[object, list[object]]:
    result = analyse(FolderInput(path.parent, (path,), Settings(proxy="http://p:3128")))
    return result, list(result.groups)


def _context(result: object, group: object) -> Context:
    return Context(group.module, result.input.settings, frozenset({"nodeconfig", "dnf"}),  # type: ignore[attr-defined]
                   display_name, lambda p: p.read_text(encoding="utf-8"))


def test_the_planner_refuses_what_the_policy_never_hands_it(tmp_path: Path) -> None:
    """Defensive refusals: groups the policy does not call fixable, planned directly."""
    path = write_tf(tmp_path, '  eks_managed_node_groups = {\n    unreadable = var.group\n'
                    '    parts = {\n      cloudinit_pre_nodeadm = var.parts\n    }\n'
                    '    al2 = {\n      ami_type = "AL2_x86_64"\n      pre_bootstrap_user_data = var.script\n    }\n'
                    '    win = { ami_type = "WINDOWS_CORE_2022_x86_64" }\n  }\n')
    result, groups = _groups(path)
    reasons = {}
    for group in groups:
        with pytest.raises(CannotEdit) as caught:
            plan_group(_context(result, group), group.group)  # type: ignore[attr-defined]
        reasons[group.group.facts.name] = str(caught.value)  # type: ignore[attr-defined]
    assert reasons == {
        "unreadable": "the node group is not written as a literal object",
        "parts": "cloudinit_pre_nodeadm cannot be read",
        "al2": "pre_bootstrap_user_data cannot be read",
        "win": "eksproxy-gen does not write proxy settings for WINDOWS",
    }


# --- verification refuses what would still be wrong ---------------------------------------------------------------

def test_a_rewrite_that_would_change_a_group_not_being_fixed_is_refused(cli, tmp_path: Path) -> None:
    text = ('locals {\n  parts = []\n}\n\n' + HEAD +
            '  eks_managed_node_groups = {\n    a = {\n      cloudinit_pre_nodeadm = local.parts\n    }\n'
            '    # eksproxy-gen:ignore ALL\n    b = {\n      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n')
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    code, data = fix(cli, path)
    assert code == 1
    assert "would also change eks.b, which an eksproxy-gen:ignore comment silences" in refusals(data)[0]
    assert path.read_text(encoding="utf-8") == text


def test_fault_injection_a_rewrite_that_would_still_be_flagged_is_refused(cli, tmp_path: Path, monkeypatch) -> None:
    """Fault injection: a planner bug is simulated by a template that drops HTTPS_PROXY; the trial must catch it."""
    from eksproxy_gen import templates as render
    real = render.nodeconfig_part

    def without_https(*args, **kwargs):  # a stand-in for a planner bug: the generated part lacks HTTPS_PROXY
        part = real(*args, **kwargs)
        return render.RenderedPart(part.content_type, part.filename, part.content.replace("HTTPS_PROXY", "X_PROXY"))

    monkeypatch.setattr(render, "nodeconfig_part", without_https)
    path = write_tf(tmp_path, "  eks_managed_node_groups = {\n    a = {}\n  }\n")
    before = path.read_bytes()
    code, data = fix(cli, path)
    assert code == 1
    assert "after the rewrite it would still be flagged (EKSP005" in refusals(data)[0]
    assert path.read_bytes() == before


def test_fault_injection_a_rewrite_that_would_not_parse_is_an_internal_error_with_exit_code_3(
        cli, tmp_path: Path, monkeypatch) -> None:
    """Fault injection: a renderer bug that breaks the syntax must never reach the disk."""
    from eksproxy_gen import templates as render
    real = render.attribute
    monkeypatch.setattr(render, "attribute", lambda parts, indent: real(parts, indent) + " {")
    path = write_tf(tmp_path, "  eks_managed_node_groups = {\n    a = {}\n  }\n")
    before = path.read_bytes()
    result = cli("fix", str(path), *FLAGS)
    assert result.code == 3
    assert "internal error: the rewritten main.tf would not parse" in result.err
    assert path.read_bytes() == before


def test_fault_injection_a_folder_whose_analysis_fails_is_reported_and_the_run_goes_on(
        cli, tmp_path: Path, monkeypatch) -> None:
    """Fault injection: the analysis of one folder raises; that folder is an internal error (exit 3), the other
    folder is still judged and reported, as black reports a file it cannot format and goes on."""
    from eksproxy_gen.pipeline import analysis

    real = analysis.analyse

    def explode_in_a(inp, *args, **kwargs):  # type: ignore[no-untyped-def]
        if inp.folder.name == "a":
            raise RuntimeError("boom")
        return real(inp, *args, **kwargs)

    from eksproxy_gen.pipeline import fixing as fix_module

    monkeypatch.setattr(analysis, "analyse", explode_in_a)
    monkeypatch.setattr(fix_module, "analyse", explode_in_a)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write_tf(tmp_path / name, "  eks_managed_node_groups = {\n    g = {}\n  }\n")
    result = cli("check", str(tmp_path))
    assert result.code == 3
    assert ("a/main.tf:1: error: internal error while reading this folder: RuntimeError: boom "
            "(set EKSPROXY_GEN_DEBUG=1 for a traceback; please report it)") in result.out.splitlines()
    assert any(line.startswith("b/main.tf:8: EKSP001 error eks.g:") for line in result.out.splitlines())
    fixed = cli("fix", str(tmp_path), *FLAGS)
    assert fixed.code == 3
    assert "eksproxy-gen-proxy.yaml" in (tmp_path / "b" / "main.tf").read_text(encoding="utf-8")
    assert "eksproxy-gen-proxy.yaml" not in (tmp_path / "a" / "main.tf").read_text(encoding="utf-8")


def test_two_groups_sharing_one_local_list_get_one_set_of_parts(cli, tmp_path: Path) -> None:
    """Both groups read local.parts: their plans make the same edit, which is applied once, not refused."""
    text = ('locals {\n  parts = []\n}\n\n' + HEAD +
            '  eks_managed_node_groups = {\n    a = {\n      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n'
            '  self_managed_node_groups = {\n    b = {\n      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n')
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    (tmp_path / ".eksproxy-gen.toml").write_text('proxy = "http://p:3128"\n', encoding="utf-8")
    code, data = fix(cli, path)
    assert code == 0
    assert [g["node_group"] for g in data["fixed"]] == ["a", "b"]
    assert path.read_text(encoding="utf-8").count("eksproxy-gen-proxy.yaml") == 1


def test_overlapping_different_edits_of_two_groups_are_refused_and_nothing_is_written(cli, tmp_path: Path) -> None:
    """Both groups read local.parts but want different pieces (b silences the dnf rule): their edits of the one
    list overlap and differ, so neither can be applied without changing the other; the file stays as it was."""
    text = ('locals {\n  parts = []\n}\n\n' + HEAD +
            '  eks_managed_node_groups = {\n    a = {\n      cloudinit_pre_nodeadm = local.parts\n    }\n'
            '    # eksproxy-gen:ignore EKSP013 dnf is proxied by the base image\n'
            '    b = {\n      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n')
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    code, data = fix(cli, path)
    assert code == 1
    assert data["fixed"] == []
    assert sorted(refusals(data)) == [
        "not rewritten: the edit would also change eks.a, which reads the same definition but needs other values "
        "written (its own cluster's NO_PROXY, family or settings); give that group its own settings first",
        "not rewritten: the edit would also change eks.b, which reads the same definition but needs other parts "
        "written (an eksproxy-gen:ignore comment silences some of its rules); give that group its own settings "
        "first"]
    assert path.read_text(encoding="utf-8") == text


# --- writing ---------------------------------------------------------------------------------------------------

def test_a_file_changed_between_read_and_write_is_not_overwritten(cli, tmp_path: Path, monkeypatch) -> None:
    path = write_tf(tmp_path, "  eks_managed_node_groups = {\n    a = {}\n  }\n")
    real = write.replace_all

    def edit_first(writes: list[tuple[Path, bytes, bytes]]) -> list[write.Replaced]:
        for target, _data, _expected in writes:
            target.write_text(target.read_text(encoding="utf-8") + "# edited meanwhile\n", encoding="utf-8")
        return real(writes)

    monkeypatch.setattr("eksproxy_gen.pipeline.fixing.replace_all", edit_first)
    result = cli("fix", str(path), *FLAGS)
    assert result.code == 1
    assert "main.tf:1: error: file changed on disk while eksproxy-gen was running; not rewritten" in result.err
    assert path.read_text(encoding="utf-8").endswith("# edited meanwhile\n")
    assert "eksproxy-gen-proxy.yaml" not in path.read_text(encoding="utf-8")


def test_a_read_only_file_is_not_rewritten(cli, tmp_path: Path) -> None:
    path = write_tf(tmp_path, "  eks_managed_node_groups = {\n    a = {}\n  }\n")
    path.chmod(0o444)
    before = path.read_bytes()
    result = cli("fix", str(path), *FLAGS)
    assert result.code == 1
    assert "the file is read-only; not rewritten" in result.err
    assert path.read_bytes() == before and oct(path.stat().st_mode & 0o777) == "0o444"


FIX_ON_DISK = """
cp "$ORIGINAL" "$DISK/main.tf"
{prepare}
"$TOOL" fix "$DISK/main.tf" {flags} 2>"$OUT/stderr"
echo $? > "$OUT/code"
ls -A "$DISK" > "$OUT/listing"
cmp -s "$ORIGINAL" "$DISK/main.tf" && echo same > "$OUT/bytes" || true
"""


def fix_on_a_small_disk(tmp_path: Path, prepare: str, *isolation: str) -> tuple[int, str, list[str], bool]:
    """The installed eksproxy-gen fixing a file on a 256 KB file system of its own, under bubblewrap.

    Returns the exit code, stderr, what the folder then holds, and whether the
    file kept its bytes. ``prepare`` runs first, as the sandbox's user.
    """
    original = write_tf(tmp_path, "  eks_managed_node_groups = {\n    a = {}\n  }\n")
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    script = FIX_ON_DISK.format(prepare=prepare, flags=" ".join(FLAGS))
    env = {"ORIGINAL": str(original), "DISK": str(disk), "OUT": str(out), "TMPDIR": str(out),
           "TOOL": str(Path(sys.executable).parent / "eksproxy-gen"), "EKSPROXY_GEN_CACHE_DIR": str(out / "cache")}
    command = [tool("bwrap"), "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--bind", str(tmp_path), str(tmp_path), *isolation, "--size", str(256 * 1024), "--tmpfs", str(disk),
               *[arg for name, value in env.items() for arg in ("--setenv", name, value)], "bash", "-c", script]
    subprocess.run(command, check=True, timeout=120)
    listing = (out / "listing").read_text().split()
    return int((out / "code").read_text()), (out / "stderr").read_text(), listing, (out / "bytes").exists()


def test_a_full_disk_leaves_the_file_and_no_temporary_file(tmp_path: Path) -> None:
    """A real full disk: a tmpfs filled up before fix runs, so writing the new text fails with ENOSPC."""
    code, err, listing, same = fix_on_a_small_disk(tmp_path, 'head -c 1000000 /dev/zero > "$DISK/fill" || true')
    assert code == 1
    assert "cannot write: No space left on device" in err
    assert same
    assert listing == ["fill", "main.tf"]


def test_a_writable_file_in_a_folder_that_cannot_take_a_temporary_file_is_written_in_place(tmp_path: Path) -> None:
    """A writable file in a folder its user may not add to (as a user other than root, who may): the user may
    write the file, so it is written in place, after the new bytes were written once to the temporary folder."""
    code, err, listing, same = fix_on_a_small_disk(
        tmp_path, 'chmod 666 "$DISK/main.tf"; chmod 555 "$DISK"', "--unshare-user", "--uid", "1000", "--gid", "1000")
    assert code == 0, err
    assert not same
    assert listing == ["main.tf"]
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".eksproxy-gen")] == []


SHARING = {  # how the other group that reads local.parts differs, and how the refusal must name it
    "silenced": ('    # eksproxy-gen:ignore ALL\n', "", "which an eksproxy-gen:ignore comment silences"),
    "partly silenced": ('    # eksproxy-gen:ignore EKSP013 dnf is proxied by the base image\n', "",
                        "which reads the same definition but needs other parts written (an eksproxy-gen:ignore "
                        "comment silences some of its rules)"),
    "another cluster": ("", '  service_ipv4_cidr = "10.99.0.0/16"\n',
                        "which reads the same definition but needs other values written (its own cluster's NO_PROXY, "
                        "family or settings)"),
}


@pytest.mark.parametrize("shape", sorted(SHARING))
def test_a_refusal_for_a_shared_definition_names_why_the_other_group_differs(cli, tmp_path: Path,
                                                                              shape: str) -> None:
    """A refusal names the real reason the other group may not change with this one: silenced, silencing part of
    what it needs, or needing other values (another cluster) — never "not being fixed" for a group that is."""
    comment, cluster, reason = SHARING[shape]
    other = ('module "other" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n'
             f'  name = "o"\n{cluster}\n  eks_managed_node_groups = {{\n{comment}'
             '    b = {\n      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n')
    text = ('locals {\n  parts = []\n}\n\n' + HEAD + '  eks_managed_node_groups = {\n    a = {\n'
            '      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n\n' + other)
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    code, data = fix(cli, path)
    assert code == 1 and data["fixed"] == []
    mine = [f["message"] for f in data["findings"] if f["module"] == "eks" and f["message"].startswith("not rew")]
    assert mine == [f"not rewritten: the edit would also change other.b, {reason}; give that group its own "
                    "settings first"]
    assert path.read_text(encoding="utf-8") == text


READERS = {  # another block that reads local.parts (directly or through a local), and whether fix may go on
    "cloudinit_config": ('data "cloudinit_config" "bastion" {\n  dynamic "part" {\n'
                         '    for_each = local.parts\n    content {\n      content = part.value.content\n'
                         '    }\n  }\n}\n',
                         "data.cloudinit_config.bastion"),
    "instance": ('resource "aws_instance" "bastion" {\n  user_data = jsonencode(local.parts)\n}\n',
                 "aws_instance.bastion"),
    "output": ('output "parts" {\n  value = local.parts\n}\n', "output.parts"),
    "through a local": ('locals {\n  bastion_parts = concat(local.parts, [])\n}\n\n'
                        'resource "aws_launch_template" "bastion" {\n'
                        '  user_data = base64encode(jsonencode(local.bastion_parts))\n}\n',
                        "aws_launch_template.bastion through local.bastion_parts"),
    "a local nobody else reads": ('locals {\n  unused_copy = local.parts\n}\n', None),
    "another group": ('module "other" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n'
                      '  name = "c"\n\n  eks_managed_node_groups = {\n    b = {\n'
                      '      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n', None),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_local_another_resource_reads_is_not_rewritten_behind_its_back(cli, tmp_path: Path, reader: str) -> None:
    """fix writes the parts where the group's value is defined; when that is a local which a bastion, an output
    or a launch template also reads (directly or through another local), those would change with it: refused,
    naming the reader. Readers that are locals only feeding groups, or other groups, do not stop it."""
    block, named = READERS[reader]
    text = ('locals {\n  parts = []\n}\n\n' + HEAD + '  eks_managed_node_groups = {\n    a = {\n'
            '      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n\n' + block)
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    code, data = fix(cli, path)
    if named is None:
        assert code == 0 and "a" in [g["node_group"] for g in data["fixed"]]
        return
    assert code == 1 and data["fixed"] == []
    reader, _, via = named.partition(" through ")
    read = via or "local.parts"
    reads = f"also reads through {via}" if via else "also reads"
    line = text[: text.index(read, text.index(reader.split(".")[-1], text.index(block)))].count("\n") + 1
    assert refusals(data) == [f"not rewritten: the edit would change local.parts, which {reader} {reads} "
                              f"(main.tf:{line}); give the group parts of its own (concat(local.parts, [...]) with "
                              f"what `eksproxy-gen render` prints), or add them to local.parts by hand if {reader} "
                              "needs them too"]
    assert path.read_text(encoding="utf-8") == text


def test_an_unreadable_file_beside_a_rewritten_local_is_an_error_of_its_own(cli, tmp_path: Path) -> None:
    """Looking for other readers of a rewritten local reads every file of the folder: one that is not UTF-8
    stays an error of that file, and the group is still fixed (it was 'internal error while reading this
    folder')."""
    path = tmp_path / "main.tf"
    path.write_text('locals {\n  parts = []\n}\n\n' + HEAD + '  eks_managed_node_groups = {\n    a = {\n'
                    '      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n', encoding="utf-8")
    (tmp_path / "bad.tf").write_bytes(b'locals {\n  x = "caf\xe9"\n}\n')
    code, data = fix(cli, path.parent)
    assert code == 1
    assert [g["node_group"] for g in data["fixed"]] == ["a"]
    assert [(e["file"], e["message"]) for e in data["errors"]] == [("bad.tf", "not UTF-8 text (byte 0xe9)")]


def test_a_local_read_from_a_json_file_is_not_rewritten_behind_its_back(cli, tmp_path: Path) -> None:
    """A reader written in JSON syntax (``output.tf.json``) cannot be placed in a block by the text alone: it is
    taken as a reader, so the local is left alone and the refusal names the file."""
    text = ('locals {\n  parts = []\n}\n\n' + HEAD + '  eks_managed_node_groups = {\n    a = {\n'
            '      cloudinit_pre_nodeadm = local.parts\n    }\n  }\n}\n')
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "output.tf.json").write_text('{"output": {"parts": {"value": "${local.parts}"}}}\n')
    code, data = fix(cli, path.parent)
    assert code == 1 and data["fixed"] == []
    assert refusals(data)[0].startswith("not rewritten: the edit would change local.parts, which a block of "
                                        "output.tf.json also reads (output.tf.json:1)")
    assert path.read_text(encoding="utf-8") == text
