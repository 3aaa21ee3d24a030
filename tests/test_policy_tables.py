"""Tables of what the pure policy functions say, word for word, where a user acts on the words: advice that fits
one case (quote a number nodeadm wants as a string) must not be given in another (a string where a list is due)."""

from __future__ import annotations

import pytest

from eksproxy_gen.policy.nodeconfig_lint import lint
from eksproxy_gen.policy.scripts import proxy_cut

HEADER = "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"


@pytest.mark.parametrize(("body", "message"), [
    ("spec:\n  instance:\n    environment:\n      default:\n        NO_PROXY: 123\n",
     'spec.instance.environment.default.NO_PROXY is a number where nodeadm expects a string; decoding fails and '
     'the node never joins; quote it: "123"'),
    ('spec:\n  cluster:\n    enableOutpost: "true"\n',
     "spec.cluster.enableOutpost is a string where nodeadm expects a boolean; decoding fails and the node never "
     "joins"),
    ("spec:\n  kubelet:\n    flags: --node-labels=a=b\n",
     "spec.kubelet.flags is a string where nodeadm expects a list; decoding fails and the node never joins"),
    ("spec:\n  instance:\n    environment:\n      default:\n        - HTTP_PROXY=http://p:3128\n",
     "spec.instance.environment.default is a list where nodeadm expects a mapping; decoding fails and the node "
     "never joins"),
])
def test_a_wrong_type_is_told_with_a_quote_hint_only_where_quoting_fixes_it(body: str, message: str) -> None:
    assert [(p.rule.id, p.message) for p in lint(HEADER + body)] == [("EKSP021", message)]


DROP_IN_SCRIPT = ('#!/bin/bash\necho "HTTPS_PROXY=http://p:3128" >> /etc/environment\n'
                  "mkdir -p /etc/systemd/system/containerd.service.d\n"
                  "cat > /etc/systemd/system/containerd.service.d/env.conf <<EOF\n[Service]\n"
                  "EnvironmentFile=/etc/environment\nEOF\n"
                  "dnf install -y jq\n")


def test_a_drop_in_that_only_points_a_unit_at_the_environment_file_is_cut_with_the_proxy_lines() -> None:
    """The drop-in never says "proxy": it is proxy set-up because it hands containerd /etc/environment, so fix cuts
    it out with the line that writes the proxy there and keeps the script's other work."""
    cut = proxy_cut(DROP_IN_SCRIPT)
    assert (cut.whole, cut.kept, cut.removable) == (False, "#!/bin/bash\ndnf install -y jq\n", (1, 2, 3, 4, 5, 6))


@pytest.mark.parametrize("before", ['LABELS=""', "LABELS=''", 'echo "" > /tmp/x'])
def test_an_empty_string_before_the_proxy_line_does_not_hide_it(before: str) -> None:
    """An empty string closes where it opens; the proxy line after it is still at the top level and cut."""
    cut = proxy_cut(f"#!/bin/bash\n{before}\nexport HTTPS_PROXY=http://p:3128\ndnf install -y jq\n")
    assert (cut.kept, cut.removable) == (f"#!/bin/bash\n{before}\ndnf install -y jq\n", (2,))
