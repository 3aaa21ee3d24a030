"""Notices that say why something is not judged give the real reason (adversarial cases F-wrong-reason/*).

A terraform-aws-eks call that creates nothing (``create = false``, ``count = 0``,
``for_each`` over an empty collection) boots no node: there is nothing to judge
and nothing left unjudged, so it gets no notice at all. It used to be called "not
terraform-aws-eks", with advice to run eksproxy-gen on a wrapper's folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SETTINGS = 'proxy = "http://proxy.corp:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'


def _call(meta: str) -> str:
    return (f'module "eks" {{\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n{meta}\n'
            '  name               = "x"\n  kubernetes_version = "1.33"\n\n  eks_managed_node_groups = {\n'
            '    a = {}\n  }\n}\n')


def _folder(tmp_path: Path, meta: str, **more: str) -> Path:
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "main.tf").write_text(_call(meta), encoding="utf-8")
    (folder / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")
    for name, text in more.items():
        (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return folder


DISABLED = {
    "create = false": ("  create = false\n", {}),
    "count = 0": ("  count = 0\n", {}),
    "for_each = {}": ("  for_each = {}\n", {}),
    "for_each = toset([])": ("  for_each = toset([])\n", {}),
    "for_each = an empty local": ("  for_each = local.none\n", {"locals__tf": "locals {\n  none = {}\n}\n"}),
    "create = false in an override": ("", {"override__tf__json": '{"module": {"eks": {"create": false}}}\n'}),
}


@pytest.mark.parametrize("shape", DISABLED)
def test_a_call_that_creates_nothing_is_neither_judged_nor_said_to_be_something_else(cli, tmp_path: Path,
                                                                                    shape: str) -> None:
    meta, more = DISABLED[shape]
    folder = _folder(tmp_path, meta, **more)
    text = cli("check", str(folder), "--no-cache")
    assert (text.code, text.out) == (0, "")
    assert text.err.startswith("0 findings (0 errors, 0 warnings) in ") and "not judged" not in text.err
    report = json.loads(cli("check", str(folder), "--format", "json", "--no-cache").out)
    assert report["findings"] == [] and report["notices"] == []
    assert [(m["name"], m["groups"]) for m in report["modules"]] == [("eks", [])]
    before = (folder / "main.tf").read_bytes()
    fixed = cli("fix", str(folder), "--no-cache")
    assert fixed.code == 0 and fixed.err.endswith("nothing to fix; 0 left.\n")
    assert (folder / "main.tf").read_bytes() == before


def test_a_for_each_with_instances_is_judged(cli, tmp_path: Path) -> None:
    folder = _folder(tmp_path, '  for_each = toset(["blue"])\n')
    result = cli("check", str(folder), "--format", "json", "--no-cache")
    assert [f["rule"] for f in json.loads(result.out)["findings"]] == ["EKSP001"]


def test_a_wrapper_that_is_not_terraform_aws_eks_is_still_said_to_be_not_judged(cli, tmp_path: Path) -> None:
    """The notice keeps its place for what it is for: node groups eksproxy-gen cannot read."""
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "main.tf").write_text('module "platform" {\n  source = "git::https://example.com/wrapper.git"\n'
                                    '  eks_managed_node_groups = { a = {} }\n}\n', encoding="utf-8")
    result = cli("check", str(folder), "--no-cache")
    assert "module.platform (git::https://example.com/wrapper.git) is not judged: it takes eks_managed_node_groups, " \
           "but it is not terraform-aws-eks" in result.err
