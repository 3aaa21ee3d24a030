"""A proxy URL without a port, already in a group's user data, is reported by ``check`` (EKSP005), in the words
``fix`` refuses to write it with: nodeadm, containerd and kubelet dial 80 (443), curl and dnf 1080."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eksproxy_gen.policy.judge import port_problems
from eksproxy_gen.policy.settings import SettingError, validate

from .test_check import DNF, GOOD_NO_PROXY, PROXY_OK, group, module, nodeconfig
from .test_cli import console
from .test_karpenter import nodeclass

SETTINGS = 'vpc_cidrs = ["10.0.0.0/16"]\n'


def environment(url: str) -> str:
    """A NodeConfig whose environment.default holds the six variables, the proxy ones set to ``url``."""
    return PROXY_OK.format(no_proxy=GOOD_NO_PROXY).replace("http://proxy:3128", url)


def refusal(url: str) -> str:
    """What settings.validate (and so fix) says of a URL: the words the finding must use."""
    with pytest.raises(SettingError) as refused:
        validate(url, [], [], None, "x")
    return str(refused.value).removeprefix("x: proxy: ")


WORDS_80 = refusal("http://proxy.corp")
WORDS_443 = refusal("https://proxy.corp")


def port(tmp_path: Path, text: str, name: str = "main.tf") -> list[str]:
    """The EKSP005 messages ``check`` gives a file; an EKSP005 is an error, so the exit code says whether any is."""
    (tmp_path / name).write_text(text)
    (tmp_path / ".eksproxy-gen.toml").write_text(SETTINGS)
    shown = console("check", "--format", "json", "--select", "EKSP005", cwd=tmp_path)
    found = [f["message"] for f in json.loads(shown.stdout)["findings"]]
    assert shown.returncode == (1 if found else 0), shown.stderr
    return found


def al2023(url: str) -> str:
    return module(group("a", parts=nodeconfig(env=environment(url)) + DNF))


def test_the_shapes_case_a_nodeconfig_proxy_without_a_port_is_reported_as_fix_refuses_it(tmp_path: Path) -> None:
    assert port(tmp_path, al2023("http://proxy.corp")) == [
        f"HTTP_PROXY, HTTPS_PROXY, http_proxy and https_proxy are http://proxy.corp: {WORDS_80}"]
    refused = console("fix", "--diff", cwd=tmp_path)
    assert refused.returncode == 2 and WORDS_80 in refused.stderr, "fix says the same of the same URL"


@pytest.mark.parametrize(("url", "shown", "words"), [
    ('"http://proxy.corp:"', "http://proxy.corp:", WORDS_80),  # quoted: a plain YAML scalar cannot end in ':'
    ("https://proxy.corp/", "https://proxy.corp/", WORDS_443),
    ("http://svc:s3cr3t@proxy.corp", "http://***@proxy.corp", WORDS_80),
    ("http://[fd00::1]", "http://[fd00::1]", WORDS_80),
    ("proxy.corp", "proxy.corp", WORDS_80),
])
def test_every_spelling_of_a_url_without_a_port(tmp_path: Path, url: str, shown: str, words: str) -> None:
    found = port(tmp_path, al2023(url))
    assert found == [f"HTTP_PROXY, HTTPS_PROXY, http_proxy and https_proxy are {shown}: {words}"]
    assert "s3cr3t" not in found[0]


@pytest.mark.parametrize("url", ["http://proxy.corp:3128", "${var.proxy_url}", "socks5://proxy.corp"])
def test_a_port_a_terraform_value_or_another_scheme_is_no_port_finding(tmp_path: Path, url: str) -> None:
    assert port(tmp_path, al2023(url)) == []


def test_a_shell_part_and_an_al2_script_are_read_as_well(tmp_path: Path) -> None:
    script = ('      {\n        content_type = "text/x-shellscript"\n        content      = <<-EOT\n'
              "          #!/bin/bash\n          export HTTP_PROXY=http://proxy.corp:3128 http_proxy=http://proxy.corp:3128\n"
              "          export HTTPS_PROXY=http://proxy.corp: https_proxy=http://proxy.corp:\n"
              f"          export NO_PROXY={GOOD_NO_PROXY} no_proxy={GOOD_NO_PROXY}\n        EOT\n      }},\n")
    assert port(tmp_path, module(group("a", parts=script))) == [
        f"HTTPS_PROXY and https_proxy are http://proxy.corp:: {WORDS_80}"]
    al2 = module(group("old", '      ami_type = "AL2_x86_64"\n      pre_bootstrap_user_data = <<-EOT\n'
                              "        #!/bin/bash\n        export HTTPS_PROXY=http://proxy.corp HTTP_PROXY=http://proxy.corp\n"
                              "        export https_proxy=http://proxy.corp http_proxy=http://proxy.corp\n      EOT\n"))
    assert port(tmp_path, al2) == [
        f"HTTP_PROXY, HTTPS_PROXY, http_proxy and https_proxy are http://proxy.corp: {WORDS_80}"]


def test_a_karpenter_node_class_is_read_as_well(tmp_path: Path) -> None:
    user_data = environment("http://proxy.corp").replace(" " * 10, "")
    found = port(tmp_path, nodeclass("al2023@latest", user_data), "nodeclass.yaml")
    assert found == [f"HTTP_PROXY, HTTPS_PROXY, http_proxy and https_proxy are http://proxy.corp: {WORDS_80}"]


def test_fix_with_a_configured_proxy_resolves_it(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(al2023("http://proxy.corp"))
    (tmp_path / ".eksproxy-gen.toml").write_text(SETTINGS + 'proxy = "http://proxy.corp:3128"\n')
    fixed = console("fix", "--format", "json", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert "EKSP005" in json.loads(fixed.stdout)["fixed"][0]["rules"]
    assert port(tmp_path, (tmp_path / "main.tf").read_text()) == []


HOSTS = st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z][a-z0-9]{0,8}){0,2}", fullmatch=True)


@given(scheme=st.sampled_from(["http", "https", "HTTP"]), host=HOSTS,
       port_given=st.one_of(st.none(), st.integers(1, 65535)),
       password=st.from_regex(r"P[A-Za-z0-9]{5,11}", fullmatch=True), with_credentials=st.booleans(),
       slash=st.booleans())
def test_a_url_is_reported_exactly_when_it_has_no_port_and_never_shows_its_password(
        scheme: str, host: str, port_given: int | None, password: str, with_credentials: bool, slash: bool) -> None:
    """Hosts are lower case and passwords start with P, so a password never appears in a host by chance."""
    credentials = f"svc:{password}@" if with_credentials else ""
    tail = ("" if port_given is None else f":{port_given}") + ("/" if slash else "")
    url = f"{scheme}://{credentials}{host}{tail}"
    problems = port_problems({"HTTPS_PROXY": url, "https_proxy": url})
    if port_given is not None:
        assert problems == []
        return
    shown = f"{scheme}://{'***@' if credentials else ''}{host}{tail}"
    assert problems == [f"HTTPS_PROXY and https_proxy are {shown}: {refusal(f'{scheme.lower()}://{host}')}"]
