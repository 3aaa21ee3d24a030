"""What makes ``check`` fast must never change a verdict: the byte pre-filter and the result cache.

The pre-filter settles files whose bytes prove they cannot call
terraform-aws-eks; every test here compares its report with a run that parses
every file. The cache reuses a folder's report; every test here changes one
thing the report depends on and expects a fresh verdict. Timing itself is
measured by benchmarks/run.py, never asserted here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksproxy_gen import cache as cache_module
from eksproxy_gen import main
from eksproxy_gen.discover import sources

from .cache_files import entries, rewrite_entries, signed_entry, signed_snapshot
from .conftest import FIXTURES, generate, in_ci
from .strategies import Doc, elsewhere_written, terraform_files

EXAMPLES = int(os.environ.get("EKSPROXY_GEN_PROPERTY_EXAMPLES", "60"))
NOT_EKS = """\
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"
  cidr    = "10.0.0.0/16"
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

locals {
  tags = { team = "platform" }
}
"""


def report(path: Path, *extra: str, prefilter: bool = True) -> dict:
    """``check --format json`` in this process; without the pre-filter every file is parsed and judged."""
    with ExitStack() as stack:
        if not prefilter:  # the documented switch that parses every file: the pre-filter's oracle
            stack.enter_context(mock.patch.dict(os.environ, {"EKSPROXY_GEN_NO_PREFILTER": "1"}))
        stdout = stack.enter_context(mock.patch("sys.stdout", new_callable=_Capture))
        stack.enter_context(mock.patch("sys.stderr", new_callable=_Capture))
        code = main.main(["check", str(path), "--format", "json", "--no-cache", *extra])
    data = json.loads(stdout.getvalue())
    data["exit"] = code
    return data


class _Capture:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        return "".join(self.parts)


def same_verdicts(filtered: dict, everything: dict) -> None:
    """Findings, suppressions, notices and modules are equal; errors may only be fewer with the filter.

    A file whose bytes prove it holds no terraform-aws-eks call is not parsed,
    so a syntax error in it (which terraform validate reports anyway) is not
    reported; every error of a file that matters still is.
    """
    for key in ("findings", "suppressed", "notices", "modules"):
        assert filtered[key] == everything[key], key
    assert all(error in everything["errors"] for error in filtered["errors"])
    skipped = [e for e in everything["errors"] if e not in filtered["errors"]]
    assert all(not any(f["file"] == e["file"] for f in everything["findings"]) for e in skipped)


def _write(folder: Path, doc: Doc) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text(doc.text, encoding="utf-8")
    for name, text in doc.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / "network.tf").write_text(NOT_EKS, encoding="utf-8")


# --- the pre-filter --------------------------------------------------------------------------------------------------

@settings(max_examples=EXAMPLES, deadline=None, derandomize=in_ci(),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=terraform_files())
def test_prefilter_never_changes_a_verdict_on_generated_terraform(tmp_path_factory: pytest.TempPathFactory,
                                                                    doc: Doc) -> None:
    folder = tmp_path_factory.mktemp("tree")
    _write(folder / "stack", doc)
    _write(folder / "other", Doc(text=NOT_EKS))
    assert report(folder) == report(folder, prefilter=False)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=in_ci(),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=elsewhere_written())
def test_prefilter_never_changes_a_verdict_where_the_judged_manifest_or_chart_is_written_elsewhere(
        tmp_path_factory: pytest.TempPathFactory, doc: Doc) -> None:
    """A node class from templatefile()/file() (directly or through a local) in a local_file, kubectl_manifest or
    kubernetes_manifest, and a helm_release whose chart is a local: main.tf never spells EC2NodeClass or karpenter,
    so only a parse can tell; the filtered run must judge them as the run that parses everything does."""
    folder = tmp_path_factory.mktemp("tree")
    _write(folder / "stack", doc)
    filtered = report(folder)
    assert filtered == report(folder, prefilter=False)
    assert {f["rule"] for f in filtered["findings"]} in ({"EKSP001"}, {"EKSP025"})  # judged, not passed over


def test_prefilter_never_changes_a_verdict_on_the_fixtures_and_a_synthetic_monorepo(tmp_path: Path) -> None:
    generate(tmp_path / "mono", stacks=60, eks=4, seed=3)
    fixtures = tmp_path / "fixtures"  # without the broken settings file, a settings error that stops any run
    shutil.copytree(FIXTURES, fixtures, ignore=shutil.ignore_patterns("config_broken"))
    for tree in (fixtures, tmp_path / "mono"):
        filtered, everything = report(tree), report(tree, prefilter=False)
        assert filtered == everything
        assert filtered["findings"], tree


def test_prefilter_finds_a_module_whose_source_is_a_local_copy_or_computed(tmp_path: Path) -> None:
    vendored = tmp_path / "modules" / "eks-fork"
    (vendored / "modules" / "eks-managed-node-group").mkdir(parents=True)
    (vendored / "node_groups.tf").write_text('variable "eks_managed_node_groups" {}\n')
    (vendored / "variables.tf").write_text('variable "kubernetes_version" {}\n')
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "main.tf").write_text(
        'module "k8s" {\n  source = "../modules/eks-fork"\n\n  eks_managed_node_groups = {\n'
        '    general = { ami_type = "AL2023_x86_64_STANDARD" }\n  }\n}\n')
    # the copy lies outside the path given, so its variables.tf is not read: named together, it tells its release
    assert [f["rule"] for f in report(tmp_path)["findings"]] == ["EKSP001"]
    assert report(tmp_path) == report(tmp_path, prefilter=False)


@settings(max_examples=500, deadline=None, derandomize=in_ci())
@given(st.lists(st.sampled_from(['source = "', "source", " ", "=", '"', "x", "\n", "{", ";", "./eks"]), max_size=16))
def test_every_source_attribute_is_found_from_the_bytes(pieces: list[str]) -> None:
    """What a search at every offset finds: a source missed would let the pre-filter skip a call of the module."""
    raw = "".join(pieces).encode()
    after = re.compile(rb'[ \t]*=[ \t]*"([^"\n]*)"')
    expected = [m.group(1) for at in range(len(raw)) if raw.startswith(b"source", at)
                and (at == 0 or raw[at - 1] in b" \t\n{;") and (m := after.match(raw, at + 6))]
    assert sources(raw) == expected


@pytest.mark.skipif(not os.environ.get("EKSPROXY_GEN_CORPUS"),
                    reason="EKSPROXY_GEN_CORPUS names a folder of public repositories (never committed); "
                           "the generated trees above run everywhere")
def test_prefilter_never_changes_a_verdict_on_real_repositories() -> None:
    corpus = Path(os.environ["EKSPROXY_GEN_CORPUS"])
    for tree in sorted(p for p in corpus.iterdir() if p.is_dir()):
        same_verdicts(report(tree), report(tree, prefilter=False))


# --- the cache -------------------------------------------------------------------------------------------------------

SIBLING = """\
locals {
  groups = {
    general = {
      ami_type = "%s"
    }
  }
}
"""
CALL = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name                    = "c"
  eks_managed_node_groups = local.groups
}
"""


def cached(cli, path: Path, *extra: str) -> dict:
    result = cli("check", str(path), "--format", "json", *extra)
    return json.loads(result.out)


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "main.tf").write_text(CALL)
    (folder / "locals.tf").write_text(SIBLING % "AL2023_x86_64_STANDARD")
    return folder


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every folder the analysis reads; a folder served from the cache is not read."""
    from eksproxy_gen.pipeline import analysis

    seen: list[Path] = []
    real = analysis.analyse

    def spy(inp, *args, **kwargs):
        seen.append(inp.folder)
        return real(inp, *args, **kwargs)

    monkeypatch.setattr(analysis, "analyse", spy)
    return seen


def test_an_unchanged_folder_is_served_from_the_cache_with_the_same_report(cli, stack: Path, settled,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    first = cached(cli, stack)
    seen = _parses(monkeypatch)
    assert cached(cli, stack) == first
    assert seen == []
    assert cached(cli, stack, "--no-cache") == first
    assert seen == [stack]


def test_a_change_to_a_local_in_a_sibling_file_is_seen(cli, stack: Path, settled) -> None:
    assert [f["rule"] for f in cached(cli, stack)["findings"]] == ["EKSP001"]
    assert str(stack) in entries(), "the folder was stored, so the change is seen by the cache"
    settled()
    (stack / "locals.tf").write_text(SIBLING % "BOTTLEROCKET_x86_64")
    assert [f["rule"] for f in cached(cli, stack)["findings"]] == ["EKSP009"]


WITH_PROXY = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name = "c"

  eks_managed_node_groups = {
    general = {
      cloudinit_pre_nodeadm = [{
        content_type = "application/node.eks.aws"
        content      = <<-EOT
          apiVersion: node.eks.aws/v1alpha1
          kind: NodeConfig
          spec:
            instance:
              environment:
                default:
                  HTTP_PROXY: "http://proxy.corp.example:3128"
                  HTTPS_PROXY: "http://proxy.corp.example:3128"
                  NO_PROXY: "NO_PROXY_LIST"
                  http_proxy: "http://proxy.corp.example:3128"
                  https_proxy: "http://proxy.corp.example:3128"
                  no_proxy: "NO_PROXY_LIST"
        EOT
      }]
    }
  }
}
""".replace("NO_PROXY_LIST", ",".join(["localhost", "127.0.0.1", "169.254.169.254", "10.100.0.0/16", "172.20.0.0/16",
                                      ".internal", ".eks.amazonaws.com"]))


def test_a_change_to_the_settings_file_is_seen(cli, tmp_path: Path, settled) -> None:
    (tmp_path / "main.tf").write_text(WITH_PROXY)
    assert [f["rule"] for f in cached(cli, tmp_path)["findings"]] == ["EKSP013", "EKSP016"]
    assert str(tmp_path) in entries(), "the folder was stored, so the change is seen by the cache"
    settled()
    (tmp_path / ".eksproxy-gen.toml").write_text("vpc_cidrs = [\n")
    broken = cli("check", str(tmp_path))
    assert (broken.code, broken.out) == (2, "") and ".eksproxy-gen.toml:1: Invalid value" in broken.err
    (tmp_path / ".eksproxy-gen.toml").write_text('vpc_cidrs = ["10.9.0.0/16"]\n')
    found = cached(cli, tmp_path)["findings"]
    assert [(f["rule"], f["message"]) for f in found if f["rule"] != "EKSP013"] == \
        [("EKSP006", "NO_PROXY lacks 10.9.0.0/16 (VPC CIDR)")]
    settled()
    (tmp_path / ".eksproxy-gen.toml").write_text('proxy = "http://other-proxy.corp.example:3128"\n')
    found = cached(cli, tmp_path)["findings"]
    assert [f["rule"] for f in found] == ["EKSP011", "EKSP013", "EKSP016"]
    settled()
    assert cached(cli, tmp_path / "main.tf")["findings"] == found, "the same verdict from the folder cache alone"


def test_fault_injection_a_new_tool_version_starts_afresh(cli, stack: Path, settled,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: the tool's fingerprint is replaced, as a new release of eksproxy-gen would change it."""
    from eksproxy_gen.pipeline import settle as settle_module

    cached(cli, stack)
    assert str(stack) in entries() and list(Path(os.environ["EKSPROXY_GEN_CACHE_DIR"]).glob("tree-*.json"))
    settled()
    seen = _parses(monkeypatch)
    for module in (cache_module, settle_module):
        monkeypatch.setattr(module, "tool_fingerprint", lambda: "0" * 20)
    settle_module._run_context.cache_clear()
    try:
        cached(cli, stack)
    finally:
        settle_module._run_context.cache_clear()
    assert seen == [stack]


def test_a_same_size_change_within_the_same_timestamp_is_still_seen(cli, stack: Path, settled) -> None:
    """A change that keeps size and modification time still moves the inode's change time, which no tool sets."""
    locals_file = stack / "locals.tf"
    assert [f["rule"] for f in cached(cli, stack)["findings"]] == ["EKSP001"]
    assert str(stack) in entries()
    before = locals_file.stat()
    changed = SIBLING % "BOTTLEROCKET_x86_64"
    changed += "#" * (before.st_size - len(changed) - 1) + "\n"
    locals_file.write_text(changed)
    assert locals_file.stat().st_size == before.st_size
    os.utime(locals_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert [f["rule"] for f in cached(cli, stack)["findings"]] == ["EKSP009"]


def test_fault_injection_a_file_saved_while_the_run_reads_it_is_not_cached(cli, stack: Path, settled,
                                                                             monkeypatch) -> None:
    """Fault injection (a race made certain): a save after the analysis read the file. The report is of the text
    read; it must not be stored beside the new text."""
    from eksproxy_gen.pipeline import analysis

    locals_file = stack / "locals.tf"
    real = analysis.analyse

    def saved_meanwhile(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        before = locals_file.stat()
        locals_file.write_text(SIBLING % "BOTTLEROCKET_x86_64")
        os.utime(locals_file, ns=(before.st_atime_ns, before.st_mtime_ns))
        return result

    monkeypatch.setattr(analysis, "analyse", saved_meanwhile)
    assert [f["rule"] for f in cached(cli, stack)["findings"]] == ["EKSP001"]
    monkeypatch.setattr(analysis, "analyse", real)
    settled()
    assert [f["rule"] for f in cached(cli, stack)["findings"]] == ["EKSP009"]


def test_a_folder_is_cached_only_once_its_files_are_older_than_the_window(cli, stack: Path) -> None:
    """With the real two seconds: files just written give no entry; the same files a window later do."""
    cached(cli, stack)
    stored = Path(os.environ["EKSPROXY_GEN_CACHE_DIR"]) / f"check-{cache_module.tool_fingerprint()}.json"
    assert not stored.exists()
    time.sleep(cache_module.RACY_NS / 1e9)
    cached(cli, stack)
    assert list(entries()) == [str(stack)]


def test_a_template_outside_the_folder_is_a_dependency(cli, tmp_path: Path, settled) -> None:
    stack = tmp_path / "stack"
    (stack / "templates").mkdir(parents=True)
    template = stack / "templates" / "proxy.yaml"
    template.write_text("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    flags: []\n")
    (stack / "main.tf").write_text(
        'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "~> 21.0"\n\n  name = "c"\n\n'
        '  eks_managed_node_groups = {\n    general = {\n      cloudinit_pre_nodeadm = [{\n'
        '        content_type = "application/node.eks.aws"\n'
        '        content      = file("${path.module}/templates/proxy.yaml")\n      }]\n    }\n  }\n}\n')
    assert "EKSP020" not in {f["rule"] for f in cached(cli, stack)["findings"]}
    assert str(stack) in entries(), "the folder was stored, so the change is seen by the cache"
    settled()
    template.write_text("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    flag: []\n")
    assert "EKSP020" in {f["rule"] for f in cached(cli, stack)["findings"]}


def test_concurrent_runs_share_one_cache_safely(tmp_path: Path) -> None:
    """Eight real processes on four trees write one cache; every later run still gives the fresh verdict."""
    trees = []
    for index in range(4):
        tree = tmp_path / f"tree{index}"
        generate(tree, stacks=30, eks=2, seed=index)
        trees.append(tree)
    time.sleep(cache_module.RACY_NS / 1e9)  # files younger than that are never cached
    env = {**os.environ, "EKSPROXY_GEN_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    script = Path(sys.executable).parent / "eksproxy-gen"
    runs = [subprocess.Popen([str(script), "check", str(tree), "--format", "json"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for tree in trees * 2]
    outputs = [json.loads(run.communicate(timeout=300)[0]) for run in runs]
    for index, tree in enumerate(trees):
        fresh = report(tree)
        assert outputs[index]["findings"] == outputs[index + 4]["findings"] == fresh["findings"]
    stored = list((tmp_path / "cache").glob("check-*.json"))
    assert len(stored) == 1 and json.loads(stored[0].read_text())["entries"]
    assert not list((tmp_path / "cache").glob(".check-*")), "no temporary file is left behind"
    for tree in trees:
        warm = subprocess.run([str(script), "check", str(tree), "--format", "json"], env=env, capture_output=True,
                              text=True, check=False, timeout=300)
        assert json.loads(warm.stdout)["findings"] == report(tree)["findings"]


def test_the_report_lists_folders_in_the_same_order_cold_warm_and_in_parallel(cli, tmp_path: Path) -> None:
    """Results arrive in completion order from the workers and partly from the cache; the report does not show it."""
    generate(tmp_path / "mono", stacks=90, eks=45, seed=5)
    cold = cli("check", str(tmp_path / "mono"), "--format", "json", "--no-cache").out
    assert cli("check", str(tmp_path / "mono"), "--format", "json").out == cold
    eks_files = sorted((tmp_path / "mono").rglob("eks.tf"))
    eks_files[-1].write_text(eks_files[-1].read_text() + "\n")
    assert cli("check", str(tmp_path / "mono"), "--format", "json").out == cold
    assert [f["file"] for f in json.loads(cold)["findings"]] == sorted(f["file"] for f in json.loads(cold)["findings"])


# --- the tree snapshot -----------------------------------------------------------------------------------------------

NODECLASS = """\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: default
spec:
  amiSelectorTerms:
    - alias: al2023@latest
"""


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch):
    """Trust time stamps at once instead of after two seconds, and let one clock tick pass between steps.

    Files written by a test are seconds younger than the window in which a
    snapshot distrusts time stamps; the window itself is tested by
    ``test_a_tree_changed_just_before_the_run_gets_no_snapshot`` with its real width.
    """
    monkeypatch.setattr(cache_module, "RACY_NS", 0)

    def tick() -> None:
        time.sleep(0.05)

    return tick


def _collections(monkeypatch: pytest.MonkeyPatch) -> list[list[Path]]:
    """Record every walk of the tree; a run answered by its snapshot walks nothing."""
    from eksproxy_gen.commands import collect as collect_module

    seen: list[list[Path]] = []
    real = collect_module.collect

    def spy(paths, resolver):
        seen.append(paths)
        return real(paths, resolver)

    monkeypatch.setattr(collect_module, "collect", spy)
    return seen


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo" / "infra"
    generate(root, stacks=12, eks=3, seed=7)
    (tmp_path / "repo" / ".git").mkdir()  # a repository: settings are looked for up to its root
    stack = root / "team-00" / "stack-0000"
    stack.mkdir(parents=True, exist_ok=True)
    (stack / "main.tf").write_text(CALL)
    (stack / "locals.tf").write_text(SIBLING % "AL2023_x86_64_STANDARD")
    (root / "team-00" / "proxied").mkdir()
    (root / "team-00" / "proxied" / "main.tf").write_text(WITH_PROXY)
    (root / "charts").mkdir()
    (root / "charts" / "values.yaml").write_text("replicas: 2\n")
    return root


def test_an_unchanged_tree_is_answered_by_its_snapshot(cli, tree: Path, settled, monkeypatch) -> None:
    first = cached(cli, tree)
    assert list(Path(os.environ["EKSPROXY_GEN_CACHE_DIR"]).glob("tree-*.json"))
    walks = _collections(monkeypatch)
    settled()
    assert cached(cli, tree) == first == cached(cli, tree, "--no-cache")
    assert walks == [[tree]], "only the --no-cache run walked the tree"


def _add_call(tree: Path) -> None:
    folder = tree / "team-01" / "new-stack"
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text(CALL.replace("local.groups", "{ x = {} }"))


def _change_sibling(tree: Path) -> None:
    (tree / "team-00" / "stack-0000" / "locals.tf").write_text(SIBLING % "BOTTLEROCKET_x86_64")


def _remove_call(tree: Path) -> None:
    (tree / "team-00" / "stack-0000" / "main.tf").unlink()


def _settings_above(tree: Path) -> None:
    (tree.parent / ".eksproxy-gen.toml").write_text('vpc_cidrs = ["10.9.0.0/16"]\n')


def _settings_inside(tree: Path) -> None:
    (tree / "team-00" / ".eksproxy-gen.toml").write_text('vpc_cidrs = ["10.8.0.0/16"]\n')


def _yaml_becomes_nodeclass(tree: Path) -> None:
    (tree / "charts" / "values.yaml").write_text(NODECLASS)


def _hidden_call_in_skipped_folder(tree: Path) -> None:
    """A control: .terraform/ is never read, so a call there changes nothing (and the snapshot may answer)."""
    folder = tree / "team-00" / ".terraform" / "modules" / "x"
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text(CALL)


@pytest.mark.parametrize("change", [_add_call, _change_sibling, _remove_call, _settings_above, _settings_inside,
                                    _yaml_becomes_nodeclass, _hidden_call_in_skipped_folder],
                         ids=lambda change: change.__name__.strip("_"))
def test_a_snapshot_never_answers_for_a_changed_tree(cli, tree: Path, settled, change) -> None:
    """Each change is made after a snapshot was stored; the next run must equal a run that reads everything."""
    cached(cli, tree)
    settled()
    change(tree)
    settled()
    after = cached(cli, tree)
    assert after == cached(cli, tree, "--no-cache")
    assert cached(cli, tree) == after


def test_the_changes_above_do_change_the_report(cli, tree: Path) -> None:
    """Without this, the test above could pass on changes that a stale snapshot would hide anyway."""
    before = cached(cli, tree, "--no-cache")
    for change in (_add_call, _change_sibling, _settings_above, _settings_inside, _yaml_becomes_nodeclass):
        change(tree)
        after = cached(cli, tree, "--no-cache")
        assert after != before, change.__name__
        before = after
    _remove_call(tree)
    assert cached(cli, tree, "--no-cache") != before


def test_a_tree_changed_just_before_the_run_gets_no_snapshot(cli, tree: Path) -> None:
    """With the real window: every file was written less than two seconds ago, so no time stamp is trusted."""
    for path in (tree, *tree.rglob("*")):
        os.utime(path)  # just now, however long making the tree took
    first = cached(cli, tree)
    assert not list(Path(os.environ["EKSPROXY_GEN_CACHE_DIR"]).glob("tree-*.json"))
    assert cached(cli, tree) == first


def test_named_files_get_no_snapshot(cli, tree: Path, settled) -> None:
    """pre-commit names the files it passes, and they differ from commit to commit."""
    target = tree / "team-00" / "stack-0000" / "main.tf"
    first = cached(cli, target)
    assert first["findings"]
    assert not list(Path(os.environ["EKSPROXY_GEN_CACHE_DIR"]).glob("tree-*.json"))


def test_fix_reads_a_damaged_folder_cache_as_a_miss(cli, tree: Path, settled) -> None:
    """``fix`` consults the folder cache too: a damaged entry must give the same diff as no cache at all."""
    (tree / ".eksproxy-gen.toml").write_text('proxy = "http://proxy.corp.example:3128"\n')
    args = ("fix", str(tree), "--diff")
    fresh = cli(*args, "--no-cache")
    cached(cli, tree)
    assert entries()
    rewrite_entries(lambda folder, entry: signed_entry(folder, entry["used"], {
        **json.loads(entry["data"]), "report": {"files": 3}}))
    damaged = cli(*args)
    assert (damaged.code, damaged.out) == (fresh.code, fresh.out)
    assert fresh.code == 0 and fresh.out.startswith("---")


def test_a_missing_local_is_looked_for_only_in_files_that_spell_it(cli, stack: Path, monkeypatch) -> None:
    """The rest of the folder is parsed only where a definition can be: a file must name the block and the name."""
    from eksproxy_gen.pipeline import analysis

    (stack / "network.tf").write_text('resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    (stack / "other_locals.tf").write_text('locals {\n  region = "eu-west-1"\n}\n')
    parsed: list[str] = []
    real = analysis.parse

    def spy(text: str):
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(analysis, "parse", spy)
    assert [f["rule"] for f in cached(cli, stack, "--no-cache")["findings"]] == ["EKSP001"]
    assert sorted(parsed) == sorted([CALL, SIBLING % "AL2023_x86_64_STANDARD"])


def _entries(data: dict, change) -> dict | None:
    """The folder cache with every entry changed; a tree snapshot removed, so that the folder cache is read."""
    if "entries" not in data:
        return None
    return {**data, "entries": {folder: change(folder, entry) for folder, entry in data["entries"].items()}}


def _snapshot(data: dict, change) -> dict | None:
    """A tree snapshot changed and signed again (an authentic but damaged snapshot); the folder cache kept."""
    if "entries" in data:
        return data
    return signed_snapshot(change(json.loads(data["data"])))


def _signed(change):
    """Every entry changed and signed again: JSON the cache signed that is still not what it wrote."""
    return lambda data: _entries(data, lambda folder, entry: signed_entry(folder, entry["used"],
                                                                          change(json.loads(entry["data"]))))


@pytest.mark.parametrize("damage", [
    lambda data: _snapshot(data, lambda snap: {**snap, "report": {"files": [{"display": 1}]}}),
    lambda data: _snapshot(data, lambda snap: {**snap, "folders": [1, 2]}),
    lambda data: _snapshot(data, lambda snap: [snap]),
    lambda data: {**data, "data": data["data"].replace("EKSP", "EKSQ")} if "data" in data else None,
    lambda data: {**data, "sig": None} if "sig" in data else None,
    lambda data: [data],
    _signed(lambda entry: {**entry, "report": {"files": 3}}),
    _signed(lambda entry: {**entry, "outside": None}),
    _signed(lambda entry: {**entry, "files": {"a": "b"}}),
    _signed(lambda entry: [entry]),
    lambda data: _entries(data, lambda folder, entry: {**entry, "data": entry["data"].replace("EKSP", "EKSQ")}),
    lambda data: _entries(data, lambda folder, entry: {**entry, "data": 7, "used": "x"}),
    lambda data: _entries(data, lambda folder, entry: [entry]),
    lambda data: {**data, "entries": [data["entries"]]} if "entries" in data else None,
], ids=["signed snapshot report", "signed snapshot folders", "signed snapshot not an object", "snapshot edited",
        "snapshot unsigned", "not an object", "signed folder report", "signed folder states", "signed folder files",
        "signed folder entry", "folder entry edited", "folder entry fields", "folder entry", "folder entries"])
def test_a_damaged_cache_is_only_a_miss(cli, tree: Path, settled, damage) -> None:
    """JSON that parses but is not what the cache wrote (signed or not) gives the fresh verdict, never an error."""
    fresh = cached(cli, tree, "--no-cache")
    cached(cli, tree)
    stored = list(Path(os.environ["EKSPROXY_GEN_CACHE_DIR"]).glob("*.json"))
    assert {p.name.split("-")[0] for p in stored} == {"check", "tree"}
    for path in stored:
        damaged = damage(json.loads(path.read_text()))
        if damaged is None:
            path.unlink()
        else:
            path.write_text(json.dumps(damaged))
    settled()
    assert cached(cli, tree) == fresh
    assert cached(cli, tree) == fresh


def test_only_the_console_entry_defers_collection_and_it_resumes_once_the_parser_is_loaded(tmp_path: Path) -> None:
    """Start-up runs without the garbage collector; parsing and judging never do, and other callers keep Python's.

    A fresh interpreter: the console entry's setting would otherwise leak into
    this test process.
    """
    probe = """
import gc, sys
from pathlib import Path
from eksproxy_gen import startup
from eksproxy_gen.pipeline.checking import check
from eksproxy_gen.policy.settings import Settings

startup.collect_from_now()
print("untouched", gc.isenabled(), gc.get_freeze_count() == 0)
startup.defer_collection()
print("deferred", gc.isenabled())
files = [(Path(p), Settings()) for p in sys.argv[1:]]
check(files[:1])
print("no parse", gc.isenabled())
check(files[1:])
print("parsed", gc.isenabled(), gc.get_freeze_count() > 0)
"""
    (tmp_path / "not_eks.tf").write_text(NOT_EKS)
    (tmp_path / "eks").mkdir()
    shutil.copy(FIXTURES / "handwritten.tf", tmp_path / "eks" / "main.tf")
    files = [str(tmp_path / "not_eks.tf"), str(tmp_path / "eks" / "main.tf")]
    proc = subprocess.run([sys.executable, "-c", probe, *files], capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines() == ["untouched True True", "deferred False", "no parse False", "parsed True True"]
