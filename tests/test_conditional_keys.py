"""Keys that exist only under a condition Terraform decides (``cond ? {...} : {}`` in a merge) are not certain: a
group whose proxy parts come only from such a branch may boot without them, so check must not pass it as set up."""

from __future__ import annotations

from pathlib import Path

from .test_check import DNF, module, nodeconfig, run_check

PARTS = nodeconfig() + DNF


def conditional_group(then: str, otherwise: str) -> str:
    """Group ``a``: an AL2023 map merged with ``var.proxied ? {then} : {otherwise}``."""
    return ('    a = merge({\n      ami_type = "AL2023_x86_64_STANDARD"\n    }, var.proxied ? {\n'
            f'{then}    }} : {{\n{otherwise}    }})\n')


def parts_entry(parts: str) -> str:
    return f"      cloudinit_pre_nodeadm = [\n{parts}      ]\n"


def test_proxy_parts_set_only_when_a_variable_is_true_are_not_taken_as_set(cli, tmp_path: Path) -> None:
    code, found = run_check(cli, tmp_path, module(conditional_group(parts_entry(PARTS), "")))
    assert code == 1
    assert [(f["rule"], f["node_group"]) for f in found] == [("EKSP010", "a")]
    assert found[0]["message"].startswith("cloudinit_pre_nodeadm is var.proxied (at main.tf:8), which only "
                                          "Terraform can compute")


def test_proxy_parts_both_branches_set_alike_are_judged_as_set(cli, tmp_path: Path) -> None:
    both = parts_entry(PARTS)
    assert run_check(cli, tmp_path, module(conditional_group(both, both))) == (0, [])


def test_proxy_parts_the_branches_set_differently_are_left_to_terraform(cli, tmp_path: Path) -> None:
    code, found = run_check(cli, tmp_path, module(conditional_group(parts_entry(PARTS), parts_entry(DNF))))
    assert code == 1
    assert [(f["rule"], f["node_group"]) for f in found] == [("EKSP010", "a")]
    assert found[0]["message"].startswith("cloudinit_pre_nodeadm is var.proxied (at main.tf:8), which only "
                                          "Terraform can compute")
