"""EKS nodes eksproxy-gen finds but cannot judge, said in every output, so "0 findings" means judged and fine.

A raw ``aws_eks_node_group`` (with its own ``aws_launch_template``), or a
module of node groups that is not terraform-aws-eks (a wrapper around it,
another community module), boots nodes whose proxy set-up no rule reads. They
are not findings (nothing is known to be wrong) but must never pass for
judged. The same holds for EKS Auto Mode nodes (a terraform-aws-eks call's
``compute_config``, an Auto Mode ``NodeClass`` manifest: they take no user
data) and for a Karpenter controller installed by a module
(``enable_karpenter``, as aws-ia/eks-blueprints-addons does), whose chart
values no rule reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..discover import AUTO_MODE_ADVICE
from ..hcl import Block, Document, Literal, ObjectExpr, StringExpr
from ..model import ModuleCall
from ..report import NOT_JUDGED, Notice

_NODE_GROUP_ARGS = frozenset({"eks_managed_node_groups", "self_managed_node_groups", "node_groups",
                              "managed_node_groups", "worker_groups", "node_pools"})
_NODE_GROUP_SOURCE = re.compile(r"node[-_]?group", re.I)
_AUTO_MODE_ARGS = ("compute_config", "cluster_compute_config")  # terraform-aws-eks v21, v20
_MANIFEST_ARGS = {"kubectl_manifest": "yaml_body", "kubernetes_manifest": "manifest", "local_file": "content"}
_AUTO_MODE_KIND = re.compile(r"""^\s*"?kind"?\s*[:=]\s*["']?NodeClass\b""", re.M)


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
            elif block.type == "resource" and len(block.labels) == 2 and _auto_mode_manifest(doc, block):
                found.append(Notice(display, line, f"{'.'.join(block.labels)} is not judged: it holds an EKS Auto "
                                                   f"Mode NodeClass (eks.amazonaws.com); {AUTO_MODE_ADVICE}",
                                    NOT_JUDGED))
            if block.type != "module" or not block.labels:
                continue
            if (display, block.labels[0]) in judged:
                found += _auto_mode(display, line, block)
                continue
            found += _karpenter_addon(display, line, block) + _node_group_module(display, line, block)
    return found


def _node_group_module(display: str, line: int, block: Block) -> list[Notice]:
    """A module of node groups that is not terraform-aws-eks (a wrapper, another community module)."""
    source = block.body.attribute("source")
    text = source.value.value if source and isinstance(source.value, StringExpr) else None
    takes = sorted(_NODE_GROUP_ARGS & {a.name for a in block.body.attributes})
    if not takes and not (text and _NODE_GROUP_SOURCE.search(text)):
        return []
    why = f"it takes {takes[0]}" if takes else "its source is a node-group module"
    return [Notice(display, line, f"module.{block.labels[0]} ({text or 'a computed source'}) is not judged: {why}, "
                                  "but it is not terraform-aws-eks; run eksproxy-gen on the folder that calls "
                                  "terraform-aws-eks (a wrapper's own folder), or set the proxy by hand", NOT_JUDGED)]


def _enabled(block: Block, name: str, key: str | None = None) -> bool:
    """The argument is set and not literally off (``false``, ``null``, or ``{ enabled = false }``)."""
    attr = block.body.attribute(name)
    if attr is None:
        return False
    value = attr.value
    if key is not None and isinstance(value, ObjectExpr):
        elem = value.get(key)
        if elem is None:
            return False
        value = elem.value
    return not (isinstance(value, Literal) and value.value in (False, None))


def _auto_mode(display: str, line: int, block: Block) -> list[Notice]:
    """A terraform-aws-eks call with EKS Auto Mode on: its nodes are not node groups any rule reads."""
    for name in _AUTO_MODE_ARGS:
        if _enabled(block, name, "enabled"):
            return [Notice(display, line, f"module.{block.labels[0]}'s {name} (EKS Auto Mode) is not judged: "
                                          f"{AUTO_MODE_ADVICE}", NOT_JUDGED)]
    return []


def _karpenter_addon(display: str, line: int, block: Block) -> list[Notice]:
    """A module that installs the Karpenter controller itself: its chart values are not a ``helm_release`` any
    rule reads."""
    if not _enabled(block, "enable_karpenter"):
        return []
    source = block.body.attribute("source")
    text = source.value.value if source and isinstance(source.value, StringExpr) else None
    return [Notice(display, line, f"module.{block.labels[0]} ({text or 'a computed source'}) installs the Karpenter "
                                  "controller (enable_karpenter), which is not judged: eksproxy-gen reads a "
                                  "helm_release of the karpenter chart; give the controller HTTPS_PROXY, HTTP_PROXY "
                                  "and NO_PROXY in controller.env of the module's karpenter values by hand",
                   NOT_JUDGED)]


def _auto_mode_manifest(doc: Document, block: Block) -> bool:
    """A manifest carrier whose text writes an Auto Mode NodeClass (``eks.amazonaws.com``, ``kind: NodeClass``)."""
    name = _MANIFEST_ARGS.get(block.labels[0])
    attr = block.body.attribute(name) if name else None
    if attr is None:
        return False
    text = doc.source(attr.value.span)
    return "eks.amazonaws.com" in text and _AUTO_MODE_KIND.search(text) is not None
