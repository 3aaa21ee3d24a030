"""fix completes a Karpenter controller's proxy environment, or says why not (adversarial case
F-silent-refusal/karpenter-controller-partial-env).

A ``controller.env`` that already holds some proxy variables is completed: the
missing ones are added with the proxy the list already uses, and NO_PROXY and
no_proxy become the union of the required entries and the user's own. Where fix
cannot edit the list, the refusal is an EKSP010 saying why; it used to print
"nothing to fix" next to the EKSP026 errors it left.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import yaml

from eksproxy_gen.policy import nodeconfig

from .conftest import fmt_clean

SETTINGS = 'proxy = "http://proxy.corp:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n'
REQUIRED = "localhost,127.0.0.1,169.254.169.254,10.0.0.0/16,10.100.0.0/16,172.20.0.0/16,.internal,.eks.amazonaws.com"
RELEASE = """\
resource "helm_release" "karpenter" {
  name       = "karpenter"
  repository = "oci://public.ecr.aws/karpenter"
  chart      = "karpenter"
%s
  values = [
    <<-EOT
    controller:
      env:
%s
    EOT
  ]
}
"""


def _folder(tmp_path: Path, env: str, extra: str = "") -> Path:
    (tmp_path / "main.tf").write_text(RELEASE % (extra, env), encoding="utf-8")
    (tmp_path / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")
    return tmp_path / "main.tf"


def _env(text: str) -> dict[str, str]:
    values = text.split("<<-EOT\n")[1].split("    EOT")[0]
    controller = yaml.safe_load(nodeconfig.swap_interpolations(values))["controller"]
    return {e["name"]: e.get("value", "valueFrom") for e in controller["env"]}


def _changed(before: str, after: str) -> list[str]:
    """The user's lines fix changed or removed."""
    return [line[2:] for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")]


def _fix(cli, folder: Path) -> dict:
    return json.loads(cli("fix", str(folder), "--format", "json", "--no-cache").out)


def _check(cli, folder: Path) -> list[dict]:
    return json.loads(cli("check", str(folder), "--format", "json", "--no-cache").out)["findings"]


def test_a_short_no_proxy_is_completed_keeping_the_users_entries(cli, tmp_path: Path) -> None:
    path = _folder(tmp_path, '        - name: HTTPS_PROXY\n          value: http://proxy.corp:3128\n'
                             '        - name: NO_PROXY\n          value: "10.0.0.0/16,.corp.example"')
    before = path.read_text()
    assert [f["rule"] for f in _check(cli, tmp_path)] == ["EKSP026"] * 7
    result = cli("fix", str(tmp_path), "--no-cache")
    assert result.code == 0
    assert result.err.splitlines() == [
        "main.tf: fixed helm_release.karpenter",
        "main.tf: note: helm_release.karpenter: completed the proxy in controller.env: added HTTP_PROXY, http_proxy, "
        "https_proxy, no_proxy; NO_PROXY completed",
        "main.tf: note: helm_release.karpenter: NO_PROXY entries kept from the replaced set-up: .corp.example",
        "fixed 7 findings in 1 group (1 file); 0 left."]
    after = path.read_text()
    assert _env(after) == {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": f"{REQUIRED},.corp.example",
                           "HTTP_PROXY": "http://proxy.corp:3128", "http_proxy": "http://proxy.corp:3128",
                           "https_proxy": "http://proxy.corp:3128", "no_proxy": f"{REQUIRED},.corp.example"}
    assert _changed(before, after) == ['          value: "10.0.0.0/16,.corp.example"']
    assert fmt_clean(path)
    assert _check(cli, tmp_path) == []
    assert cli("fix", str(tmp_path), "--no-cache").err == "nothing to fix; 0 left.\n"


def test_the_added_variables_use_the_proxy_the_list_has_as_written(cli, tmp_path: Path) -> None:
    """A lowercase pair given as a Terraform reference: the uppercase pair is added with the same reference."""
    path = _folder(tmp_path, '        - name: https_proxy\n          value: "${var.proxy_url}"\n'
                             '        - name: no_proxy\n          value: localhost')
    report = _fix(cli, tmp_path)
    assert [(f["module"], f["rules"]) for f in report["fixed"]] == [("helm_release.karpenter", ["EKSP026"])]
    after = path.read_text()
    for name in ("HTTP_PROXY", "http_proxy", "https_proxy"):
        assert f'- name: {name}\n          value: "${{var.proxy_url}}"\n' in after
    env = _env(after)
    assert env["NO_PROXY"] == env["no_proxy"] == REQUIRED


def test_a_no_proxy_from_the_cluster_is_left_and_the_others_completed(cli, tmp_path: Path) -> None:
    path = _folder(tmp_path, '        - name: HTTPS_PROXY\n          value: http://proxy.corp:3128\n'
                             '        - name: NO_PROXY\n          valueFrom:\n            configMapKeyRef:\n'
                             '              name: proxy\n              key: no\n'
                             '        - name: no_proxy\n          value: .corp.example')
    report = _fix(cli, tmp_path)
    assert report["findings"] == []
    env = _env(path.read_text())
    assert env["NO_PROXY"] == "valueFrom" and env["no_proxy"] == f"{REQUIRED},.corp.example"
    assert list(env).count("NO_PROXY") == 1


def test_a_no_proxy_set_outside_the_heredoc_is_refused_with_the_reason(cli, tmp_path: Path) -> None:
    path = _folder(tmp_path, '        - name: HTTPS_PROXY\n          value: http://proxy.corp:3128',
                   extra='\n  set {\n    name  = "controller.env[1].name"\n    value = "NO_PROXY"\n  }\n'
                         '  set {\n    name  = "controller.env[1].value"\n    value = "localhost"\n  }\n')
    before = path.read_text()
    found = _fix(cli, tmp_path)["findings"]
    assert path.read_text() == before
    assert [f["message"] for f in found if f["rule"] == "EKSP010"] == [
        "not rewritten: controller.env's NO_PROXY is set outside the values heredoc (a set block), which Helm "
        "applies over the values; set the proxy variables there by hand"]
    assert {f["rule"] for f in found} == {"EKSP010", "EKSP026"}


def test_a_no_proxy_built_by_an_expression_is_refused_with_the_reason(cli, tmp_path: Path) -> None:
    path = _folder(tmp_path, '        - name: HTTPS_PROXY\n          value: http://proxy.corp:3128\n'
                             '        - name: NO_PROXY\n          value: "${join(",", var.no_proxy)}"')
    before = path.read_text()
    found = _fix(cli, tmp_path)["findings"]
    assert path.read_text() == before
    refusal = [f["message"] for f in found if f["rule"] == "EKSP010"]
    assert refusal == ["not rewritten: controller.env's NO_PROXY is built by a Terraform expression, which "
                       "eksproxy-gen does not rewrite; add the entries the EKSP026 findings name where it is defined"]


def test_a_controller_set_by_set_blocks_alone_is_refused_not_left_silently(cli, tmp_path: Path) -> None:
    (tmp_path / ".eksproxy-gen.toml").write_text(SETTINGS, encoding="utf-8")
    (tmp_path / "main.tf").write_text(
        'resource "helm_release" "karpenter" {\n  name  = "karpenter"\n  chart = "oci://public.ecr.aws/karpenter/'
        'karpenter"\n\n  set {\n    name  = "controller.env[0].name"\n    value = "HTTPS_PROXY"\n  }\n  set {\n'
        '    name  = "controller.env[0].value"\n    value = "http://proxy.corp:3128"\n  }\n  set {\n'
        '    name  = "controller.env[1].name"\n    value = "NO_PROXY"\n  }\n  set {\n'
        '    name  = "controller.env[1].value"\n    value = "localhost"\n  }\n}\n', encoding="utf-8")
    result = cli("fix", str(tmp_path), "--no-cache")
    assert result.code == 1
    assert "main.tf:1: EKSP010 error helm_release.karpenter: not rewritten: its values are not one heredoc; add " \
           "controller.env by hand\n" in result.err
