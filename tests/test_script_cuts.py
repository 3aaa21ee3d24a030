"""Cutting proxy lines out of a user's script never changes what the rest of it does.

``fix`` replaces a hand-written proxy set-up with generated parts; where a script also does other work, it cuts
only the proxy lines. A line may be cut only when it is a whole command at the top level: the body of an ``if``,
a loop, a function, a ``case`` arm, a line inside a quoted string or a heredoc, or a command joined to its
neighbour by ``&&``, ``||``, ``|`` or ``\\`` is part of a larger command, and cutting it leaves a script that does
not parse or that means something else (found by an adversarial tester: ``[ -f x ] &&`` left hanging made the
module's next line conditional, and a self-managed AL2 node never got its cluster CA).

The oracle is bash itself: the generated scripts run with every command they use replaced by a function that
records its arguments, before and after the cut, and the records must be equal (the proxy variables differ, as
they should). Scripts are generated from the contexts a proxy line can stand in, so the class is enumerated, not
sampled from the cases found.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .conftest import require

PROXY_LINES = ("export HTTPS_PROXY=http://proxy.corp:3128", "export NO_PROXY=localhost,.corp.example",
               "export http_proxy=http://proxy.corp:3128 https_proxy=http://proxy.corp:3128",
               "HTTPS_PROXY=http://proxy.corp:3128")
COMMANDS = ('mkdir -p "$OUT/data"', "curl -s https://cmdb.corp.example/register", "dnf install -y jq",
            'touch "$OUT/done"', "modprobe br_netfilter")
# {P}: the proxy line, {C}: another command. Each is a place a proxy line stands in real scripts.
CONTEXTS = {
    "top level": "{P}\n{C}",
    "if body": 'if [ -f "$OUT/flag" ]; then\n  {P}\nfi\n{C}',
    "else branch": 'if [ -d "$OUT" ]; then\n  {C}\nelse\n  {P}\nfi',
    "while body": 'while [ ! -f "$OUT/stop" ]; do\n  {P}\n  touch "$OUT/stop"\ndone\n{C}',
    "for body": "for i in 1 2; do\n  {P}\ndone\n{C}",
    "function body": "setup() {{\n  {P}\n}}\nsetup\n{C}",
    "brace group": "{{\n  {P}\n}}\n{C}",
    "subshell": "(\n  {P}\n  {C}\n)",
    "case arm": "case x in\n  x)\n    {P}\n    ;;\nesac\n{C}",
    "after &&": '[ -f "$OUT/flag" ] &&\n  {P}\n{C}',
    "before &&": "{P} &&\n  {C}",
    "after ||": "{C} ||\n  {P}",
    "after a pipe": "printf x |\n  {P}\n{C}",
    "environment of a command": "HTTPS_PROXY=http://proxy.corp:3128 \\\n  {C}",
    "same line as a command": "{P} && {C}",
    "inside a quoted string": 'echo "\n{P}\n" > "$OUT/profile.sh"\n{C}',
    "inside a heredoc": 'cat > "$OUT/env.sh" <<EOF\n{P}\nEOF\n{C}',
    "inside a command substitution": 'V=$(\n  {P}\n  echo v\n)\n{C}\necho "$V" > "$OUT/v"',
}
STUBS = "".join(f'{name}() {{ printf "%s\\n" "{name} $*" >> "$OUT/trace"; }}\n'
                for name in ("curl", "dnf", "modprobe"))


def _bash() -> str:
    found = shutil.which("bash")
    require(found, "bash is not installed here")
    assert found is not None
    return found


def run_traced(script: str, folder: Path) -> dict[str, str]:
    """What a script does, as files: the commands it ran (recorded by stubs) and every file it wrote."""
    out = folder / "out"
    out.mkdir(parents=True)
    (folder / "script.sh").write_text(STUBS + script.replace("#!/bin/bash\n", "", 1), encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "OUT": str(out), "HOME": str(folder)}
    proc = subprocess.run([_bash(), str(folder / "script.sh")], env=env, capture_output=True, text=True,
                          timeout=30, check=False)
    files = {str(p.relative_to(out)): "(folder)" if p.is_dir() else p.read_text(encoding="utf-8").replace(
        str(out), "$OUT") for p in sorted(out.rglob("*"))}
    return {"exit": str(proc.returncode), **files}


def parses(script: str) -> bool:
    return subprocess.run([_bash(), "-n"], input=script, capture_output=True, text=True, check=False).returncode == 0


@st.composite
def scripts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A script of one to three contexts, each holding a proxy line or another command where {P} stands, with a
    proxy line at the top level somewhere between them (so most scripts can be cut); the context names."""
    chosen = draw(st.lists(st.sampled_from(sorted(CONTEXTS)), min_size=1, max_size=3))
    pieces = [CONTEXTS[name].format(P=draw(st.sampled_from(PROXY_LINES + COMMANDS)),
                                    C=draw(st.sampled_from(COMMANDS)))
              for name in chosen]
    pieces.insert(draw(st.integers(0, len(pieces))), draw(st.sampled_from(PROXY_LINES[:3])))
    return "#!/bin/bash\n" + "\n".join(pieces) + "\n", chosen


@settings(max_examples=int(os.environ.get("EKSPROXY_GEN_PROPERTY_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scripts())
def test_a_cut_keeps_everything_the_script_does_but_the_proxy(tmp_path_factory: pytest.TempPathFactory,
                                                              case: tuple[str, list[str]]) -> None:
    from eksproxy_gen.policy.scripts import proxy_cut

    script, contexts = case
    cut = proxy_cut(script)
    if cut.kept is None:
        assert set(contexts) != {"top level"} or cut.whole, (script, cut)  # a plain script is always cut
        event("left whole")
        return
    event("cut")
    assert parses(cut.kept), (contexts, cut.kept)
    folder = tmp_path_factory.mktemp("cut")
    before, after = run_traced(script, folder / "before"), run_traced(cut.kept, folder / "after")
    assert after == before, (contexts, script, cut.kept)


@pytest.mark.parametrize("context", sorted(CONTEXTS))
def test_each_context_alone(tmp_path: Path, context: str) -> None:
    """Each context on its own, deterministically: a top-level line is cut; in every other context the script
    is either left whole (its lines named for the user) or cut so that it does exactly what it did."""
    from eksproxy_gen.policy.scripts import proxy_cut

    proxy = "export HTTPS_PROXY=http://proxy.corp:3128"
    script = "#!/bin/bash\n" + CONTEXTS[context].format(P=proxy, C="dnf install -y jq") + "\n"
    cut = proxy_cut(script)
    if context == "top level":
        assert cut.kept == "#!/bin/bash\ndnf install -y jq\n"
        return
    if cut.kept is not None:
        assert parses(cut.kept)
        assert run_traced(cut.kept, tmp_path / "after") == run_traced(script, tmp_path / "before"), cut.kept


@pytest.mark.parametrize(("context", "cut"), [("top level", True), ("if body", False), ("after &&", False),
                                                ("environment of a command", False),
                                                ("inside a quoted string", False)])
def test_fix_cuts_only_whole_top_level_lines(cli, tmp_path: Path, context: str, cut: bool) -> None:
    script = "#!/bin/bash\n" + CONTEXTS[context].format(P="export HTTPS_PROXY=http://proxy.corp:3128",
                                                         C="dnf install -y jq").replace("proxy.corp", "old-proxy.corp")
    script += "\n"
    body = "\n".join("          " + line if line else "" for line in script.rstrip("\n").split("\n"))
    (tmp_path / "main.tf").write_text(
        'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n'
        '  name               = "c"\n  kubernetes_version = "1.33"\n\n  eks_managed_node_groups = {\n'
        '    general = {\n      cloudinit_pre_nodeadm = [{\n        content_type = "text/x-shellscript"\n'
        f"        content      = <<-EOT\n{body}\n        EOT\n      }}]\n    }}\n  }}\n}}\n", encoding="utf-8")
    result = cli("fix", str(tmp_path), "--format", "json", "--proxy", "http://proxy.corp.example:3128",
                 "--vpc-cidr", "10.0.0.0/16", "--no-cache")
    report = json.loads(result.out)
    text = (tmp_path / "main.tf").read_text(encoding="utf-8")
    notes = " ".join(n["note"] for n in report["notes"])
    assert "dnf install -y jq" in text
    if cut:
        assert "old-proxy" not in text and "proxy lines cut from a shell part" in notes
    else:
        assert "old-proxy" in text, "the line stays: cutting it would change what the script does"
        assert "proxy lines cut" not in notes
        assert "cannot be cut out exactly" in notes or "cannot be cut out exactly" in result.out
