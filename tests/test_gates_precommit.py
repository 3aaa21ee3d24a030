"""The hooks as a repository runs them, with the real pre-commit and git commit: a staged file stands for its
whole folder, and what the fix hook leaves is reported once, by the check hook, when both run."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .test_cli import console
from .test_install import Committed, committed, git  # noqa: F401  (committed: a fixture)
from .test_precommit import _config, _repository, _run, pre_commit_home  # noqa: F401  (pre_commit_home: a fixture)

HEAD = 'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n  name = "c"\n\n'
SETTINGS = 'proxy = "http://proxy.corp.example:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'
# ``built`` is refused by fix (an expression builds its parts), so its EKSP001 is left; ``plain`` is fixed
REFUSED_AND_FIXABLE = (HEAD + "  eks_managed_node_groups = {\n    built = {\n"
                       "      cloudinit_pre_nodeadm = concat([], [])\n"
                       "    }\n    plain = {\n      min_size = local.size\n    }\n  }\n}\n")
LEFT = "eks.tf:8: EKSP001 error eks.built"


def test_staging_only_a_file_of_locals_judges_the_groups_next_to_it(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = _repository(tmp_path / "repo", pre_commit_home, _config(committed, {"id": "eksproxy-gen-check"}))
    (repo / "eks.tf").write_text(HEAD + "  eks_managed_node_groups = {\n    general = {\n"
                                 "      min_size = local.size\n    }\n  }\n}\n")
    (repo / "variables.tf").write_text("locals {\n  size = 1\n}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "groups without a proxy")
    (repo / "variables.tf").write_text("locals {\n  size = 2\n}\n")
    git(repo, "add", "variables.tf")
    head = git(repo, "rev-parse", "HEAD")
    refused = _run(repo, pre_commit_home, "git", "commit", "-m", "two nodes")
    shown = refused.stdout + refused.stderr
    assert refused.returncode == 1, shown
    assert "eks.tf:8: EKSP001 error eks.general" in shown
    assert git(repo, "rev-parse", "HEAD") == head


def test_with_both_hooks_what_fix_leaves_is_reported_once_by_the_check_hook(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = _repository(tmp_path / "repo", pre_commit_home,
                       _config(committed, {"id": "eksproxy-gen-fix"}, {"id": "eksproxy-gen-check"}))
    (repo / ".eksproxy-gen.toml").write_text(SETTINGS)
    (repo / "eks.tf").write_text(REFUSED_AND_FIXABLE)
    (repo / "variables.tf").write_text("locals {\n  size = 1\n}\n")
    git(repo, "add", "-A")
    first = _run(repo, pre_commit_home, "git", "commit", "-m", "groups")
    shown = first.stdout + first.stderr
    assert first.returncode == 1, shown
    assert shown.count(LEFT) == 1, shown
    assert re.search(r"eksproxy-gen fix .*Failed", shown) and "files were modified by this hook" in shown
    assert "eks.tf: fixed eks.plain" in shown
    assert "eks.tf: note: eks.built: not rewritten: cloudinit_pre_nodeadm is built by an expression" in shown
    assert "findings left are reported by the eksproxy-gen-check hook" in shown
    assert len(re.findall(r"^\d+ findings? \(", shown, re.M)) == 1, "one total: the check hook's"
    git(repo, "add", "-A")
    second = _run(repo, pre_commit_home, "git", "commit", "-m", "groups")
    shown = second.stdout + second.stderr
    assert second.returncode == 1 and shown.count(LEFT) == 1, shown
    assert re.search(r"eksproxy-gen fix .*Passed", shown), "nothing changed: the fix hook passes"
    assert re.search(r"eksproxy-gen check .*Failed", shown)


def test_the_fix_hook_alone_still_prints_and_fails_on_what_it_leaves(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = _repository(tmp_path / "repo", pre_commit_home, _config(committed, {"id": "eksproxy-gen-fix"}))
    (repo / ".eksproxy-gen.toml").write_text(SETTINGS)
    (repo / "eks.tf").write_text(REFUSED_AND_FIXABLE)
    (repo / "variables.tf").write_text("locals {\n  size = 1\n}\n")
    git(repo, "add", "-A")
    first = _run(repo, pre_commit_home, "git", "commit", "-m", "groups")
    assert first.returncode == 1
    git(repo, "add", "-A")
    second = _run(repo, pre_commit_home, "git", "commit", "-m", "groups")
    shown = second.stdout + second.stderr
    assert second.returncode == 1, shown
    assert shown.count(LEFT) == 1 and re.search(r"eksproxy-gen fix .*Failed", shown)
    assert "files were modified by this hook" not in shown
    assert re.search(r"^nothing to fix; 2 findings \(2 errors, 0 warnings\) left\.$", shown, re.M), shown


def test_findings_are_left_to_the_check_hook_only_when_it_really_runs(tmp_path: Path) -> None:
    """Read from the repository's own .pre-commit-config.yaml, and not when SKIP names the check hook."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".eksproxy-gen.toml").write_text(SETTINGS)
    (repo / "eks.tf").write_text(REFUSED_AND_FIXABLE)
    (repo / "variables.tf").write_text("locals {\n  size = 1\n}\n")
    hooks = "repos:\n  - repo: https://github.com/eksproxy-gen/eksproxy-gen\n    rev: abc\n    hooks:\n"

    def fix(config: str | None, **env: str) -> subprocess.CompletedProcess[str]:
        target = repo / ".pre-commit-config.yaml"
        target.unlink(missing_ok=True)
        if config is not None:
            target.write_text(config)
        return console("fix", "--leave-findings-to-check", "--", "variables.tf", cwd=repo, **env)

    both = hooks + "      - id: eksproxy-gen-fix\n      - id: eksproxy-gen-check\n"
    left = fix(both)
    assert left.returncode == 1 and "eks.tf: fixed eks.plain" in left.stderr, left.stderr
    assert LEFT not in left.stdout + left.stderr
    assert "findings left are reported by the eksproxy-gen-check hook" in left.stderr
    again = fix(both)
    assert (again.returncode, again.stdout) == (0, ""), "nothing changed, nothing of its own failed"
    for config, env in ((both, {"SKIP": "eksproxy-gen-check"}), (hooks + "      - id: eksproxy-gen-fix\n", {}),
                        (None, {})):
        alone = fix(config, **env)
        assert alone.returncode == 1 and LEFT in alone.stdout + alone.stderr, (config, env)
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(both)
    (repo / ".pre-commit-config.yaml").symlink_to(outside)
    linked = console("fix", "--leave-findings-to-check", "--", "variables.tf", cwd=repo)
    assert linked.returncode == 1 and LEFT in linked.stdout + linked.stderr, "a link out of the repository is not read"


NODECONFIG = """\
apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  instance:
    environment:
      default:
        HTTP_PROXY: http://proxy.corp.example:3128
        HTTPS_PROXY: http://proxy.corp.example:3128
        NO_PROXY: localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com
        http_proxy: http://proxy.corp.example:3128
        https_proxy: http://proxy.corp.example:3128
        no_proxy: localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com
"""
READ_BY = (HEAD + '  service_ipv4_cidr = "172.20.0.0/16"\n\n  eks_managed_node_groups = {\n    a = {\n'
           '      cloudinit_pre_nodeadm = [\n        {\n          content_type = "application/node.eks.aws"\n'
           "          content      = %s\n        }\n      ]\n    }\n  }\n}\n")
OVERRIDE = ('{\n  "module": {\n    "eks": {\n      "eks_managed_node_groups": {\n        "a": {}\n      }\n    }\n'
            '  }\n}\n')
# A file that decides a group's verdict but is no *.tf file, as a commit changes it alone: (staged file, how
# main.tf reads it, its text at the commit, the finding the commit must be refused with)
STAGED_ALONE = {
    "yaml template in a subfolder": ("templates/proxy-nodeconfig.yaml", 'file("${path.module}/%s")',
                                     NODECONFIG.replace(".internal,", ""), "main.tf:10: EKSP006 error eks.a"),
    "tftpl template": ("templates/proxy.yaml.tftpl", 'templatefile("${path.module}/%s", {})',
                       NODECONFIG.replace(".internal,", ""), "main.tf:10: EKSP006 error eks.a"),
    "tpl template next to main.tf": ("proxy.tpl", 'file("${path.module}/%s")',
                                     NODECONFIG.replace(".internal,", ""), "main.tf:10: EKSP006 error eks.a"),
    "file without an extension two folders down": ("files/nodeadm/nodeconfig", 'file("${path.module}/%s")',
                                                   NODECONFIG.replace(".internal,", ""),
                                                   "main.tf:10: EKSP006 error eks.a"),
    "tf.json override": ("eks_override.tf.json", None, OVERRIDE, "eks_override.tf.json:5: EKSP001 error eks.a"),
}


@pytest.mark.parametrize("kind", sorted(STAGED_ALONE))
def test_a_commit_of_only_a_file_the_groups_read_runs_the_hooks_on_those_groups(
        committed: Committed, pre_commit_home: Path, tmp_path: Path, kind: str) -> None:  # noqa: F811
    """The hooks take every staged file, and one that is no Terraform stands for the Terraform folder above it:
    a template (or override) staged alone must not pass while `check .` fails."""
    staged, read, broken, refused_with = STAGED_ALONE[kind]
    repo = _repository(tmp_path / "repo", pre_commit_home, _config(committed, {"id": "eksproxy-gen-check"}))
    (repo / ".eksproxy-gen.toml").write_text(SETTINGS + 'ignore = ["EKSP013"]\n')
    template = "templates/base.yaml" if read is None else staged
    (repo / template).parent.mkdir(parents=True, exist_ok=True)
    (repo / template).write_text(NODECONFIG)
    (repo / "main.tf").write_text(READ_BY % ((read or 'file("${path.module}/%s")') % template))
    git(repo, "add", "-A")
    good = _run(repo, pre_commit_home, "git", "commit", "-m", "proxied groups")
    assert good.returncode == 0, good.stdout + good.stderr
    (repo / staged).write_text(broken)
    git(repo, "add", staged)
    head = git(repo, "rev-parse", "HEAD")
    refused = _run(repo, pre_commit_home, "git", "commit", "-m", "the change alone")
    shown = refused.stdout + refused.stderr
    assert refused.returncode == 1, shown
    assert refused_with in shown
    assert re.search(r"eksproxy-gen check .*Failed", shown), shown
    assert git(repo, "rev-parse", "HEAD") == head


def test_the_fix_hook_given_only_a_template_rewrites_what_the_groups_read(
        committed: Committed, pre_commit_home: Path, tmp_path: Path) -> None:  # noqa: F811
    """The fix hook widens a staged template as the check hook does: the group that reads it is fixed, so the
    commit stops for review instead of passing with "nothing to fix"."""
    repo = _repository(tmp_path / "repo", pre_commit_home, _config(committed, {"id": "eksproxy-gen-fix"}))
    (repo / ".eksproxy-gen.toml").write_text(SETTINGS + 'ignore = ["EKSP013"]\n')
    (repo / "templates").mkdir()
    (repo / "templates/proxy.yaml.tftpl").write_text(NODECONFIG)
    (repo / "main.tf").write_text(READ_BY % 'templatefile("${path.module}/templates/proxy.yaml.tftpl", {})')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "proxied groups")
    (repo / "templates/proxy.yaml.tftpl").write_text(NODECONFIG.replace(".internal,", ""))
    git(repo, "add", "templates/proxy.yaml.tftpl")
    refused = _run(repo, pre_commit_home, "git", "commit", "-m", "the template alone")
    shown = refused.stdout + refused.stderr
    assert refused.returncode == 1, shown
    assert "files were modified by this hook" in shown and "main.tf: fixed eks.a" in shown, shown
    assert ".internal" in (repo / "main.tf").read_text()
