"""EKS nodes eksproxy-gen finds but cannot judge, said in every output, so "0 findings" means judged and fine.

A raw ``aws_eks_node_group`` (with its own ``aws_launch_template``), or a
module of node groups that is not terraform-aws-eks (a wrapper around it,
another community module), boots nodes whose proxy set-up no rule reads. They
are not findings (nothing is known to be wrong) but must never pass for
judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..hcl import Document, StringExpr
from ..model import ModuleCall
from ..report import NOT_JUDGED, Notice

_NODE_GROUP_ARGS = frozenset({"eks_managed_node_groups", "self_managed_node_groups", "node_groups",
                              "managed_node_groups", "worker_groups", "node_pools"})
_NODE_GROUP_SOURCE = re.compile(r"node[-_]?group", re.I)


def not_judged(docs: Iterable[tuple[str, Document]], modules: Iterable[ModuleCall]) -> list[Notice]:
    """A notice for each node-group resource or module of ``docs`` (display name, document) that no target holds."""
    judged = {(m.facts.file, m.facts.name) for m in modules}
    found: list[Notice] = []
    for display, doc in docs:
        for block in doc.body.blocks:
            line = doc.line_of(block.span.start)
            if block.type == "resource" and block.labels[:1] == ("aws_eks_node_group",) and len(block.labels) == 2:
                found.append(Notice(display, line, f"aws_eks_node_group.{block.labels[1]} is not judged: "
                                                   "eksproxy-gen reads node groups of terraform-aws-modules/eks/aws "
                                                   "and Karpenter; give its launch template's user data the proxy "
                                                   "by hand (`eksproxy-gen render` prints the parts for AL2023)",
                                    NOT_JUDGED))
            elif block.type == "module" and block.labels and (display, block.labels[0]) not in judged:
                source = block.body.attribute("source")
                text = source.value.value if source and isinstance(source.value, StringExpr) else None
                takes = sorted(_NODE_GROUP_ARGS & {a.name for a in block.body.attributes})
                if takes or (text and _NODE_GROUP_SOURCE.search(text)):
                    why = f"it takes {takes[0]}" if takes else "its source is a node-group module"
                    found.append(Notice(display, line, f"module.{block.labels[0]} ({text or 'a computed source'}) "
                                                       f"is not judged: {why}, but it is not terraform-aws-eks; "
                                                       "run eksproxy-gen on the folder that calls terraform-aws-eks "
                                                       "(a wrapper's own folder), or set the proxy by hand",
                                        NOT_JUDGED))
    return found
