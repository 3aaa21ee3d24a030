"""The only Jinja2 user: settings -> the text of generated user-data parts and HCL around them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import jinja2

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
    return _environment().get_template(name).render(marker=GENERATED_MARKER, **values)


def al2023_parts(module: ModuleFacts, settings: Settings) -> list[RenderedPart]:
    """The NodeConfig part (P1) and the dnf part (P6), in that order."""
    proxy, no_proxy = _proxy(settings), _no_proxy(module, settings)
    return [
        RenderedPart(NODECONFIG, GENERATED_FILENAMES[0],
                     _render("nodeconfig.yaml.j2", proxy=proxy, no_proxy=no_proxy)),
        RenderedPart("text/x-shellscript", GENERATED_FILENAMES[1],
                     _render("dnf_proxy.sh.j2", proxy=proxy, conf="/etc/dnf/dnf.conf")),
    ]


def al2_block(module: ModuleFacts, settings: Settings) -> str:
    """The marked block that goes into pre_bootstrap_user_data on AL2 (P15)."""
    return _render("al2_proxy.sh.j2", proxy=_proxy(settings), no_proxy=_no_proxy(module, settings),
                   conf="/etc/yum.conf")


def bottlerocket_keys(module: ModuleFacts, settings: Settings) -> str:
    """The marker comment and the two keys that go into [settings.network] (P14)."""
    entries = [entry.value for entry in required_no_proxy(module, settings)]
    return _render("bottlerocket_network.toml.j2", proxy=_proxy(settings), no_proxy=entries)


def heredoc_attribute(name: str, body: str, indent: str) -> str:
    """``name = <<-EOT`` with ``body``, for an attribute line indented by ``indent``."""
    text = _render("heredoc_attribute.tf.j2", attr_name=name, body=body.rstrip("\n"), marker_word=HEREDOC_WORD)
    return indent_after_first(text, indent)


def _proxy(settings: Settings) -> str:
    if settings.proxy is None:
        raise ValueError("a proxy is needed to render parts")
    return settings.proxy


def _no_proxy(module: ModuleFacts, settings: Settings) -> str:
    return ",".join(entry.value for entry in required_no_proxy(module, settings))


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
    elements = [element(p, "") for p in parts]
    text = _render("cloudinit_pre_nodeadm.tf.j2", parts=elements)
    return indent_after_first(text, indent)


def indent_after_first(text: str, indent: str) -> str:
    lines = text.split("\n")
    return "\n".join([lines[0]] + [indent + ln if ln else ln for ln in lines[1:]])
