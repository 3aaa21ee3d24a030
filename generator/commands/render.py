"""``eksproxy-gen render``: print the generated ``cloudinit_pre_nodeadm`` for pasting by hand."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import render as templates
from ..config import ConfigResolver, Overrides
from ..errors import UsageError
from ..policy.facts import ModuleFacts
from ..policy.values import has_credentials, mask_credentials


def run(overrides: Overrides, config: Path | None, ipv6: bool) -> int:
    settings = ConfigResolver(overrides, config).for_path(Path.cwd())
    if settings.proxy is None:
        raise UsageError("no proxy URL: pass --proxy http://proxy.example.com:3128 or set proxy in "
                         ".eksproxy-gen.toml")
    module = ModuleFacts(name="eks", file="-", line=0, ipv6=ipv6)
    text = templates.attribute(templates.al2023_parts(module, settings, writer="render"), "")
    print(mask_credentials(text))
    if has_credentials(settings.proxy):
        print("warning: the proxy URL holds credentials; they are shown as *** and would be readable by "
              "anything on the node: pass the proxy as a Terraform variable (--proxy tf:var.proxy_url)",
              file=sys.stderr)
    return 0
