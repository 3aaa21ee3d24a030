"""What fix leaves in a user's script: its NO_PROXY entries are kept, and the advice to finish by hand names the
lines of the file as written, never a whole line that also does other work (adversarial cases
B-uncuttable-noproxy/al2023-and-chain and F-stale-line-advice/after-write).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksproxy_gen.pipeline.lines import WrittenLines, written_message

from .conftest import in_ci

SETTINGS = 'proxy = "http://proxy.corp:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'
CHAINED = ("#!/bin/bash\nexport NO_PROXY=localhost,.corp.example\n"
           "export HTTPS_PROXY=http://proxy.corp:3128 && dnf install -y jq\n")


def _main(script: str) -> str:
    body = "".join(f"            {line}\n" if line else "\n" for line in script.rstrip("\n").split("\n"))
    return ('module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n'
            '  name               = "x"\n  kubernetes_version = "1.33"\n  service_ipv4_cidr  = "172.20.0.0/16"\n\n'
            '  eks_managed_node_groups = {\n    a = {\n      cloudinit_pre_nodeadm = [\n        {\n'
            '          content_type = "text/x-shellscript"\n          content      = <<-EOT\n'
            f"{body}          EOT\n        }}\n      ]\n    }}\n  }}\n}}\n")


def _folder(root: Path, script: str) -> Path:
    (root / "main.tf").write_text(_main(script), encoding="utf-8")
    (root / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")
    return root / "main.tf"


def _default_no_proxy(text: str) -> list[str]:
    """The NO_PROXY of the generated NodeConfig's environment.default."""
    found = re.search(r'^\s*NO_PROXY: "([^"]*)"$', text, re.M)
    assert found is not None, text
    return found.group(1).split(",")


def test_the_entries_of_a_script_that_cannot_be_cut_reach_the_generated_no_proxy(cli, tmp_path: Path) -> None:
    path = _folder(tmp_path, CHAINED)
    result = cli("fix", str(tmp_path), "--no-cache")
    assert result.code == 0
    assert ".corp.example" in _default_no_proxy(path.read_text())
    assert "main.tf: note: eks.a: NO_PROXY entries kept from the replaced set-up: .corp.example\n" in result.err


def test_advice_after_a_write_names_the_written_lines_and_keeps_the_other_command(cli, tmp_path: Path) -> None:
    path = _folder(tmp_path, CHAINED)
    result = cli("fix", str(tmp_path), "--no-cache")
    lines = path.read_text().split("\n")
    advice = re.search(r"remove main\.tf line (\d+) by hand; and the proxy set-up from main\.tf line (\d+), which "
                       r"also runs `dnf install -y jq` \(keep that\)", result.err)
    assert advice is not None, result.err
    whole, mixed = int(advice.group(1)), int(advice.group(2))
    assert lines[whole - 1].strip() == "export NO_PROXY=localhost,.corp.example"
    assert lines[mixed - 1].strip() == "export HTTPS_PROXY=http://proxy.corp:3128 && dnf install -y jq"
    # nothing a rule flags is left: the note says what is left by hand beside "0 left", not "not fully fixed"
    assert "not fully fixed" not in result.err
    assert "eks.a: no finding is left, but a shell part also does other work" in result.err
    assert result.err.endswith("fixed 11 findings in 1 group (1 file); 0 left.\n")


@pytest.mark.parametrize("mode", ["--diff", "--check"])
def test_a_fix_that_writes_nothing_names_the_lines_on_disk(cli, tmp_path: Path, mode: str) -> None:
    path = _folder(tmp_path, CHAINED)
    before = path.read_text()
    result = cli("fix", str(tmp_path), mode, "--no-cache")
    assert path.read_text() == before
    assert "remove main.tf line 16 by hand; and the proxy set-up from main.tf line 17, which also runs " \
           "`dnf install -y jq` (keep that)" in result.out + result.err
    assert before.split("\n")[15].strip().startswith("export NO_PROXY=")


def test_lines_a_writing_fix_removed_are_said_to_be_lines_before_the_rewrite(cli, tmp_path: Path) -> None:
    path = _folder(tmp_path, "#!/bin/bash\nexport NO_PROXY=localhost,.corp.example\n"
                             "export HTTPS_PROXY=http://proxy.corp:3128\ndnf install -y jq\n")
    result = cli("fix", str(tmp_path), "--no-cache")
    assert "eks.a: proxy lines cut from a shell part (main.tf lines 16-17 before this rewrite); its other " \
           "commands are kept" in result.err
    assert "export HTTPS_PROXY" not in path.read_text() and "dnf install -y jq" in path.read_text()


def test_written_message_moves_every_way_a_message_names_lines() -> None:
    lines = WrittenLines("a\nb\nc\nd\ne", "new\nnew\na\nb\nc\ne")
    maps = {"main.tf": lines}
    assert written_message("at main.tf:2, main.tf line 3, main.tf lines 1-3, 5", maps) == \
        "at main.tf:4, main.tf line 5, main.tf lines 3-6"
    assert written_message("main.tf lines 3-4 and other.tf:2 and xmain.tf:2", maps) == \
        "main.tf lines 3-4 before this rewrite and other.tf:2 and xmain.tf:2"


# --- the class: a NO_PROXY entry the user wrote anywhere in the group's user data is kept or named -------------------

ENTRIES = st.lists(st.sampled_from([".corp.example", "registry.internal.example", "10.20.0.0/16", ".svc",
                                    "sts.eu-west-1.amazonaws.com"]), min_size=1, max_size=3, unique=True)
SCRIPT_LINES = {
    "export": "export NO_PROXY={entries}",
    "lowercase": "export no_proxy={entries}",
    "chained": "export NO_PROXY={entries} && dnf install -y jq",
    "proxy chained": "export HTTPS_PROXY=http://proxy.corp:3128 && dnf install -y jq",
    "proxy": "export HTTPS_PROXY=http://proxy.corp:3128",
    "work": "dnf install -y jq",
    "drop-in": "mkdir -p /etc/systemd/system/containerd.service.d",
}


@settings(max_examples=12 if not in_ci() else 6, deadline=None, derandomize=in_ci(),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=ENTRIES, shape=st.lists(st.sampled_from(sorted(SCRIPT_LINES)), min_size=1, max_size=4)
       .filter(lambda s: any(k in s for k in ("export", "lowercase", "chained"))))
def test_every_no_proxy_entry_of_a_script_is_kept_or_named(cli, tmp_path_factory: pytest.TempPathFactory,
                                                           entries: list[str], shape: list[str]) -> None:
    folder = tmp_path_factory.mktemp("script")
    script = "#!/bin/bash\n" + "".join(SCRIPT_LINES[k].format(entries=",".join(entries)) + "\n" for k in shape)
    path = _folder(folder, script)
    report = json.loads(cli("fix", str(folder), "--no-cache", "--format", "json").out)
    assert report["fixed"], (script, report)
    generated = set(_default_no_proxy(path.read_text()))
    notes = " ".join(n["note"] for n in report["notes"])
    for entry in entries:
        assert entry in generated or entry in notes, (script, entry, generated, notes)
