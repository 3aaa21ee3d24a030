"""A user's NO_PROXY entries are never replaced, on every family and in every place a NO_PROXY list lives.

One invariant, checked through the CLI for each place fix writes a NO_PROXY list (an AL2023 NodeConfig it
replaces or overrides, a proxy-only script it replaces, an AL2 script, Bottlerocket TOML, and the same in
Karpenter node classes written as YAML files and as kubectl_manifest heredocs): after ``fix``, the generated
list is the union of the required entries and the user's (only a blanket .amazonaws.com may be dropped, and
fix says so).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import in_ci

PROXY = "http://proxy.corp.example:3128"
FLAGS = ("--proxy", PROXY, "--vpc-cidr", "10.0.0.0/16", "--no-cache", "--format", "json")
HEAD = 'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n  name = "c"\n\n'

ENTRIES = st.lists(st.one_of(
    st.sampled_from([".corp.example", "vpce-1.ec2.eu-west-1.vpce.amazonaws.com", "sts.eu-west-1.amazonaws.com",
                     ".dkr.ecr.eu-west-1.amazonaws.com", "10.20.0.0/16", "192.168.1.10", "registry.internal.example",
                     "fd12:3456::/48", ".svc.cluster.local", ".svc"]),
    st.from_regex(r"\.[a-z]{2,8}\.example", fullmatch=True),
    st.from_regex(r"10\.(1[0-9]|2[0-9])\.0\.0/16", fullmatch=True),
), min_size=1, max_size=5, unique=True)


def _nodeconfig(entries: list[str], kubelet: bool) -> str:
    flags = "  kubelet:\n    flags:\n      - --node-labels=team=a\n" if kubelet else ""
    return ("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n" + flags +
            "  instance:\n    environment:\n      default:\n        HTTPS_PROXY: http://old:3128\n"
            "        https_proxy: http://old:3128\n"
            f"        NO_PROXY: {','.join(entries)}\n        no_proxy: {','.join(entries)}\n")


def _script(entries: list[str]) -> str:
    joined = ",".join(entries)
    return ("#!/bin/bash\nexport HTTP_PROXY=http://old:3128 HTTPS_PROXY=http://old:3128\n"
            f"export NO_PROXY={joined}\nexport http_proxy=$HTTP_PROXY https_proxy=$HTTPS_PROXY no_proxy=$NO_PROXY\n")


def _toml(entries: list[str]) -> str:
    listed = ", ".join(f'"{e}"' for e in entries)
    return f'[settings.network]\nhttps-proxy = "http://old:3128"\nno-proxy = [{listed}]\n'


def _heredoc(text: str, indent: str) -> str:
    body = "".join(f"{indent}  {line}\n" if line else "\n" for line in text.rstrip("\n").split("\n"))
    return f"<<-EOT\n{body}{indent}EOT"


def _group(attributes: str) -> str:
    return HEAD + "  eks_managed_node_groups = {\n    g = {\n" + attributes + "    }\n  }\n}\n"


def _parts(content_type: str, text: str) -> str:
    return (f'      cloudinit_pre_nodeadm = [{{\n        content_type = "{content_type}"\n'
            f"        content      = {_heredoc(text, '        ')}\n      }}]\n")


def _nodeclass(family: str, user_data: str, indent: str = "") -> str:
    body = "".join(f"    {line}\n" for line in user_data.rstrip("\n").split("\n"))
    text = (f"apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\nspec:\n"
            f"  amiFamily: {family}\n  role: KarpenterNodeRole\n  userData: |\n{body}")
    return "".join(f"{indent}{line}\n" for line in text.rstrip("\n").split("\n"))


PLACES = {
    "al2023 replaced NodeConfig": lambda e: {"main.tf": _group(_parts("application/node.eks.aws",
                                                                      _nodeconfig(e, kubelet=False)))},
    "al2023 kept NodeConfig": lambda e: {"main.tf": _group(_parts("application/node.eks.aws",
                                                                  _nodeconfig(e, kubelet=True)))},
    "al2023 replaced script": lambda e: {"main.tf": _group(_parts("text/x-shellscript", _script(e)))},
    "al2 script": lambda e: {"main.tf": _group('      ami_type = "AL2_x86_64"\n      pre_bootstrap_user_data = '
                                               + _heredoc(_script(e), "      ") + "\n")},
    "bottlerocket toml": lambda e: {"main.tf": _group('      ami_type = "BOTTLEROCKET_x86_64"\n'
                                                      "      bootstrap_extra_args = "
                                                      + _heredoc(_toml(e), "      ") + "\n")},
    "nodeclass yaml bottlerocket": lambda e: {"nodeclass.yaml": _nodeclass("Bottlerocket", _toml(e))},
    "nodeclass yaml al2023": lambda e: {"nodeclass.yaml": _nodeclass("AL2023", _nodeconfig(e, kubelet=True))},
    "nodeclass kubectl al2": lambda e: {"karpenter.tf": 'resource "kubectl_manifest" "nc" {\n  yaml_body = <<-YAML\n'
                                        + _nodeclass("AL2", _script(e), "    ") + "  YAML\n}\n"},
}

_LISTS = (re.compile(r'NO_PROXY: "([^"]*)"'), re.compile(r"^\s*NO_PROXY='?([^'\s]*)'?$", re.M),
          re.compile(r"no-proxy = \[([^\]]*)\]"))


def _generated_lists(text: str) -> list[list[str]]:
    """Every NO_PROXY list in the text that fix wrote: those holding all the required entries."""
    found: list[list[str]] = []
    for pattern in _LISTS:
        for match in pattern.finditer(text):
            entries = [e.strip().strip('"') for e in match.group(1).split(",")]
            if {"localhost", "127.0.0.1", "169.254.169.254", ".internal", "10.0.0.0/16"} <= set(entries):
                found.append(entries)
    return found


@pytest.mark.parametrize("place", sorted(PLACES))
@settings(max_examples=8 if not in_ci() else 4, deadline=None, derandomize=in_ci(),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=ENTRIES)
def test_fix_keeps_every_user_no_proxy_entry(cli, tmp_path_factory: pytest.TempPathFactory, place: str,
                                            entries: list[str]) -> None:
    import json

    folder = tmp_path_factory.mktemp("union")
    for name, text in PLACES[place](entries).items():
        (folder / name).write_text(text, encoding="utf-8")
    result = cli("fix", str(folder), *FLAGS)
    data = json.loads(result.out)
    assert data["fixed"], (place, result.out, result.err)
    written = "".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.is_file())
    lists = _generated_lists(written)
    assert lists, (place, written)
    for generated in lists:
        assert set(entries) <= set(generated), (place, entries, generated)
    kept = [n["note"] for n in data["notes"] if "NO_PROXY entries kept" in n["note"]]
    beyond = [e for e in entries if e not in {"10.0.0.0/16"}]
    if beyond:
        assert kept, (place, data["notes"])
