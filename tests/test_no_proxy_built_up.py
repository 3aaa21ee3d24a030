"""A NO_PROXY a script builds up over several assignments is read as the shell builds it.

``NO_PROXY=a`` then ``NO_PROXY="$NO_PROXY,b"`` holds a and b: ``$NO_PROXY`` in the
second assignment is the first one's value. Hypothesis splits the required
entries into pieces and writes each step in one of the shell's ways of extending
a variable, joined by new lines, ``;`` or ``&&``; the finished list must be judged
complete, and ``fix`` must keep the user's entry and say nothing of entries
"filled at boot".
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import in_ci

REQUIRED = ("localhost", "127.0.0.1", "169.254.169.254", "10.0.0.0/16", "172.20.0.0/16", ".internal",
            ".eks.amazonaws.com", "artifactory.tools.example")
SETTINGS = 'proxy = "http://proxy.corp:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'
CALL = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name              = "x"
  service_ipv4_cidr = "172.20.0.0/16"

  eks_managed_node_groups = {
    a = {
      cloudinit_pre_nodeadm = [
        {
          content_type = "text/x-shellscript"
          content      = <<-EOT
%s
          EOT
        }
      ]
    }
  }
}
"""
# ways to extend the variable by ``more`` (a comma-joined piece)
STEPS = {
    "dollar": 'NO_PROXY="$NO_PROXY,{more}"',
    "braces": 'NO_PROXY="${{NO_PROXY}},{more}"',
    "append": 'NO_PROXY+=",{more}"',
    "export": 'export NO_PROXY="$NO_PROXY,{more}"',
    "via another variable": 'MORE="{more}"\nNO_PROXY="$NO_PROXY,$MORE"',
}
JOINS = ("\n", "; ", " && ")


@st.composite
def built_up(draw: st.DrawFn) -> str:
    """A script that sets NO_PROXY from the required entries in 2-4 steps (and no_proxy from it)."""
    cuts = sorted(draw(st.sets(st.integers(1, len(REQUIRED) - 1), min_size=1, max_size=3)))
    pieces = [",".join(REQUIRED[a:b]) for a, b in zip([0, *cuts], [*cuts, len(REQUIRED)], strict=True)]
    first = draw(st.sampled_from(['NO_PROXY="{more}"', "NO_PROXY={more}", "export NO_PROXY={more}"]))
    statements = [first.format(more=pieces[0])]
    for piece in pieces[1:]:
        statements.append(STEPS[draw(st.sampled_from(sorted(STEPS)))].format(more=piece))
    joined = statements[0]
    for statement in statements[1:]:
        joined += (draw(st.sampled_from(JOINS)) if "\n" not in statement else "\n") + statement
    lines = ["#!/bin/bash", "PROXY=http://proxy.corp:3128", joined,
             'export HTTPS_PROXY=$PROXY HTTP_PROXY=$PROXY https_proxy=$PROXY http_proxy=$PROXY NO_PROXY',
             'export no_proxy="$NO_PROXY"', "curl -fsS https://artifactory.tools.example/bootstrap.sh | bash"]
    return "\n".join(lines)


@settings(max_examples=12 if not in_ci() else 6, deadline=None, derandomize=in_ci(),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(script=built_up())
def test_a_no_proxy_built_up_over_assignments_is_read_whole(cli, tmp_path_factory, script: str) -> None:
    work: Path = tmp_path_factory.mktemp("built")
    body = "\n".join("            " + line for line in script.split("\n"))
    (work / "main.tf").write_text(CALL % body, encoding="utf-8")
    (work / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")
    result = cli("check", str(work), "--format", "json", "--no-cache")
    lacking = [f["message"] for f in json.loads(result.out)["findings"] if f["rule"] == "EKSP006"]
    assert lacking == [], (script, lacking)
    fixed = cli("fix", str(work), "--no-cache")
    assert "filled at boot" not in fixed.err, (script, fixed.err)
    assert "artifactory.tools.example" in (work / "main.tf").read_text(encoding="utf-8")
