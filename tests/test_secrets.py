"""A hostile repository or a careless setting must not make eksproxy-gen leak the proxy password.

eksproxy-gen runs on pull requests, and its output lands in CI logs, job
summaries, code-scanning dashboards and checkov reports. The proxy password is
never printed, in any spelling, by any command, format or message, and the
cache keeps nothing that holds it. (Names from the repository are escaped:
test_escaping.py.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksproxy_gen import cache as cache_module
from eksproxy_gen import main
from eksproxy_gen.policy.values import SECRETS

from .conftest import in_ci

EXAMPLES = int(os.environ.get("EKSPROXY_GEN_PROPERTY_EXAMPLES", "60")) // 2  # a dozen commands an example
CLI = Path(sys.executable).parent / "eksproxy-gen"
# Characters a password may hold that URLs, shells, HCL, YAML, TOML and JSON each treat specially.
HOSTILE = "aZ9<>#/?@%:[] ;&=+$!*(),~-._'\"\\`{}\tä"
MARK = "Pw"  # every generated password holds it, so a password can never be spelt by the tool's own text
OLD_MARK = "Qj"  # the same for the password in the users' own proxy URLs

TREE = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name = "c"

  eks_managed_node_groups = {
    general = {}
    old_proxy = {
      cloudinit_pre_nodeadm = [{
        content_type = "application/node.eks.aws"
        content      = <<-EOT
          apiVersion: node.eks.aws/v1alpha1
          kind: NodeConfig
          spec:
            instance:
              environment:
                default:
                  HTTP_PROXY: "OLD_URL"
                  HTTPS_PROXY: "OLD_URL"
                  NO_PROXY: "localhost"
                  http_proxy: "OLD_URL"
                  https_proxy: "OLD_URL"
                  no_proxy: "localhost"
        EOT
      }]
    }
    scripted = {
      cloudinit_pre_nodeadm = [{
        content_type = "text/x-shellscript"
        content      = <<-EOT
          #!/bin/bash
          PROXY_PASSWORD='PLAIN'
          export HTTPS_PROXY="http://svc:$PROXY_PASSWORD@proxy.corp.example:3128"
          echo "HTTPS_PROXY=$HTTPS_PROXY" >> /etc/environment
        EOT
      }]
    }
    rocket = {
      ami_type             = "BOTTLEROCKET_x86_64"
      bootstrap_extra_args = <<-EOT
        [settings.network]
        https-proxy = "OLD_URL"
        no-proxy = ["localhost"]
      EOT
    }
    exported = {
      cloudinit_pre_nodeadm = [{
        content_type = "text/x-shellscript"
        content      = <<-EOT
          #!/bin/bash
          export NO_PROXY=localhost,OLD_URL HTTPS_PROXY=OLD_URL
        EOT
      }]
    }
  }
}

resource "helm_release" "karpenter" {
  name       = "karpenter"
  repository = "oci://public.ecr.aws/karpenter"
  chart      = "karpenter"
  version    = "1.6.0"

  values = [
    <<-EOT
    controller:
      env:
        - name: HTTPS_PROXY
          value: "OLD_URL"
    EOT
  ]
}
"""
# How users write a proxy URL with credentials in their own files: with a scheme (any case, any scheme), without
# one (Bottlerocket, curl and Go take ``user:pass@host:port``), with a broken one; USER and PASS are replaced.
OLD_URLS = ("http://USER:PASS@old-proxy.corp.example:3128", "USER:PASS@old-proxy.corp.example:3128",
            "http:/USER:PASS@old-proxy.corp.example:3128", "HTTP://USER:PASS@old-proxy.corp.example:3128",
            "socks5h://USER:PASS@old-proxy.corp.example:1080", "USER:PASS@10.0.0.5:3128",
            "HTTPS:USER:PASS@old-proxy.corp.example")
PLAIN_OLD_URL = "http://svc:x@old-proxy.corp.example:3128"


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Commands run in this process one after another: each test starts knowing no secret, and leaves none."""
    SECRETS.forget()
    yield
    SECRETS.forget()


def _heredoc(text: str) -> str:
    """Text as a Terraform heredoc holds it literally."""
    return text.replace("${", "$${").replace("%{", "%%{")


def write_tree(folder: Path, password: str, old_url: str = OLD_URLS[0], old_password: str | None = None) -> None:
    """A folder whose files hold the password as users write it: in a proxy URL (shaped as ``old_url``, in a
    NodeConfig, a Bottlerocket TOML, a shell export and the Karpenter controller's env) and in a hand-written
    script. ``old_password`` (the settings' password unless given) is the one in the users' own URLs."""
    folder.mkdir(parents=True, exist_ok=True)
    url = old_url.replace("USER", "svc").replace("PASS", quote(password if old_password is None else old_password,
                                                                safe=""))
    text = TREE.replace("OLD_URL", url).replace("PLAIN", _heredoc(password))
    (folder / "main.tf").write_text(text, encoding="utf-8")


def toml_settings(proxy: str | None) -> str:
    """A settings file; JSON's string syntax is valid TOML for any text."""
    text = 'vpc_cidrs = ["10.0.0.0/16"]\n'
    return text + (f"proxy = {json.dumps(proxy)}\n" if proxy is not None else "")


def spellings(password: str, written: str) -> set[str]:
    """Every spelling of a password that must not be printed: as meant, as written, encoded, and as JSON has it."""
    forms = {password, written, quote(password, safe=""), quote(password, safe="!$&'()*+,;=:")}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), form) for form in set(forms)}
    forms |= {json.dumps(form)[1:-1] for form in set(forms)}
    return {form for form in forms if len(form) > 2}


def assert_hidden(password: str, written: str, texts: dict[str, str]) -> None:
    for form in spellings(password, written):
        for where, text in texts.items():
            assert form not in text, f"{form!r} printed in {where}"


def readable(folder: Path) -> dict[str, str]:
    """Every file under a folder, as text."""
    return {str(path): path.read_bytes().decode("utf-8", "replace") for path in folder.rglob("*") if path.is_file()}


class Runs:
    """Commands run through ``main.main`` in one folder, with everything they printed or wrote kept by name."""

    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.capsys = capsys
        self.texts: dict[str, str] = {}
        self.codes: dict[str, int] = {}
        self.counter = count()

    def __call__(self, *args: str) -> int:
        name = f"{next(self.counter)}: {' '.join(args)}"
        code = main.main(list(args))
        captured = self.capsys.readouterr()
        self.texts[f"stdout of {name}"] = captured.out
        self.texts[f"stderr of {name}"] = captured.err
        self.codes[name] = code
        return code


def every_command(run: Runs, proxy_flag: list[str]) -> None:
    """check, fix and render in every format and output, with the proxy from the settings file or ``--proxy``."""
    out = run.folder / "out"
    run("check", ".", "--format", "github", "-o", f"json:{out}/check.json", "-o", f"sarif:{out}/check.sarif",
        "-o", f"gitlab:{out}/check.gitlab.json", "-o", f"text:{out}/check.txt")
    run("check", ".", "--statistics")
    run("check", ".", "--color", "always")
    run("check", "main.tf", "--format", "json")
    run("fix", ".", "--diff", *proxy_flag)
    run("fix", ".", "--diff", "--format", "json", "-o", f"{out}/fix.json", *proxy_flag)
    run("fix", ".", "--check", "--color", "always", *proxy_flag)
    run("render", *proxy_flag)
    run("render", "--format", "mime", *proxy_flag)
    run("render", "--format", "mime", "--group", "main.tf:eks.scripted", *proxy_flag)
    run("fix", ".", *proxy_flag)
    run("check", ".", "--format", "github", "-o", f"sarif:{out}/after.sarif", "-o", f"gitlab:{out}/after.gitlab")
    run("render", "--format", "mime", "--group", "main.tf:eks.old_proxy", *proxy_flag)


examples = count()


@settings(max_examples=EXAMPLES, deadline=None, derandomize=in_ci(),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(head=st.text(HOSTILE, max_size=4), tail=st.text(HOSTILE, min_size=1, max_size=10),
       encoded=st.booleans(), from_flag=st.booleans(), old_url=st.sampled_from(OLD_URLS),
       old_tail=st.text(HOSTILE, min_size=1, max_size=10))
def test_the_password_is_never_printed_nor_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch, head: str, tail: str,
                                               encoded: bool, from_flag: bool, old_url: str, old_tail: str) -> None:
    """Any password, percent-encoded or as typed, from the settings file or --proxy, through every command.

    Nothing printed (stdout, stderr), written (-o files, the GitHub job
    summary) or cached holds the password in any spelling: as meant, as
    written, percent-encoded, JSON-escaped. A password written unencoded with
    characters a URL reserves is refused, and the refusal does not quote it.
    The folder cache stores at once here (no racy window), so it has entries
    to look into. The users' own proxy URLs hold another password, one the
    settings do not know, in every shape a user writes a URL (``OLD_URLS``):
    it is hidden as well, by its shape alone.
    """
    SECRETS.forget()
    raw = head + MARK + tail
    written = quote(raw, safe="") if encoded else raw
    password = raw if encoded else unquote(raw)
    old_password = OLD_MARK + old_tail
    folder = tmp_path / f"example-{next(examples)}"
    write_tree(folder, password, old_url, old_password)
    url = f"http://svc:{written}@proxy.corp.example:3128"
    (folder / ".eksproxy-gen.toml").write_text(toml_settings(None if from_flag else url), encoding="utf-8")
    cache = tmp_path / f"{folder.name}-cache"
    summary = tmp_path / f"{folder.name}-summary.md"
    monkeypatch.setenv("EKSPROXY_GEN_CACHE_DIR", str(cache))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setattr(cache_module, "RACY_NS", 0)
    monkeypatch.chdir(folder)
    before = (folder / "main.tf").read_text(encoding="utf-8")
    run = Runs(folder, capsys)
    every_command(run, ["--proxy", url] if from_flag else [])
    kept = {**readable(folder / "out"), **readable(cache)}
    if summary.exists():
        kept[str(summary)] = summary.read_text(encoding="utf-8")
    assert_hidden(password, written, {**run.texts, **kept})
    assert_hidden(old_password, quote(old_password, safe=""), {**run.texts, **kept})
    if (folder / "main.tf").read_text(encoding="utf-8") != before:  # the settings were accepted, and fix wrote them
        assert list(cache.glob("check-*.json")), "the folder cache was written, so it was looked into"


@pytest.mark.parametrize("password", ["s3cr3t#x", "Wint/er2025", "pa?ss", "p@ss-w0rd", "50%off", "a<b>c",
                                      "x[y]z", "Qx7 word"])
def test_a_refused_password_is_not_quoted_by_the_refusal(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         password: str) -> None:
    """A URL library quotes what it failed on ("Port could not be cast to integer value as 's3cr3t'"); we do not."""
    url = f"http://svc:{password}@proxy.corp.example:3128"
    (tmp_path / "main.tf").write_text(TREE.replace("OLD_URL", PLAIN_OLD_URL).replace("PLAIN", "x"), encoding="utf-8")
    for args in (["fix", ".", "--proxy", url], ["render", "--proxy", url]):
        refused = cli(*args)
        assert password not in refused.out + refused.err
        assert password[:4].lower() not in refused.err.lower()
        assert refused.code == 2 and "percent-encode the password" in refused.err
    (tmp_path / ".eksproxy-gen.toml").write_text(toml_settings(url), encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for fmt in ("text", "json", "sarif", "github", "gitlab"):  # a settings error: exit 2, no report at all
        shown = cli("check", ".", "--format", fmt)
        assert password not in shown.out + shown.err and password[:4].lower() not in shown.err.lower()
        assert (shown.code, shown.out) == (2, "") and "percent-encode the password" in shown.err
    assert not summary.exists()


def test_a_proxy_url_without_a_port_is_refused_with_the_defaults_that_disagree(cli, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TREE.replace("OLD_URL", PLAIN_OLD_URL).replace("PLAIN", "x"), encoding="utf-8")
    before = (tmp_path / "main.tf").read_bytes()
    refused = cli("fix", ".", "--proxy", "http://proxy.corp.example")
    assert refused.code == 2
    assert refused.err == ("eksproxy-gen: error: command line: proxy: no port in the URL, and programs disagree on "
                           "the default (nodeadm, containerd and kubelet dial 80, curl and dnf dial 1080): write it, "
                           "e.g. http://proxy.example.com:3128\n")
    assert (tmp_path / "main.tf").read_bytes() == before


def test_a_password_outside_a_url_is_hidden_in_the_diff(cli, tmp_path: Path) -> None:
    """A hand-written script keeps the password in a variable; the diff that removes it shows *** instead."""
    write_tree(tmp_path, "Winter2025!")
    shown = cli("fix", ".", "--diff", "--proxy", "http://svc:Winter2025!@proxy.corp.example:3128")
    assert "-          PROXY_PASSWORD='***'\n" in shown.out
    assert "Winter2025" not in shown.out + shown.err


def test_a_users_url_with_reserved_characters_in_its_password_is_hidden(cli, tmp_path: Path) -> None:
    """Credentials in the repository's own files are hidden from ``://`` to the last ``@``, whatever they hold."""
    write_tree(tmp_path, "x")
    text = (tmp_path / "main.tf").read_text().replace("svc:x@old-proxy", "svc:Pw<#>/x@old-proxy")
    (tmp_path / "main.tf").write_text(text)
    (tmp_path / ".eksproxy-gen.toml").write_text(toml_settings("http://proxy.corp.example:3128"))
    for fmt in ("text", "json", "github"):
        shown = cli("check", ".", "--format", fmt)
        assert "http://***@old-proxy.corp.example:3128" in shown.out
        assert "Pw<" not in shown.out and "Pw\\u003c" not in shown.out


def test_the_console_script_hides_the_password_everywhere(tmp_path: Path) -> None:
    """The installed command, as CI runs it, with the real racy window: one hostile password, every output."""
    password = "Pw<#/?@%:x"
    written = quote(password, safe="")
    write_tree(tmp_path / "repo", password)
    (tmp_path / "repo" / ".eksproxy-gen.toml").write_text(
        toml_settings(f"http://svc:{written}@proxy.corp.example:3128"))
    env = {**os.environ, "EKSPROXY_GEN_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1",
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    texts: dict[str, str] = {}
    for args in (["check", ".", "--format", "github", "-o", "sarif:../out.sarif"], ["fix", ".", "--diff"],
                 ["fix", ".", "--format", "json", "--diff"], ["render", "--format", "mime"], ["fix", "."],
                 ["check", ".", "--format", "json"]):
        proc = subprocess.run([str(CLI), *args], cwd=tmp_path / "repo", env=env, capture_output=True, text=True,
                              check=False, timeout=300)
        assert proc.returncode in (0, 1), proc.stderr
        texts[f"stdout of {args}"], texts[f"stderr of {args}"] = proc.stdout, proc.stderr
    assert "***" in texts["stdout of ['fix', '.', '--diff']"]
    assert_hidden(password, written, {**texts, **readable(tmp_path / "cache"),
                                      "sarif": (tmp_path / "out.sarif").read_text(),
                                      "summary": (tmp_path / "summary.md").read_text()})


def test_checkov_details_hide_credentials_fault_injection_of_a_leaky_cli(tmp_path: Path) -> None:
    """Fault injection: checkov's glue is given an eksproxy-gen that leaks credentials in its JSON and errors.

    The CLI hides them itself (tested above); checkov's details outlive the run
    in checkov's CLI, JSON and SARIF output, so the glue hides them again.
    """
    from .test_checkov_rules import FIXTURES as CHECKOV_FIXTURES
    from .test_checkov_rules import run_checkov

    leaky = tmp_path / "leaky-eksproxy-gen"
    leaky.write_text(f"""#!{sys.executable}
import json, subprocess, sys
proc = subprocess.run([{str(CLI)!r}, *sys.argv[1:]], capture_output=True, text=True)
if sys.argv[1] == "check":
    data = json.loads(proc.stdout)
    for finding in data["findings"]:
        finding["message"] += " (via http://svc:Pw<leak@proxy.corp.example:3128)"
    print(json.dumps(data))
else:
    sys.stdout.write(proc.stdout)
sys.exit(proc.returncode)
""")
    leaky.chmod(0o755)
    root = tmp_path / "missing"
    import shutil

    shutil.copytree(CHECKOV_FIXTURES / "checkov" / "missing", root)
    records = run_checkov("3.3.30", root, env={"EKSPROXY_GEN": str(leaky)})
    details = [d for r in records for d in r.details]
    assert any("http://***@proxy.corp.example:3128" in d for d in details), details
    assert not any("Pw<leak" in d for d in details)
    failing = tmp_path / "failing-eksproxy-gen"
    failing.write_text(f"""#!{sys.executable}
import subprocess, sys
if sys.argv[1] == "check":
    sys.stderr.write("eksproxy-gen: error: cannot reach http://svc:Pw<leak@proxy.corp.example:3128\\n")
    sys.exit(2)
proc = subprocess.run([{str(CLI)!r}, *sys.argv[1:]])
sys.exit(proc.returncode)
""")
    failing.chmod(0o755)
    records = run_checkov("3.3.30", root, env={"EKSPROXY_GEN": str(failing)})
    details = [d for r in records for d in r.details]
    assert details and all("could not run" in d and "Pw<leak" not in d for d in details), details


@pytest.mark.parametrize("old_url", OLD_URLS)
def test_a_traced_script_holding_a_proxy_password_in_any_shape_is_flagged(cli, tmp_path: Path, old_url: str) -> None:
    """``set -x`` writes every command, with the URL it holds, to the console log: whatever shape the URL has."""
    url = old_url.replace("USER", "svc").replace("PASS", "Qj7secret")
    script = f"#!/bin/bash\n          set -x\n          export HTTPS_PROXY={url}\n          yum install -y jq"
    text = TREE.split("    old_proxy = {")[0] + f"""    traced = {{
      cloudinit_pre_nodeadm = [{{
        content_type = "text/x-shellscript"
        content      = <<-EOT
          {script}
        EOT
      }}]
    }}
  }}
}}
"""
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    shown = cli("check", ".", "--format", "json")
    traced = [f for f in json.loads(shown.out)["findings"]
              if f["rule"] == "EKSP014" and "traces commands (set -x)" in f["message"]]
    assert [f["line"] for f in traced] == [text.split("\n").index("          set -x") + 1]
    assert "Qj7secret" not in shown.out + shown.err
