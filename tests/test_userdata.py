"""The user data a node receives, assembled and fed to the real programs that read it.

cloud-init (Debian's package, run with the system Python that carries it)
splits the multipart document and hands each part to its handlers; nodeadm
is not available here, so its merge rule is the one measured with a real
nodeadm (documents in order, maps key by key, the later value winning) and
implemented once, in the policy the checks use. systemd-analyze checks the
AL2 drop-ins against units shaped like the AMI's. What only a real node can
prove (nodeadm writing the environment files, containerd pulling through the
proxy) is named in the README.
"""

from __future__ import annotations

import email
import json
import subprocess
from email.message import Message
from pathlib import Path

import pytest

from eksproxy_gen.policy import nodeconfig

from .conftest import require, sandbox_bash, tool
from .test_families import FLAGS as AL2_FLAGS
from .test_families import copy_fixture, dedent_heredoc, node_groups

SYSTEM_PYTHON = "/usr/bin/python3"
FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16")
PROXY_KEYS = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}

CLOUD_INIT_WALK = r"""
import json, sys, tempfile
from types import SimpleNamespace
from cloudinit import handlers, helpers, stages
from cloudinit.user_data import UserDataProcessor

work = tempfile.mkdtemp()
paths = helpers.Paths({"cloud_dir": work, "run_dir": work})
claimed = {}
for handler in stages.Init._default_handlers(SimpleNamespace(paths=paths, datasource=None)):
    for content_type in handler.list_types():
        claimed.setdefault(content_type, type(handler).__name__)
message = UserDataProcessor(paths).process(sys.stdin.read())
seen = []
def record(_data, filename, payload, headers):
    content_type = headers["Content-Type"]
    text = payload.decode() if isinstance(payload, bytes) else payload
    seen.append({"type": content_type, "filename": filename, "handler": claimed.get(content_type), "payload": text})
handlers.walk(message, record, None)
print(json.dumps(seen))
"""


def cloud_init_parts(document: str) -> list[dict]:
    """Each part as cloud-init's own user-data processing sees it, with the handler that claims its type."""
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import cloudinit"], capture_output=True, check=False) \
        if Path(SYSTEM_PYTHON).exists() else None
    require(probe is not None and probe.returncode == 0,
            "cloud-init is not installed for the system Python (tests/run.sh installs Debian's cloud-init)")
    proc = subprocess.run([SYSTEM_PYTHON, "-c", CLOUD_INIT_WALK], input=document, capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def mime_parts(document: str) -> list[Message]:
    message = email.message_from_string(document)
    assert message.is_multipart()
    return [part for part in message.walk() if not part.is_multipart()]


def merged_environment(parts: list[Message]) -> nodeconfig.Environment:
    """The environment nodeadm ends up with: the first document of each NodeConfig part, merged in order."""
    documents = [nodeconfig.read(str(part.get_payload())).items[0] for part in parts
                 if part.get_content_type() == "application/node.eks.aws"]
    return nodeconfig.environment(nodeconfig.Documents((nodeconfig.merged(documents),)))


def test_the_merge_rule_is_key_by_key_with_the_later_value_winning() -> None:
    first = {"spec": {"instance": {"environment": {"default": {"A": "1", "B": "2"}}}, "kubelet": {"flags": ["x"]}}}
    later = {"spec": {"instance": {"environment": {"default": {"B": "", "C": "3"}, "kubelet": {"D": "4"}}},
                      "kubelet": {"flags": ["y"]}}}
    assert nodeconfig.merged([first, later]) == {"spec": {
        "instance": {"environment": {"default": {"A": "1", "B": "", "C": "3"}, "kubelet": {"D": "4"}}},
        "kubelet": {"flags": ["x", "y"]}}}
    assert first["spec"]["instance"]["environment"]["default"] == {"A": "1", "B": "2"}


def test_rendered_user_data_reaches_cloud_init_handlers_in_order(cli) -> None:
    document = cli("render", "--format", "mime", *FLAGS).out
    seen = cloud_init_parts(document)
    assert [(p["type"], p["filename"], p["handler"]) for p in seen] == [
        ("application/node.eks.aws", "eksproxy-gen-proxy.yaml", None),
        ("text/x-shellscript", "eksproxy-gen-dnf.sh", "ShellScriptPartHandler"),
        ("application/node.eks.aws", "part-003", None),
    ]
    assert seen[1]["payload"].startswith("#!/bin/bash\n")
    assert "kind: NodeConfig" in seen[0]["payload"] and "cluster:" in seen[2]["payload"]
    environment = merged_environment(mime_parts(document))
    assert set(environment["default"]) >= PROXY_KEYS


USER_PART = """module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "c"
  kubernetes_version = "1.33"

  eks_managed_node_groups = {
    general = {
      ami_type = "AL2023_x86_64_STANDARD"
      cloudinit_pre_nodeadm = [
        {
          content_type = "application/node.eks.aws"
          content      = <<-EOT
            apiVersion: node.eks.aws/v1alpha1
            kind: NodeConfig
            spec:
              instance:
                environment:
                  default:
                    TEAM: payments
%s
                  kubelet:
                    GODEBUG: "x509sha1=1"
          EOT
        },
        {
          content_type = "text/x-shellscript"
          content      = <<-EOT
            #!/bin/bash
            sysctl -w net.core.somaxconn=4096
          EOT
        },
      ]
    }
  }
}
"""


@pytest.mark.parametrize("own_no_proxy", ["", '                    NO_PROXY: "stale.example"'])
def test_after_fix_the_merged_environment_keeps_the_users_variables_and_has_the_proxy(
        cli, tmp_path: Path, own_no_proxy: str) -> None:
    path = tmp_path / "main.tf"
    path.write_text(USER_PART % own_no_proxy, encoding="utf-8")
    assert cli("fix", str(tmp_path), *FLAGS).code == 0
    assert cli("check", str(tmp_path)).code == 0
    document = cli("render", "--format", "mime", "--group", f"{path}:eks.general").out
    parts = mime_parts(document)
    assert parts[-1]["X-Eksproxy-Gen-Note"] == "added by EKS when it launches the node, not written by Terraform"
    seen = cloud_init_parts(document)
    assert [p["type"] for p in seen] == [part.get_content_type() for part in parts]
    assert [p["handler"] for p in seen if p["type"] == "text/x-shellscript"] == ["ShellScriptPartHandler"] * 2
    assert any("sysctl -w net.core.somaxconn=4096" in p["payload"] for p in seen)
    environment = merged_environment(parts)
    assert environment["default"]["TEAM"] == "payments"
    assert environment["kubelet"] == {"GODEBUG": "x509sha1=1"}
    assert environment["default"]["HTTPS_PROXY"] == "http://proxy.corp.example:3128"
    assert environment["default"]["NO_PROXY"].startswith("localhost,127.0.0.1,169.254.169.254,10.0.0.0/16")
    assert set(environment["default"]) >= PROXY_KEYS


UNITS = {
    "containerd": """[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart={bin}/containerd
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
LimitNOFILE=1048576
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
""",
    "sandbox-image": """[Unit]
Description=pull sandbox image defined in containerd config.toml
Requires=containerd.service
After=containerd.service

[Service]
Type=oneshot
ExecStart={bin}/pull-sandbox-image.sh

[Install]
WantedBy=multi-user.target
""",
    "kubelet": """[Unit]
Description=Kubernetes Kubelet
Documentation=https://github.com/kubernetes/kubernetes
After=containerd.service sandbox-image.service
Requires=containerd.service sandbox-image.service

[Service]
ExecStartPre={bin}/iptables -P FORWARD ACCEPT -w 5
ExecStart={bin}/kubelet --cloud-provider external $KUBELET_ARGS $KUBELET_EXTRA_ARGS
Restart=always
RestartSec=5
KillMode=process
CPUAccounting=true
MemoryAccounting=true

[Install]
WantedBy=multi-user.target
""",
}


def _verify(units: Path, unit: str) -> subprocess.CompletedProcess[str]:
    env = {"SYSTEMD_UNIT_PATH": f"{units}:", "PATH": "/usr/bin:/bin", "SYSTEMD_LOG_COLOR": "0"}
    return subprocess.run([tool("systemd-analyze"), "verify", "--man=no", "--generators=no",
                           str(units / f"{unit}.service")], env=env, capture_output=True, text=True, check=False,
                          timeout=120)


def test_al2_drop_ins_pass_systemd_analyze_verify_against_the_amis_units(cli, tmp_path: Path) -> None:
    target = copy_fixture("families/al2.tf", tmp_path)
    cli("fix", str(target), *AL2_FLAGS)
    scripted = next(g for g in node_groups(target) if g.facts.name == "scripted")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    assert sandbox_bash(dedent_heredoc(scripted.facts.pre_bootstrap_user_data or ""), root).returncode == 0
    written = root / "etc" / "systemd" / "system"
    units, programs = tmp_path / "units", tmp_path / "bin"
    units.mkdir()
    programs.mkdir()
    for name in ("containerd", "pull-sandbox-image.sh", "iptables", "kubelet"):
        (programs / name).write_text("#!/bin/sh\nexit 0\n")
        (programs / name).chmod(0o755)
    for unit, text in UNITS.items():
        (units / f"{unit}.service").write_text(text.format(bin=programs))
        dropins = written / f"{unit}.service.d"
        assert sorted(p.name for p in dropins.iterdir()) == ["eksproxy-gen.conf"]
        (units / f"{unit}.service.d").mkdir()
        (units / f"{unit}.service.d" / "eksproxy-gen.conf").write_text((dropins / "eksproxy-gen.conf").read_text())
    for unit in UNITS:
        proc = _verify(units, unit)
        assert (proc.returncode, proc.stderr) == (0, ""), f"{unit}: {proc.stderr}"
    # The same verify reports a drop-in systemd would ignore, so the clean result above means something.
    (units / "kubelet.service.d" / "typo.conf").write_text("[Service]\nEnviromentFile=/etc/eksproxy-gen/proxy.env\n")
    assert "Unknown key 'EnviromentFile'" in _verify(units, "kubelet").stderr
