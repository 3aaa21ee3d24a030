"""The generated AL2 block never stops a node joining, on every AMI generation it claims to support.

The block is run where it runs on a node: inside the module's self-managed template (``#!/bin/bash``, ``set -e``,
then ``/etc/eks/bootstrap.sh``), and as the managed node group's own ``text/x-shellscript`` part, executed as
cloud-init executes it (so a part without ``#!`` fails as it would: "Exec format error"). ``systemctl`` answers
as systemd does for units that are missing, inactive or active (conftest.FAKE_SYSTEMCTL): AL2 AMIs for Kubernetes
1.25 and later have no docker.service, and ``systemctl try-restart docker`` then exits 5.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eksproxy_gen.policy.values import dedent_heredoc

from .conftest import node_groups, replaced, sandbox_bash, tool

PROXY = "http://proxy.corp.example:3128"
FLAGS = ("--proxy", PROXY, "--vpc-cidr", "10.0.0.0/16", "--no-cache")

# Units of the AL2 EKS AMI before bootstrap.sh runs, by generation (amazon-eks-ami: the docker runtime until
# Kubernetes 1.23, containerd by default from 1.24 with docker still installed, no docker.service from 1.25).
GENERATIONS = {
    "1.23 (dockershim)": {"containerd": "active", "docker": "active", "kubelet": "inactive"},
    "1.24 (containerd, docker installed)": {"containerd": "active", "sandbox-image": "inactive",
                                            "kubelet": "inactive", "docker": "inactive"},
    "1.25 and later (no docker)": {"containerd": "active", "sandbox-image": "inactive", "kubelet": "inactive"},
}

BOOTSTRAP = """#!/bin/bash
printf 'HTTPS_PROXY=%s\\nNO_PROXY=%s\\n' "${HTTPS_PROXY:-}" "${NO_PROXY:-}" > /etc/bootstrapped
"""

TF = """module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"

  cluster_name              = "old"
  cluster_service_ipv4_cidr = "172.20.0.0/16"

  self_managed_node_groups = {
    self = {
      ami_type = "AL2_x86_64"

      pre_bootstrap_user_data = <<-EOT
        #!/bin/bash
        echo "tuning" > /etc/tuned
      EOT
    }
  }
  eks_managed_node_groups = {
    managed = {
      ami_type = "AL2_x86_64"

      pre_bootstrap_user_data = <<-EOT
        echo "tuning" > /etc/tuned
      EOT
    }
  }
}
"""


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The fixed groups' scripts, as the node gets them (heredoc indentation removed)."""
    from eksproxy_gen import main

    folder = tmp_path_factory.mktemp("al2")
    (folder / "main.tf").write_text(TF, encoding="utf-8")
    assert main.main(["fix", str(folder), *FLAGS]) == 0
    return {g.facts.name: dedent_heredoc(g.facts.pre_bootstrap_user_data or "")
            for g in node_groups(folder / "main.tf")}


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "yum.conf").write_text("[main]\ncachedir=/var/cache/yum\n")
    return root


def _restarted(root: Path) -> list[str]:
    return [line.split()[1] for line in (root / "etc" / "systemctl.log").read_text().splitlines()
            if line.startswith("restarted ")]


@pytest.mark.parametrize("generation", sorted(GENERATIONS))
def test_self_managed_template_runs_to_bootstrap_under_set_e(scripts: dict[str, str], tmp_path: Path,
                                                             generation: str) -> None:
    """The module's own template for self-managed AL2: ``set -e``, the script, then bootstrap.sh."""
    units = GENERATIONS[generation]
    root = _root(tmp_path)
    user_data = f"#!/bin/bash\nset -e\n{scripts['self']}\nbootstrap.sh old --b64-cluster-ca x\n"
    proc = sandbox_bash(user_data, root, units, {"bootstrap.sh": BOOTSTRAP})
    assert proc.returncode == 0, proc.stderr
    assert "not found" not in proc.stderr
    bootstrapped = (root / "etc" / "bootstrapped").read_text()
    assert f"HTTPS_PROXY={PROXY}\n" in bootstrapped and ".internal" in bootstrapped
    assert _restarted(root) == sorted(f"{u}.service" for u, s in units.items()
                                      if s == "active" and u in {"containerd", "docker"})
    assert (root / "etc" / "yum.conf").read_text() == f"[main]\nproxy={PROXY}\ncachedir=/var/cache/yum\n"
    assert (root / "etc" / "tuned").read_text() == "tuning\n"


@pytest.mark.parametrize("generation", sorted(GENERATIONS))
def test_managed_part_runs_as_cloud_init_runs_it(scripts: dict[str, str], tmp_path: Path, generation: str) -> None:
    """A managed AL2 group's pre_bootstrap_user_data is its own text/x-shellscript part: executed, not sourced,
    so it needs a ``#!`` line; the user's script had none and fix gave it one."""
    units = GENERATIONS[generation]
    root = _root(tmp_path)
    (root / "etc" / "part").write_text(scripts["managed"])
    (root / "etc" / "part").chmod(0o755)
    proc = sandbox_bash("/etc/part", root, units)
    assert proc.returncode == 0, proc.stderr
    assert scripts["managed"].startswith("#!/bin/bash\n")
    assert (root / "etc" / "tuned").read_text() == "tuning\n"
    assert "proxy=" + PROXY in (root / "etc" / "yum.conf").read_text()
    for unit in ("containerd", "sandbox-image", "kubelet", "docker"):
        assert (root / "etc" / "systemd" / "system" / f"{unit}.service.d" / "eksproxy-gen.conf").read_text() == \
            "[Service]\nEnvironmentFile=/etc/eksproxy-gen/proxy.env\n"


def test_a_failing_set_up_is_reported_and_the_bootstrap_still_runs(scripts: dict[str, str], tmp_path: Path) -> None:
    """/etc/eksproxy-gen cannot be created (a file is in the way): the block says so on stderr, and bootstrap.sh
    still runs under ``set -e``."""
    root = _root(tmp_path)
    (root / "etc" / "eksproxy-gen").write_text("in the way\n")
    user_data = f"#!/bin/bash\nset -e\n{scripts['self']}\nbootstrap.sh old\n"
    proc = sandbox_bash(user_data, root, GENERATIONS["1.25 and later (no docker)"], {"bootstrap.sh": BOOTSTRAP})
    assert proc.returncode == 0, proc.stderr
    assert "eksproxy-gen: the proxy set-up did not complete (exit 1)" in proc.stderr
    assert "Not a directory" not in proc.stderr  # it stopped at the first failure
    assert (root / "etc" / "bootstrapped").exists()


def test_the_sandbox_systemctl_fails_as_systemd_does_for_a_missing_unit(tmp_path: Path) -> None:
    """The stand-in is only worth its verdicts if it fails where systemd fails: the old generated line
    ``systemctl try-restart containerd sandbox-image docker`` exits 5 on a 1.25+ AMI and aborts ``set -e``."""
    root = _root(tmp_path)
    proc = sandbox_bash("set -e\nsystemctl try-restart containerd sandbox-image docker\necho after > /etc/after\n",
                        root, GENERATIONS["1.25 and later (no docker)"])
    assert proc.returncode == 5
    assert "Unit docker.service not found." in proc.stderr
    assert not (root / "etc" / "after").exists()


def test_rerunning_the_block_changes_nothing_more(scripts: dict[str, str], tmp_path: Path) -> None:
    root = _root(tmp_path)
    units = GENERATIONS["1.24 (containerd, docker installed)"]
    snapshots = []
    for _ in range(2):
        assert sandbox_bash(scripts["managed"], root, units).returncode == 0
        snapshots.append({str(p.relative_to(root)): p.read_text() for p in sorted((root / "etc").rglob("*"))
                          if p.is_file() and p.name != "systemctl.log"})
    assert snapshots[0] == snapshots[1]


def test_check_after_fix_finds_nothing_left_to_fix(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TF, encoding="utf-8")
    assert cli("fix", str(tmp_path), *FLAGS).code == 0
    data = json.loads(cli("check", str(tmp_path), "--format", "json", "--no-cache").out)
    assert sorted({f["rule"] for f in data["findings"]}) == ["EKSP017"]


def test_the_generated_script_passes_shellcheck(scripts: dict[str, str], tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "part.sh"
    script.write_text(scripts["managed"], encoding="utf-8")
    proc = subprocess.run([tool("shellcheck"), "--severity=style", "--exclude=SC1091", str(script)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_a_script_that_never_ran_is_said_to_run_from_now_on(cli, tmp_path: Path) -> None:
    """Adding ``#!`` makes the user's own lines run for the first time (a managed group's part without one fails
    with "Exec format error"): fix counts EKSP027 as resolved and says which lines now run, so a destructive
    line that never ran is reviewed, not discovered on a node."""
    (tmp_path / "main.tf").write_text(TF, encoding="utf-8")
    result = cli("fix", str(tmp_path), "--format", "json", *FLAGS)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    rules = {g["node_group"]: g["rules"] for g in report["fixed"]}
    assert rules == {"self": ["EKSP001"], "managed": ["EKSP001", "EKSP027"]}
    notes = [n["note"] for n in report["notes"]]
    assert ("eks.managed: #!/bin/bash added as the first line of pre_bootstrap_user_data: cloud-init cannot run a "
            "script without one, so its own lines (1 of the script) never ran; they run at boot from now on, so "
            "review them") in notes
    assert not [n for n in notes if n.startswith("eks.self:") and "#!/bin/bash added" in n]


def test_a_script_in_another_language_is_not_given_a_shell_block(cli, tmp_path: Path) -> None:
    """The bash block was put after ``#!/usr/bin/env python3``: Python then failed on it, and the user's own
    work in the script died with it. Such a group is refused, named, and left as it was."""
    (tmp_path / "main.tf").write_text(TF.replace('echo "tuning" > /etc/tuned\n      EOT\n    }\n  }\n}',
                                                 '#!/usr/bin/env python3\n        import os\n      EOT\n    }\n  }\n}'),
                                      encoding="utf-8")
    before = (tmp_path / "main.tf").read_text(encoding="utf-8")
    assert "#!/usr/bin/env python3" in before
    result = cli("fix", str(tmp_path), "--format", "json", *FLAGS)
    report = json.loads(result.out)
    assert [g["node_group"] for g in report["fixed"]] == ["self"]
    refusal = [f["message"] for f in report["findings"] if f["node_group"] == "managed" and f["rule"] == "EKSP010"]
    assert refusal and "pre_bootstrap_user_data is not a shell script (#!/usr/bin/env python3)" in refusal[0]
    after = (tmp_path / "main.tf").read_text(encoding="utf-8")
    assert after.split("eks_managed_node_groups")[1] == before.split("eks_managed_node_groups")[1]


KINDS = {  # how the group is declared, and whether its script is a user-data part of its own (needs #!)
    "self-managed": ("self_managed_node_groups", "", False),
    "managed": ("eks_managed_node_groups", "", True),
    "managed, custom AMI, module's bootstrap": (
        "eks_managed_node_groups",
        '      ami_id                     = "ami-0123456789abcdef0"\n      enable_bootstrap_user_data = true\n', False),
}
SCRIPTS = {"with #!": "#!/bin/bash\necho tuning > /etc/tuned\n", "without #!": "echo tuning > /etc/tuned\n",
           "none": None}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_shebang_is_added_only_where_the_script_is_a_part_of_its_own(cli, tmp_path: Path, kind: str,
                                                                       script: str) -> None:
    """``#!/bin/bash`` goes first only where the script is a part of its own (a managed group on the EKS AMI),
    with the note that its lines never ran; where the module's template runs it after a ``#!`` of its own
    (self-managed groups, custom AMIs) no line is added and no note claims the lines never ran."""
    setting, extra, own_part = KINDS[kind]
    body = SCRIPTS[script]
    written = "" if body is None else (
        "      pre_bootstrap_user_data = <<-EOT\n" + "".join(f"        {ln}\n" for ln in body.splitlines())
        + "      EOT\n")
    (tmp_path / "main.tf").write_text(
        'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 20.0"\n\n'
        '  cluster_name              = "old"\n  cluster_service_ipv4_cidr = "172.20.0.0/16"\n\n'
        f'  {setting} = {{\n    g = {{\n      ami_type = "AL2_x86_64"\n{extra}{written}    }}\n  }}\n}}\n')
    result = cli("fix", str(tmp_path), "--format", "json", *FLAGS)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    after = (tmp_path / "main.tf").read_text()
    first = after.split("pre_bootstrap_user_data = <<-EOT\n", 1)[1].splitlines()[0].strip()
    added = own_part and script != "with #!"
    assert (first == "#!/bin/bash") == (own_part or script == "with #!")
    assert after.count("#!/bin/bash") == (1 if added or script == "with #!" else 0)
    said = [n["note"] for n in report["notes"] if "#!/bin/bash added" in n["note"]]
    assert bool(said) == (added and script == "without #!")

SECRET = "Qj7Secret"
# The user's own script asks bash to trace it; the proxy (as Terraform puts a sensitive variable's value into the
# user data) holds a password.
TRACED_TF = TF.replace('      pre_bootstrap_user_data = <<-EOT\n        echo "tuning"',
                       '      pre_bootstrap_user_data = <<-EOT\n        #!/bin/bash -xe\n        echo "tuning"')
OPTIONS = 'echo "$-:$(set -o | grep -w pipefail | tr -s " \\t" " ")" > /etc/options-%s\n'
# (first line, the user's lines before the block, how cloud-init or the user starts it), each with tracing on.
SHELL_SET_UPS = {
    "#!/bin/bash -xe": ("#!/bin/bash -xe", "", "/etc/part"),
    "bash -x": ("#!/bin/bash", "", "bash -x /etc/part"),
    "bash -xv": ("#!/bin/bash", "", "bash -xv /etc/part"),
    "set -x inside": ("#!/bin/bash", "set -x\n", "/etc/part"),
    "set -xeuCa -o pipefail": ("#!/bin/bash", "set -xeuCa -o pipefail\n", "/etc/part"),
    "#!/bin/bash -v, set -o xtrace": ("#!/bin/bash -v", "set -o xtrace\n", "/etc/part"),
}


@pytest.fixture(scope="module")
def traced_script(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The managed group's script after ``fix --proxy tf:var.proxy_url``: the user's ``#!/bin/bash -xe`` first,
    then the block, with the variable's value (a URL with a password) put in as Terraform interpolates it.

    (A literal proxy with a password is not written into a traced script at all: EKSP014 refuses that.)
    """
    from eksproxy_gen import main

    folder = tmp_path_factory.mktemp("al2-traced")
    (folder / "main.tf").write_text(TRACED_TF, encoding="utf-8")
    assert main.main(["fix", str(folder), "--proxy", "tf:var.proxy_url", "--vpc-cidr", "10.0.0.0/16",
                      "--no-cache"]) == 0
    script = {g.facts.name: dedent_heredoc(g.facts.pre_bootstrap_user_data or "")
              for g in node_groups(folder / "main.tf")}["managed"]
    return replaced(script, "${var.proxy_url}", f"http://svc:{SECRET}@proxy.corp.example:3128")


@pytest.mark.parametrize("set_up", sorted(SHELL_SET_UPS))
def test_the_block_never_traces_the_proxy_and_gives_the_users_shell_options_back(traced_script: str, tmp_path: Path,
                                                                                 set_up: str) -> None:
    """Under the user's tracing (``-x``, ``-v``, from the first line, the command line or ``set``), the block
    prints nothing of the proxy (its password would reach cloud-init-output.log and the EC2 console), and the
    user's lines after it are traced again, with every shell option (-e, -u, -C, -a, -x, -v, pipefail) as the
    user set it."""
    first, before, command = SHELL_SET_UPS[set_up]
    shebang, _, rest = traced_script.partition("\n")
    assert shebang == "#!/bin/bash -xe" and "# >>> " in rest.split("\n")[0]
    root = _root(tmp_path)
    part = f"{first}\n{before}{OPTIONS % 'before'}{rest}echo user-after\n{OPTIONS % 'after'}"
    (root / "etc" / "part").write_text(part)
    (root / "etc" / "part").chmod(0o755)
    proc = sandbox_bash(command, root, GENERATIONS["1.25 and later (no docker)"])
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert "EKSPROXY_ENV" not in proc.stderr, "the block's own lines are not echoed by -v"
    assert "+ echo user-after\n" in proc.stderr, "the user's own lines after the block are traced again"
    if "v" in first + command:
        assert "\necho user-after\n" in proc.stderr, "and echoed again under -v"
    options = (root / "etc" / "options-before").read_text()
    assert "x" in options.split(":")[0]
    assert (root / "etc" / "options-after").read_text() == options
    assert SECRET in (root / "etc" / "eksproxy-gen" / "proxy.env").read_text()
    assert f"proxy=http://svc:{SECRET}@proxy.corp.example:3128" in (root / "etc" / "yum.conf").read_text()
    assert (root / "etc" / "tuned").read_text() == "tuning\n"
