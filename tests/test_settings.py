"""Every setting is validated before it can reach HCL, YAML or TOML; a refusal touches no file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eksproxy_gen.policy.settings import SettingError, validate
from eksproxy_gen.policy.values import mask_credentials, split_no_proxy

from .conftest import copy_fixture


def settings(proxy: str | None = "http://proxy:3128", vpc: list[str] | None = None,
             no_proxy: list[str] | None = None, service: str | None = None):
    return validate(proxy, vpc or [], no_proxy or [], service, "test")


@pytest.mark.parametrize("url", [
    "http://proxy.corp.example:3128", "https://proxy:443", "http://10.0.0.5:8080", "http://user:pa%40ss@proxy:3128",
    "http://[fd00::1]:3128", "http://u:p%3C%3E%23%2F%3F%40%25%3A!$&()*+,;=~@proxy:3128", "http://token@proxy:3128",
])
def test_good_proxy_urls(url: str) -> None:
    assert settings(url).proxy == url


@pytest.mark.parametrize(("url", "why"), [
    ("socks5://proxy:1080", "scheme"),
    ("proxy:3128", "scheme"),
    ("http://:3128", "no host"),
    ("http://proxy:99999", "port out of range"),
    ('http://proxy:3128"', "break out"),
    ("http://proxy:3128\nEOT", "break out"),
    ("http://${var.x}:3128", "break out"),
    ("http://proxy:3128/%{if true}", "break out"),
    ("http://proxy:3128/path", "path"),
    ("http://prox y:3128", "spaces"),
    ("http://proxy.corp.example", "no port in the URL"),
    ("https://proxy.corp.example", "no port in the URL"),
    ("http://proxy:", "port out of range or not a number"),
    ("http://[fd00::1]", "no port in the URL"),
    ("http://pro_xy!:3128", "not a host name"),
])
def test_bad_proxy_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(SettingError, match=why):
        settings(url)


def test_terraform_references_become_interpolations() -> None:
    s = settings("tf:var.proxy_url", ["tf:module.vpc.vpc_cidr_block", "10.1.0.0/16"], ["tf:local.extra"],
                 "tf:var.service_cidr")
    assert s.proxy == "${var.proxy_url}"
    assert s.vpc_cidrs == ("${module.vpc.vpc_cidr_block}", "10.1.0.0/16")
    assert s.no_proxy == ("${local.extra}",)
    assert s.service_cidr == "${var.service_cidr}"


@pytest.mark.parametrize("expr", ["tf:var.x}", "tf:file(\"x\")", "tf:var.x ${y}", "tf:", "tf:aws_vpc.this.cidr"])
def test_only_plain_references_are_accepted_as_expressions(expr: str) -> None:
    with pytest.raises(SettingError, match="plain Terraform reference"):
        settings(expr)


@pytest.mark.parametrize(("cidr", "why"), [("10.0.0.0/33", "not a CIDR"), ("10.0.0.1/16", "host bits"),
                                           ("ten", "not a CIDR")])
def test_bad_cidrs(cidr: str, why: str) -> None:
    with pytest.raises(SettingError, match=why):
        settings(vpc=[cidr])


@pytest.mark.parametrize(("entry", "why"), [("*.corp.example", r"'\*\.'"), ("a b", "spaces"), ("a,b", "commas"),
                                            ('x"', "break out"), ("%{x}", "break out")])
def test_bad_no_proxy_entries(entry: str, why: str) -> None:
    with pytest.raises(SettingError, match=why):
        settings(no_proxy=[entry])


def test_ipv6_no_proxy_entries_lose_brackets() -> None:
    assert settings(no_proxy=["[fd00::1]"]).no_proxy == ("fd00::1",)


def test_credentials_are_masked() -> None:
    assert mask_credentials("use http://svc:Winter2025@proxy:3128 now") == "use http://***@proxy:3128 now"
    assert mask_credentials("http://svc:p@ss@proxy:3128") == "http://***@proxy:3128"


def test_no_proxy_split_respects_interpolations() -> None:
    assert split_no_proxy('a,${join(",", var.x)}, b') == ["a", '${join(",", var.x)}', "b"]


@pytest.mark.parametrize("flag", [
    ["--proxy", 'http://p:3128"'], ["--vpc-cidr", "10.0.0.0/8\nEOT"], ["--no-proxy", "${file(\"/etc/passwd\")}"],
    ["--service-cidr", "%{ if true }"],
])
def test_cli_refuses_unsafe_values_and_touches_nothing(cli, tmp_path: Path, flag: list[str]) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    before = target.read_bytes()
    args = ["fix", str(target), "--proxy", "http://p:3128", "--vpc-cidr", "10.0.0.0/16", *flag]
    result = cli(*args)
    assert result.code == 2
    assert "eksproxy-gen: error:" in result.err
    assert target.read_bytes() == before


def test_fix_without_a_proxy_is_a_usage_error(cli, tmp_path: Path) -> None:
    target = copy_fixture("shapes.tf", tmp_path)
    result = cli("fix", str(target))
    assert result.code == 2
    assert "--proxy" in result.err and ".eksproxy-gen.toml" in result.err


def test_config_file_is_found_upward_and_flags_override(cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the repository's root, up to which settings are looked for
    (tmp_path / ".eksproxy-gen.toml").write_text('proxy = "http://from-config:3128"\nvpc_cidrs = ["10.0.0.0/16"]\n')
    nested = tmp_path / "envs" / "prod"
    nested.mkdir(parents=True)
    target = copy_fixture("shapes.tf", nested)
    assert cli("fix", str(nested)).code == 0
    assert "http://from-config:3128" in target.read_text(encoding="utf-8")
    assert cli("fix", str(nested), "--proxy", "http://from-flag:3128").code == 0
    text = target.read_text(encoding="utf-8")
    assert "http://from-flag:3128" in text and "from-config" not in text


BAD_CONFIGS = [
    ('proxy = "http://p:3128"\nvpc_cidr = ["10.0.0.0/16"]\n', 2, "unknown key vpc_cidr"),
    ('proxy = 3128\n', 1, "must be a string"),
    ('vpc_cidrs = "10.0.0.0/16"\n', 1, "list of strings"),
    ('proxy = "http://p:3128\n', 1, "Illegal character '\\\\n'"),
]


@pytest.mark.parametrize(("content", "line", "message"), BAD_CONFIGS)
def test_a_bad_config_file_in_the_tree_is_a_settings_error_and_nothing_is_written(
        cli, tmp_path: Path, content: str, line: int, message: str) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / ".eksproxy-gen.toml").write_text(content)
    target = copy_fixture("shapes.tf", bad)
    good = tmp_path / "good"
    good.mkdir()
    other = copy_fixture("shapes.tf", good)
    before, other_before = target.read_bytes(), other.read_bytes()
    result = cli("fix", str(tmp_path), "--proxy", "http://p:3128")
    assert result.code == 2
    assert re.search(rf"^eksproxy-gen: error: bad/\.eksproxy-gen\.toml:{line}: .*({message})", result.err,
                     re.M), result.err
    assert (target.read_bytes(), other.read_bytes()) == (before, other_before)


@pytest.mark.parametrize(("content", "line", "message"), BAD_CONFIGS)
def test_a_bad_explicit_config_file_is_a_usage_error(cli, tmp_path: Path, content: str, line: int,
                                                      message: str) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(content)
    target = copy_fixture("shapes.tf", tmp_path)
    before = target.read_bytes()
    result = cli("fix", "--config", str(config), str(tmp_path))
    assert result.code == 2
    assert "settings.toml" in result.err and re.search(message, result.err)
    assert target.read_bytes() == before
