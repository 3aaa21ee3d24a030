"""The invariants of check and fix, tested by property on generated Terraform (hypothesis).

Every generated file is first put through the real ``terraform fmt``, so it is
fmt-clean as a user's file would be. Then, for every file:
- fix and check agree: a group fix calls fixed has no error left, and no other group gets a new finding;
- every marked piece of user content survives, once and in order;
- a second fix changes nothing;
- the output passes ``terraform fmt -check``;
- a group holding a part only Terraform can compute gets one EKSP010 and no other verdict, and is not touched.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings

from eksproxy_gen import main

from .conftest import require
from .strategies import Doc, terraform_files

TERRAFORM = shutil.which("terraform")
FLAGS = ["--proxy", "http://proxy.corp.example:3128", "--vpc-cidr", "10.0.0.0/16"]
_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "CHECKPOINT_DISABLE": "1",
        "TF_CLI_CONFIG_FILE": "/dev/null"}
EXAMPLES = int(os.environ.get("EKSPROXY_GEN_PROPERTY_EXAMPLES", "60"))


def terraform_fmt(text: str) -> str | None:
    """The file as ``terraform fmt`` writes it, or None when terraform rejects it."""
    proc = subprocess.run([str(TERRAFORM), "fmt", "-"], input=text, capture_output=True, text=True, env=_ENV,
                          check=False, timeout=60)
    return proc.stdout if proc.returncode == 0 else None


def cli(*args: str) -> tuple[int, dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main.main(list(args))
    return code, json.loads(out.getvalue())


def by_group(findings: list[dict]) -> dict[tuple[str, str | None], set[tuple[str, str]]]:
    out: dict[tuple[str, str | None], set[tuple[str, str]]] = {}
    for f in findings:
        out.setdefault((f["module"], f["node_group"]), set()).add((f["rule"], re.sub(r":\d+", "", f["message"])))
    return out


@settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("CI") is not None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=terraform_files())
def test_fix_keeps_every_invariant(doc: Doc) -> None:
    require(TERRAFORM, "terraform is not installed here; it is the formatting oracle of this test")
    text = terraform_fmt(doc.text)
    assert text is not None, doc.text
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"eksproxy-gen-prop-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = folder / "main.tf"
    path.write_text(text, encoding="utf-8")
    for name, content in doc.files.items():
        (folder / name).write_text(content, encoding="utf-8")
    try:
        _, before = cli("check", "--format", "json", str(folder))
        _, fixed = cli("fix", "--format", "json", *FLAGS, str(folder))
        _, after = cli("check", "--format", "json", str(folder))
        output = path.read_text(encoding="utf-8")

        done = {(g["module"], g["node_group"]) for g in fixed["fixed"]}
        event(f"groups fixed: {min(len(done), 3)}{'+' if len(done) >= 3 else ''}")
        event(f"refused: {sum(1 for f in fixed['findings'] if f['message'].startswith('not rewritten'))}")
        old, new = by_group(before["findings"]), by_group(after["findings"])
        for group, found in new.items():
            errors = {rule for rule, _ in found if rule in _ERRORS}
            if group in {(g["module"], g["node_group"]) for g in fixed["fixed"] if g["complete"]}:
                assert not errors, (group, found, output)
            elif group not in done:
                assert found <= old.get(group, set()), (group, found - old.get(group, set()), output)

        for name, content in doc.files.items():
            assert (folder / name).read_text(encoding="utf-8") == content
        markers = sorted((m for m in doc.markers if m in text and m not in doc.copyable), key=text.find)
        assert all(m in output for m in doc.copyable if m in text)
        positions = [output.find(marker) for marker in markers]
        assert -1 not in positions, [m for m, p in zip(markers, positions, strict=True) if p < 0]
        assert positions == sorted(positions), "user content changed order"
        assert all(output.count(marker) == 1 for marker in markers)

        for name in doc.untouchable:
            assert name not in {g for _, g in done}, name
        for name in doc.unknown_groups:
            verdicts = old.get(("eks", name), set())
            assert [rule for rule, _ in verdicts] == ["EKSP010"], (name, verdicts)
            assert name not in {g for _, g in done}

        _, again = cli("fix", "--format", "json", *FLAGS, str(folder))
        assert again["files_changed"] == [], output
        assert terraform_fmt(output) == output, output
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_ERRORS = {"EKSP001", "EKSP002", "EKSP003", "EKSP004", "EKSP005", "EKSP006", "EKSP008", "EKSP009", "EKSP010",
           "EKSP011", "EKSP014"}
