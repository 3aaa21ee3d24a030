"""A node class's userData written back as a YAML block scalar reads, under YAML's rules, as the text fix meant.

YAML takes a block scalar's indentation from its first line with text, unless
an indentation indicator (``|2``) gives it: user data whose first line starts
with blanks (TOML indented under a table, as ``kubectl get -o yaml`` writes a
double-quoted string) needs the indicator, and one written with an indicator
must be read with it. PyYAML is the oracle of what Kubernetes will read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16", "--no-cache")
HEAD = ("apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: br\nspec:\n  amiSelectorTerms:\n"
        "    - alias: bottlerocket@latest\n  role: KarpenterNodeRole\n")
TOMLS = {
    "indented first table": ('  [settings.kubernetes]\n  max-pods = 110\n[settings.network]\n'
                             'no-proxy = [".corp.example"]\n'),
    "indented throughout": '  [settings.kubernetes]\n  max-pods = 110\n',
    "flush": '[settings.kubernetes]\nmax-pods = 110\n',
}


def written(style: str, toml: str) -> str:
    """userData as a user writes it in each YAML style."""
    if style == "double-quoted":
        return "  userData: " + json.dumps(toml) + "\n"
    if style == "absent":
        return ""
    indicator = {"literal": "|", "literal, strip": "|-", "literal |2": "|2", "folded": ">"}[style]
    if style == "folded":  # a folded scalar keeps lines only when each is more indented or blank-separated
        toml = "\n\n".join(toml.rstrip("\n").split("\n")) + "\n"
    return f"  userData: {indicator}\n" + "".join(f"    {line}\n" if line else "\n" for line in toml.split("\n")[:-1])


# every style a user can write each text in (an auto-indented block cannot start with a more indented line)
CASES = [(style, toml) for toml in sorted(TOMLS)
         for style in ("double-quoted", "literal", "literal, strip", "literal |2", "folded", "absent")
         if not (TOMLS[toml].startswith(" ") and style in ("literal", "literal, strip", "folded"))]


@pytest.mark.parametrize(("style", "toml"), CASES)
def test_user_data_written_back_reads_as_the_user_s_lines_and_the_proxy(cli, tmp_path: Path, style: str,
                                                                        toml: str) -> None:
    text = TOMLS[toml]
    path = tmp_path / "nodeclass.yaml"
    path.write_text(HEAD + written(style, text))
    before = yaml.safe_load(path.read_text())["spec"].get("userData") or ""
    result = cli("fix", str(tmp_path), "--format", "json", *FLAGS)
    assert result.code == 0, result.out + result.err
    after = yaml.safe_load(path.read_text())["spec"]["userData"]
    kept = [line for line in before.splitlines() if line.strip() and not line.startswith("no-proxy")]
    assert [line for line in after.splitlines() if line in kept] == kept, "the user's lines, as YAML reads them"
    assert 'https-proxy = "http://proxy.corp.example:3128"' in [line.strip() for line in after.splitlines()]
    assert json.loads(cli("check", str(tmp_path), "--format", "json", "--no-cache").out)["findings"] == []
