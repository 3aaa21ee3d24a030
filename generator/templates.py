"""The only Jinja2 user: settings -> the text of generated user-data parts and HCL around them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import jinja2

from .layout import indent_after_first
from .policy.expected import required_no_proxy
from .policy.facts import GENERATED_FILENAMES, GENERATED_MARKER, NODECONFIG, ModuleFacts
from .policy.settings import Settings

HEREDOC_WORD = "EOT"


@dataclass(frozen=True)
class RenderedPart:
    content_type: str
    filename: str
    content: str


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    folder = resources.files("eksproxy_gen.module_templates")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def _render(name: str, **values: object) -> str:
    values.setdefault("writer", "fix")
    return _environment().get_template(name).render(marker=GENERATED_MARKER, **values)


def nodeconfig_part(module: ModuleFacts, settings: Settings, extra: tuple[str, ...] = (),
                    units: tuple[str, ...] = (), writer: str = "fix") -> RenderedPart:
    """The NodeConfig part: the proxy in ``environment.default`` and in each unit of ``units``.

    A unit's own environment overrides ``default`` for that unit, so a unit that
    another part gives proxy variables gets the generated values too; the part
    comes after that one, and nodeadm lets the later document win each key.
    """
    text = _render("nodeconfig.yaml.j2", proxy=_proxy(settings), no_proxy=no_proxy(module, settings, extra),
                   units=("default", *units), writer=writer)
    return RenderedPart(NODECONFIG, GENERATED_FILENAMES[0], text)


def dnf_part(settings: Settings, writer: str = "fix") -> RenderedPart:
    """The shell part that sets proxy= for dnf."""
    return RenderedPart("text/x-shellscript", GENERATED_FILENAMES[1],
                        _render("dnf_proxy.sh.j2", proxy=_proxy(settings), conf="/etc/dnf/dnf.conf", writer=writer))


def al2023_parts(module: ModuleFacts, settings: Settings, writer: str = "fix") -> list[RenderedPart]:
    """The NodeConfig part and the dnf part, in that order."""
    return [nodeconfig_part(module, settings, writer=writer), dnf_part(settings, writer)]


def al2_block(module: ModuleFacts, settings: Settings, extra: tuple[str, ...] = ()) -> str:
    """The marked block that goes into pre_bootstrap_user_data on AL2."""
    return _render("al2_proxy.sh.j2", proxy=_proxy(settings), no_proxy=no_proxy(module, settings, extra),
                   conf="/etc/yum.conf")


def bottlerocket_keys(module: ModuleFacts, settings: Settings, extra: tuple[str, ...] = ()) -> str:
    """The marker comment and the two keys that go into [settings.network]."""
    entries = [entry.value for entry in required_no_proxy(module, settings)] + list(extra)
    return _render("bottlerocket_network.toml.j2", proxy=_proxy(settings), no_proxy=entries)


def heredoc_attribute(name: str, body: str, indent: str) -> str:
    """``name = <<-EOT`` with ``body``, for an attribute line indented by ``indent``."""
    text = _render("heredoc_attribute.tf.j2", attr_name=name, body=body.rstrip("\n"), marker_word=HEREDOC_WORD)
    return indent_after_first(text, indent)


def _proxy(settings: Settings) -> str:
    if settings.proxy is None:
        raise ValueError("a proxy is needed to render parts")
    return settings.proxy


def no_proxy(module: ModuleFacts, settings: Settings, extra: tuple[str, ...] = ()) -> str:
    """The NO_PROXY value every generated part writes: the required entries, then ``extra``."""
    return ",".join([entry.value for entry in required_no_proxy(module, settings)] + list(extra))


def element(part: RenderedPart, indent: str, closing_indent: str | None = None) -> str:
    """``{ ... }`` for one part; lines after the first are indented for a ``{`` on a line indented by ``indent``.

    ``closing_indent`` overrides the indentation of the closing ``}``: terraform fmt
    indents a ``}, {`` line one level deeper than the ``[{`` line it belongs to.
    """
    text = _render("part.tf.j2", content_type=part.content_type, filename=part.filename,
                   content=part.content, marker_word=HEREDOC_WORD)
    text = indent_after_first(text, indent)
    if closing_indent is not None:
        text = text[: text.rindex("\n") + 1] + closing_indent + "}"
    return text


def attribute(parts: list[RenderedPart], indent: str) -> str:
    """``cloudinit_pre_nodeadm = [ ... ]`` for an attribute line indented by ``indent``."""
    return list_attribute("cloudinit_pre_nodeadm", [element(p, "") for p in parts], indent)


def list_attribute(name: str, elements: list[str], indent: str) -> str:
    """``name = [ ... ]`` of element texts written for indentation "", for a line indented by ``indent``."""
    text = _render("list_attribute.tf.j2", attr_name=name, elements=elements)
    return indent_after_first(text, indent)
