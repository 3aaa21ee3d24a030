"""fix keeps every comment of the Bottlerocket ``https-proxy`` / ``no-proxy`` statements it replaces.

Each comment position a TOML statement has (before it, after a one-line value, after
the opening bracket, after an element, on a line of its own inside a multi-line
array, after the closing bracket) gets a unique marker; after ``fix`` each marker
is there exactly once, the heredoc is still TOML (``tomllib``), the user's entries
are in ``no-proxy``, and nothing else of the user's changed. LF and CRLF files.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path

import pytest

from eksproxy_gen.policy.values import dedent_heredoc

SETTINGS = 'proxy = "http://proxy.corp:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'
HEAD = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name              = "x"
  service_ipv4_cidr = "172.20.0.0/16"

  eks_managed_node_groups = {
    br = {
      ami_type             = "BOTTLEROCKET_x86_64"
      bootstrap_extra_args = <<-EOT
"""
TAIL = """\
      EOT
    }
  }
}
"""
ONE_LINE = ["no-proxy = ['10.0.0.0/16', \"\"\"vault.internal.example\"\"\", '.corp.example'] # after-value"]
MULTI_LINE = ["no-proxy = [ # after-open", "  '10.0.0.0/16', # after-element", "  # own-line",
              "  \"\"\"vault.internal.example\"\"\",", "  '.corp.example',", "] # after-close"]
HTTPS = ['https-proxy = "http://old.corp:3128" # after-https']
OTHERS = ['hostname = "n" # keep-hostname', "", "[settings.network.static-hosts]",
          '"10.0.0.5" = ["vault.internal.example"] # keep-static', "", "[settings.kubernetes]", "max-pods = 110"]


def toml_of(text: str) -> dict:
    body = text.split("<<-EOT\n", 1)[1].split("\n      EOT", 1)[0]
    return tomllib.loads(dedent_heredoc(body))


@pytest.mark.parametrize(("no_proxy", "https", "before", "newline"), list(itertools.product(
    ["one line", "multi-line"], [True, False], [True, False], ["\n", "\r\n"])))
def test_every_comment_of_a_replaced_proxy_key_is_kept(cli, tmp_path: Path, no_proxy: str, https: bool,
                                                       before: bool, newline: str) -> None:
    table = ["[settings.network]", *(["# before-keys"] if before else []), *(HTTPS if https else []),
             *(ONE_LINE if no_proxy == "one line" else MULTI_LINE), *OTHERS]
    text = HEAD + "".join("        " + line + "\n" if line else "\n" for line in table) + TAIL
    markers = re.findall(r"# ([a-z-]+)", text)
    work = tmp_path / "stack"
    work.mkdir()
    (work / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")
    (work / "main.tf").write_bytes(text.replace("\n", newline).encode())
    result = cli("fix", str(work), "--no-cache")
    assert result.code == 0, result.err
    raw = (work / "main.tf").read_bytes().decode()
    if newline == "\r\n":
        assert "\n" not in raw.replace("\r\n", "")
    new = raw.replace("\r\n", "\n")
    for marker in markers:
        assert new.count("# " + marker) == 1, (marker, new)
    network = toml_of(new)["settings"]["network"]
    assert network["https-proxy"] == "http://proxy.corp:3128"
    assert {"10.0.0.0/16", "vault.internal.example", ".corp.example"} <= set(network["no-proxy"])
    assert network["hostname"] == "n" and toml_of(new)["settings"]["kubernetes"]["max-pods"] == 110
    for line in OTHERS:
        assert ("        " + line if line else "") + "\n" in new
