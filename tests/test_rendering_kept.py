"""Text fix moves, cuts or re-indents renders, under Terraform's own rules, to exactly what it rendered before.

The oracle is Terraform: ``terraform console`` renders the user's script before and after ``fix``; apart from the
proxy lines fix says it cut, every line renders the same, in order. Scripts are generated from lines holding
``$${`` and ``%%{`` escapes, ``${local...}`` interpolations, tabs and quotes, in heredocs of node groups, in a
file() read template, and in CRLF files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksproxy_gen.hcl import ObjectExpr, TupleExpr, parse

from .conftest import fmt_clean, in_ci, terraform_render

FLAGS = ("--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16", "--no-cache", "--format", "json")

# Lines of a user's script that are not proxy set-up: each must render the same after fix.
OTHER = [
    'echo "home is $${HOME}"',
    "disk=$${DISK:-/dev/xvdb}",
    'mkfs.xfs "$${disk}"',
    "printf 'literal %%{not a directive}\\n'",
    'echo "cluster ${local.cluster}"',
    'echo "tab\there"',
    "echo 'it''s'",
    "cat /etc/os-release",
    'echo "$${HOSTNAME} $$ done"',
    'echo "100%% of %%{x} and $${y}"',
]
# Proxy set-up lines fix cuts out (its generated parts take their place).
PROXY = [
    "export HTTP_PROXY=http://old-proxy:8080",
    "export HTTPS_PROXY=http://old-proxy:8080",
    "export NO_PROXY=localhost,127.0.0.1,.corp.example",
    "export http_proxy=http://old-proxy:8080 https_proxy=http://old-proxy:8080",
]

LINES = st.lists(st.sampled_from(OTHER), min_size=1, max_size=5, unique=True).flatmap(
    lambda others: st.permutations(others + PROXY[:2] + [PROXY[3]]))


def _module(body: str) -> str:
    return ('locals {\n  cluster = "prod"\n}\n\nmodule "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n'
            '  version = "~> 21.0"\n\n  name = "c"\n\n  eks_managed_node_groups = {\n    g = {\n'
            "      cloudinit_pre_nodeadm = [{\n        content_type = \"text/x-shellscript\"\n"
            f"        content      = {body}\n      }}]\n    }}\n  }}\n}}\n")


def _heredoc(lines: list[str], indent: str) -> str:
    return "<<-EOT\n" + "".join(f"{indent}  {line}\n" for line in lines) + f"{indent}EOT"


def _user_script(text: str) -> str:
    """The source of the user's shell part (the one fix did not generate) as written in the file."""
    doc = parse(text)
    module = next(b for b in doc.body.blocks if b.type == "module")
    groups = module.body.attribute("eks_managed_node_groups")
    assert groups is not None and isinstance(groups.value, ObjectExpr)
    group = groups.value.elems[0].value
    assert isinstance(group, ObjectExpr)
    parts = group.get("cloudinit_pre_nodeadm")
    assert parts is not None and isinstance(parts.value, TupleExpr)
    for item in parts.value.items:
        assert isinstance(item, ObjectExpr)
        content = item.get("content")
        assert content is not None
        source = doc.source(content.value.span)
        if "eksproxy-gen:generated" not in source:
            return source
    raise AssertionError("the user's part is gone")


def _rendered(tmp: Path, before: str, after: str) -> tuple[list[str], list[str]]:
    values = terraform_render(f'  cluster = "prod"\n  before = {before}\n  after = {after}\n', ["before", "after"],
                              tmp)
    return values["before"].split("\n"), values["after"].split("\n")


def _check_kept(cli, folder: Path, text: str, crlf: bool = False) -> None:
    path = folder / "main.tf"
    raw = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes(raw.encode("utf-8"))
    fmt_before = fmt_clean(path)
    data = json.loads(cli("fix", str(folder), *FLAGS).out)
    assert data["fixed"], data
    after_text = path.read_bytes().decode("utf-8")
    assert ("\r\n" in after_text) is crlf
    after_text = after_text.replace("\r\n", "\n")
    before_lines, after_lines = _rendered(folder / "render", _user_script(text), _user_script(after_text))
    proxy = {line for line in before_lines if line.startswith("export ")}
    assert after_lines == [line for line in before_lines if line not in proxy], (before_lines, after_lines)
    assert any("proxy lines cut" in n["note"] for n in data["notes"]), data["notes"]
    if fmt_before:
        assert fmt_clean(path)


@settings(max_examples=12 if not in_ci() else 8, deadline=None, derandomize=in_ci(),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES)
def test_cut_keeps_every_other_line_as_terraform_renders_it(cli, tmp_path_factory: pytest.TempPathFactory,
                                                           lines: list[str]) -> None:
    folder = tmp_path_factory.mktemp("cut")
    _check_kept(cli, folder, _module(_heredoc(["#!/bin/bash", *lines], "        ")))


@pytest.mark.parametrize("crlf", [False, True])
def test_cut_in_a_crlf_file_keeps_escapes_and_line_endings(cli, tmp_path: Path, crlf: bool) -> None:
    lines = ["#!/bin/bash", OTHER[0], PROXY[0], OTHER[3], PROXY[1], OTHER[4], PROXY[3], OTHER[9]]
    _check_kept(cli, tmp_path, _module(_heredoc(lines, "        ")), crlf)


def test_cut_in_a_file_read_template_writes_literal_text_back(cli, tmp_path: Path) -> None:
    """file() reads literal text: a ``${HOME}`` there is the shell's, and stays exactly so in the file."""
    script = "#!/bin/bash\necho \"${HOME} %{x}\"\nexport HTTPS_PROXY=http://old-proxy:8080\n" \
             "export HTTP_PROXY=http://old-proxy:8080\nexport http_proxy=http://old-proxy:8080 " \
             "https_proxy=http://old-proxy:8080\necho done\n"
    (tmp_path / "setup.sh").write_text(script, encoding="utf-8")
    (tmp_path / "main.tf").write_text(_module('file("${path.module}/setup.sh")'), encoding="utf-8")
    data = json.loads(cli("fix", str(tmp_path), *FLAGS).out)
    assert data["fixed"], data
    assert (tmp_path / "setup.sh").read_text(encoding="utf-8") == "#!/bin/bash\necho \"${HOME} %{x}\"\necho done\n"


def test_a_moved_part_renders_the_same(cli, tmp_path: Path) -> None:
    """A group that inherits its parts from the v20 defaults map gets its own copy of them, re-indented: each
    inherited part must render as it did."""
    user = _heredoc(["#!/bin/bash", OTHER[0], OTHER[3], OTHER[9], "\tindented with a tab"], "      ")
    text = ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 20.31"\n\n'
            '  cluster_name = "c"\n\n  eks_managed_node_group_defaults = {\n    ami_type = "AL2023_x86_64_STANDARD"\n'
            "    cloudinit_pre_nodeadm = [{\n      content_type = \"text/x-shellscript\"\n"
            f"      content      = {user}\n    }}]\n  }}\n\n  eks_managed_node_groups = {{\n    a = {{}}\n"
            '    # eksproxy-gen:ignore EKSP013 dnf is set up by the base image\n    b = {}\n  }\n}\n')
    path = tmp_path / "main.tf"
    path.write_text(text, encoding="utf-8")
    before_source = text[text.index("<<-EOT"):text.index("EOT\n    }]") + 3]
    data = json.loads(cli("fix", str(tmp_path), *FLAGS).out)
    after = path.read_text(encoding="utf-8")
    copies = [after[i:after.index("EOT\n", after.index("\n", i)) + 3] for i in range(len(after))
              if after.startswith("<<-EOT\n", i) and "eksproxy-gen:generated" not in
              after[i:after.index("EOT\n", after.index("\n", i))]]
    assert data["fixed"] and len(copies) >= 2, (data, after)
    names = [f"c{i}" for i in range(len(copies))]
    body = f"  b = {before_source}\n" + "".join(f"  {n} = {c}\n" for n, c in zip(names, copies, strict=True))
    values = terraform_render(body, ["b", *names], tmp_path / "render")
    assert all(values[n] == values["b"] for n in names), values
