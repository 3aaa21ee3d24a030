"""Every part type cloud-init executes needs a ``#!`` line: EKSP027 says so for each, as cloud-init itself decides.

cloud-init writes a script part (also per boot, instance or once) and a
boothook part to a file and executes it; without a ``#!`` line the kernel
refuses it ("Exec format error") and nothing in the part happens. The type it
goes by is not always the one written: MIME types are case-insensitive, a part
without one is text/plain, and for text/plain and text/x-shellscript the first
line decides (``#cloud-boothook`` makes a boothook, whose first line cloud-init
takes off before it writes the file). The oracle is Debian's cloud-init, run
on the user data ``render`` prints: its own handlers write each part and the
written file is executed (the parts only ``echo``).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from .conftest import require
from .test_userdata import SYSTEM_PYTHON

# The part types cloud-init's handlers write to a file and execute (shell_script.py, boot_hook.py,
# shell_script_by_frequency.py); the test asks cloud-init, so a release that adds one is noticed.
EXECUTED_TYPES = ["text/cloud-boothook", "text/x-shellscript", "text/x-shellscript-per-boot",
                  "text/x-shellscript-per-instance", "text/x-shellscript-per-once"]
# How users write parts (content_type, content; None: no content_type), around every type cloud-init executes.
PARTS: list[tuple[str | None, str]] = [
    ("text/x-shellscript", "echo ran"),
    ("Text/X-Shellscript", "echo ran"),
    ('text/x-shellscript; charset=\\"us-ascii\\"', "echo ran"),
    ("text/x-shellscript", "\n#!/bin/sh\necho ran"),
    ("text/x-shellscript", "#!/bin/sh\necho ran"),
    ("text/x-shellscript", "#cloud-boothook\necho ran"),
    ("text/x-shellscript", "#cloud-boothook\n#!/bin/sh\necho ran"),
    ("text/cloud-boothook", "echo ran"),
    ("TEXT/CLOUD-BOOTHOOK", "echo ran"),
    ("text/cloud-boothook", "#cloud-boothook\necho ran"),
    ("text/cloud-boothook", "#cloud-boothook\n#!/bin/sh\necho ran"),
    ("text/cloud-boothook", "#cloud-boothook\n\n  #!/bin/sh\necho ran"),
    ("text/cloud-boothook", "#!/bin/sh\necho ran"),
    ("text/x-shellscript-per-boot", "echo ran"),
    ("text/x-shellscript-per-boot", "#!/bin/sh\necho ran"),
    ("text/x-shellscript-per-instance", "echo ran"),
    ("text/x-shellscript-per-instance", "#!/bin/sh\necho ran"),
    ("text/x-shellscript-per-once", "echo ran"),
    ("text/x-shellscript-per-once", "#!/bin/sh\necho ran"),
    (None, "#cloud-boothook\necho ran"),
    (None, "#cloud-boothook\n#!/bin/sh\necho ran"),
    (None, "echo ran"),
    ("text/plain", "#cloud-boothook\necho ran"),
    ("text/cloud-config", "runcmd:\n  - echo ran"),
]

ORACLE = r"""
import json, os, subprocess, sys, tempfile
from types import SimpleNamespace
from cloudinit import handlers, helpers, stages
from cloudinit.user_data import UserDataProcessor

work = tempfile.mkdtemp()
source = SimpleNamespace(get_instance_id=lambda: "i-0")
paths = helpers.Paths({"cloud_dir": work, "run_dir": work}, ds=source)
claimed = {}
for handler in stages.Init._default_handlers(SimpleNamespace(paths=paths, datasource=source)):
    for content_type in handler.list_types():
        claimed.setdefault(content_type, handler)
executing = sorted(t for t in claimed if t.startswith(("text/x-shellscript", "text/cloud-boothook")))
seen = []
def files():
    return {os.path.join(d, f) for d, _, names in os.walk(work) for f in names}
def record(_data, filename, payload, headers):
    content_type = headers["Content-Type"]
    text = payload.decode() if isinstance(payload, bytes) else payload
    ran = None
    if content_type in executing:
        before = files()
        claimed[content_type].handle_part(None, content_type, filename, text, None)
        written = [path for path in files() - before if os.stat(path).st_mode & 0o100]
        assert len(written) == 1, written
        try:
            ran = subprocess.run(written, capture_output=True).returncode == 0
        except OSError:  # Exec format error
            ran = False
    seen.append({"type": content_type, "ran": ran})
handlers.walk(UserDataProcessor(paths).process(sys.stdin.read()), record, None)
print(json.dumps({"executing": executing, "seen": seen}))
"""


def _heredoc(text: str) -> str:
    return "\n".join(f"            {line}" if line else "" for line in text.split("\n"))


def _part(content_type: str | None, content: str) -> str:
    kind = "" if content_type is None else f'          content_type = "{content_type}"\n'
    return f"""        {{
{kind}          content      = <<-EOT
{_heredoc(content)}
          EOT
        }},
"""


def _tree(parts: list[tuple[str | None, str]]) -> str:
    return f"""module "eks" {{
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name              = "x"
  service_ipv4_cidr = "172.20.0.0/16"

  eks_managed_node_groups = {{
    a = {{
      cloudinit_pre_nodeadm = [
{"".join(_part(*p) for p in parts)}      ]
    }}
  }}
}}
"""


def test_every_part_cloud_init_executes_and_cannot_run_is_eksp027(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(_tree(PARTS), encoding="utf-8")
    (tmp_path / ".eksproxy-gen.toml").write_text('proxy = "http://proxy.corp:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n')
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import cloudinit"], capture_output=True, check=False) \
        if Path(SYSTEM_PYTHON).exists() else None
    require(probe is not None and probe.returncode == 0,
            "cloud-init is not installed for the system Python (tests/run.sh installs Debian's cloud-init)")
    document = cli("render", "--format", "mime", "--group", f"{tmp_path / 'main.tf'}:eks.a").out
    proc = subprocess.run([SYSTEM_PYTHON, "-c", ORACLE], input=document, capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    oracle = json.loads(proc.stdout)
    assert oracle["executing"] == EXECUTED_TYPES, "the types cloud-init's own handlers write and execute"
    seen = oracle["seen"][:len(PARTS)]
    assert {s["type"] for s in seen if s["ran"] is not None} == set(EXECUTED_TYPES), "every executed type is tried"
    cannot_run = {index: s["type"] for index, s in enumerate(seen) if s["ran"] is False}
    assert {s["ran"] for s in seen} == {None, True, False}
    found = json.loads(cli("check", str(tmp_path), "--format", "json").out)["findings"]
    flagged = {}
    for finding in found:
        if finding["rule"] == "EKSP027":
            match = re.match(r"cloudinit_pre_nodeadm\[(\d+)\] is a (\S+) part without a #! first line",
                             finding["message"])
            assert match, finding["message"]
            flagged[int(match.group(1))] = match.group(2)
    assert flagged == cannot_run
