"""Tables of what the pure policy functions say, word for word, where a user acts on the words: advice that fits
one case (quote a number nodeadm wants as a string) must not be given in another (a string where a list is due)."""

from __future__ import annotations

import pytest

from eksproxy_gen.policy.nodeconfig_lint import lint

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
