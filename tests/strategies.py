"""Hypothesis strategies that write Terraform the way real repositories do, for the invariant tests.

Every piece of user content carries a unique marker (``m17x``): in a value, a
full-line comment, or a line of a user part. A marker must survive ``fix``,
once and in order, unless it sits in a part that only sets up the proxy (the
generator knows which, and gives those no marker).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import strategies as st

AMI_TYPES = ("AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2_x86_64", "BOTTLEROCKET_x86_64", None,
             "var.ami_type")
SOURCES = (
    ("terraform-aws-modules/eks/aws", '"~> 21.0"'),
    ("terraform-aws-modules/eks/aws", '">= 20.8"'),
    ("terraform-aws-modules/eks/aws", '"~> 20.31"'),
    ("git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v21.1.0", None),
    ("git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?depth=1&ref="
     "0123456789abcdef0123456789abcdef01234567", None),
    ("git@github.com:terraform-aws-modules/terraform-aws-eks.git?ref=v20.37.2", None),
)
PART_KINDS = ("kubelet", "env", "proxy_script", "disk_script", "mixed_script", "unknown", "yamlencode", "file")


@dataclass
class Doc:
    """A generated folder and what the tests need to know about it."""

    text: str = ""
    files: dict[str, str] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)
    unknown_groups: set[str] = field(default_factory=set)
    copyable: set[str] = field(default_factory=set)
    untouchable: set[str] = field(default_factory=set)
    counter: itertools.count = field(default_factory=itertools.count)

    def marker(self) -> str:
        found = f"m{next(self.counter)}x"
        self.markers.append(found)
        return found


def _heredoc(lines: list[str], indent: str) -> str:
    body = "".join(f"{indent}  {line}\n" if line else "\n" for line in lines)
    return f"<<-EOT\n{body}{indent}EOT"


def _object(pairs: list[tuple[str, str]], indent: str) -> str:
    width = max(len(k) for k, v in pairs if "\n" not in v)
    lines = [f"{indent}  {k.ljust(width)} = {v}" for k, v in pairs]
    return "{\n" + "\n".join(lines) + f"\n{indent}}}"


def _part(doc: Doc, kind: str, indent: str) -> str:
    """One element of cloudinit_pre_nodeadm, written for a ``{`` on a line indented by ``indent``."""
    inner = indent + "  "
    if kind == "kubelet":
        lines = ["---", "apiVersion: node.eks.aws/v1alpha1", "kind: NodeConfig", "spec:", "  kubelet:",
                 "    flags:", f"      - --node-labels=team={doc.marker()}"]
        return _object([("content_type", '"application/node.eks.aws"'), ("content", _heredoc(lines, inner))], indent)
    if kind == "env":
        lines = ["---", "apiVersion: node.eks.aws/v1alpha1", "kind: NodeConfig", "spec:", "  instance:",
                 "    environment:", "      default:", f"        TEAM: {doc.marker()}",
                 "        HTTPS_PROXY: http://old-proxy:8080", "        https_proxy: http://old-proxy:8080"]
        return _object([("content_type", '"application/node.eks.aws"'), ("content", _heredoc(lines, inner))], indent)
    if kind == "proxy_script":
        lines = ["#!/bin/bash", "set -ex", "cat > /etc/environment <<EOF", "HTTP_PROXY=http://old-proxy:8080",
                 "HTTPS_PROXY=http://old-proxy:8080", "NO_PROXY=localhost,127.0.0.1,.corp.example", "EOF",
                 "mkdir -p /etc/systemd/system/containerd.service.d",
                 "printf '[Service]\\nEnvironmentFile=/etc/environment\\n' > "
                 "/etc/systemd/system/containerd.service.d/proxy.conf",
                 "systemctl daemon-reload"]
        return _object([("content_type", '"text/x-shellscript"'), ("content", _heredoc(lines, inner))], indent)
    if kind == "mixed_script":
        lines = ["#!/bin/bash", "cat > /etc/environment <<EOF", "HTTPS_PROXY=http://old-proxy:8080",
                 "https_proxy=http://old-proxy:8080", "EOF", f"sysctl -w net.core.somaxconn={doc.marker()}"]
        return _object([("content_type", '"text/x-shellscript"'), ("content", _heredoc(lines, inner))], indent)
    if kind == "disk_script":
        lines = ["#!/bin/bash", f"echo {doc.marker()} > /etc/motd"]
        return _object([("content_type", '"text/x-shellscript"'), ("content", _heredoc(lines, inner))], indent)
    if kind == "unknown":
        return _object([("content_type", '"text/x-shellscript"'), ("content", "var.user_script")], indent)
    if kind == "yamlencode":
        mark = doc.marker()
        encoded = (f"yamlencode({{\n{inner}  apiVersion = \"node.eks.aws/v1alpha1\"\n{inner}  kind       = "
                   f"\"NodeConfig\"\n{inner}  spec = {{ kubelet = {{ flags = [\"--node-labels=m={mark}\"] }} }}\n"
                   f"{inner}}})")
        return _object([("content_type", '"application/node.eks.aws"'), ("content", encoded)], indent)
    if kind == "file":
        name = f"part{len(doc.files)}.sh"
        doc.files[name] = f"#!/bin/bash\necho {doc.marker()}\n"
        return _object([("content_type", '"text/x-shellscript"'),
                        ("content", f'file("${{path.module}}/{name}")')], indent)
    raise ValueError(kind)


@st.composite
def parts_lists(draw: st.DrawFn, doc: Doc, indent: str) -> str | None:
    kinds = draw(st.lists(st.sampled_from(PART_KINDS), max_size=3))
    if not kinds:
        return draw(st.sampled_from([None, "[]"]))
    if draw(st.integers(0, 3)) == 0:
        elements = ", ".join(_part(doc, k, indent) for k in kinds)
        return f"[{elements}]"
    inner = indent + "  "
    elements = ",\n".join(inner + _part(doc, k, inner) for k in kinds)
    return f"[\n{elements}\n{indent}]"


@st.composite
def group_bodies(draw: st.DrawFn, doc: Doc, indent: str, name: str, shared: str | None) -> str:
    """A node group's object, one line or several."""
    ami = draw(st.sampled_from(AMI_TYPES))
    attrs: list[tuple[str, str]] = []
    if ami == "var.ami_type":
        attrs.append(("ami_type", ami))
        doc.untouchable.add(name)
    elif ami is not None:
        attrs.append(("ami_type", f'"{ami}"'))
    if draw(st.integers(0, 7)) == 0:
        attrs.append(("use_custom_launch_template", "false"))
        doc.untouchable.add(name)
    attrs.append(("name", f'"{doc.marker()}"'))
    if draw(st.booleans()):
        attrs.append(("instance_types", '["m6i.large"]'))
    parts: str | None = None
    if ami is None or ami.startswith(("AL2023", "var.")):
        parts = shared if shared is not None and draw(st.booleans()) else draw(parts_lists(doc, indent + "  "))
    if parts is not None and "var.user_script" in parts and ami is not None and ami.startswith("AL2023") \
            and parts != shared and name not in doc.untouchable:
        doc.unknown_groups.add(name)
    if ami == "BOTTLEROCKET_x86_64" and draw(st.booleans()):
        toml = ["[settings.kubernetes]", f'node-labels = {{ "team" = "{doc.marker()}" }}']
        attrs.append(("bootstrap_extra_args", _heredoc(toml, indent + "  ")))
    if ami == "AL2_x86_64" and draw(st.booleans()):
        attrs.append(("pre_bootstrap_user_data", _heredoc(["#!/bin/bash", f"echo {doc.marker()}"], indent + "  ")))
    one_line = parts is None and all("\n" not in v for _, v in attrs) and draw(st.booleans())
    if one_line:
        return "{ " + ", ".join(f"{k} = {v}" for k, v in attrs) + " }"
    inner = indent + "  "
    single = [(k, v) for k, v in attrs if "\n" not in v]
    width = max(len(k) for k, _ in single)
    lines = [f"{inner}{k.ljust(width)} = {v}" for k, v in single]
    if draw(st.integers(0, 4)) == 0:
        lines[-1] += f" # {doc.marker()}"
    lines += [f"\n{inner}{k} = {v}" for k, v in attrs if "\n" in v]
    if draw(st.booleans()):
        lines.insert(0, f"{inner}# note {doc.marker()}")
    text = "{\n" + "\n".join(lines) + "\n"
    if parts is not None:
        text += f"\n{inner}cloudinit_pre_nodeadm = {parts}\n"
    return text + indent + "}"


@st.composite
def terraform_files(draw: st.DrawFn) -> Doc:
    """A folder with one terraform-aws-eks module call, its groups in any of the shapes real code uses."""
    doc = Doc()
    source, version = draw(st.sampled_from(SOURCES))
    # A call pinned to a commit is judged by the releases whose inputs take its arguments; with v20's names
    # those are v17 to v20, which choose templates differently, so no group's family can be told (EKSP015,
    # tested in test_trust). The invariants here need groups that are judged.
    v20_names = draw(st.booleans()) and "ref=0123456789" not in source
    names = draw(st.lists(st.sampled_from(["general", "batch", "gpu-pool", "system", "spot", "a"]), min_size=1,
                          max_size=4, unique=True))
    shapes = {n: draw(st.sampled_from(["inline", "inline", "inline", "local", "merge", "conditional"]))
              for n in names}
    ignored = {n for n in names if draw(st.integers(0, 5)) == 0}
    doc.untouchable |= ignored
    partly = {n: draw(st.sampled_from(["EKSP013", "EKSP006", "EKSP00"])) for n in names
              if n not in ignored and draw(st.integers(0, 6)) == 0}
    locals_lines: list[str] = []
    shared = None
    if draw(st.integers(0, 3)) == 0:
        parts = draw(parts_lists(doc, "  "))
        if parts is not None and "var.user_script" not in parts:
            locals_lines.append(f"  shared_parts = {parts}")
            shared = "local.shared_parts"
    if any(s == "merge" for s in shapes.values()):
        locals_lines.append(f'  common = {{\n    capacity_type = "ON_DEMAND"\n    # {doc.marker()}\n  }}')
    entries: list[str] = []
    for name in names:
        body = draw(group_bodies(doc, "    " if shapes[name] == "inline" else "  ", name, shared))
        key = f'"{name}"' if "-" in name else name
        comment = "    # eksproxy-gen:ignore ALL set up by hand\n" if name in ignored else ""
        if name in partly:
            comment = f"    # eksproxy-gen:ignore {partly[name]} handled elsewhere\n"
        local = f"group_{name.replace('-', '_')}"
        if shapes[name] == "inline":
            entries.append((comment, key, body))
        elif shapes[name] == "local":
            locals_lines.append(f"  {local} = {body}")
            entries.append((comment, key, f"local.{local}"))
        elif shapes[name] == "merge":
            locals_lines.append(f"  {local} = {body}")
            entries.append((comment, key, f"merge(local.common, local.{local})"))
        else:
            locals_lines.append(f"  {local} = {body}")
            entries.append((comment, key, f'merge(local.{local}, var.spot ? {{ capacity_type = "SPOT" }} : {{}})'))
    header = f'module "eks" {{\n  source = "{source}"\n'
    if version is not None:
        header += f"  version = {version}\n"
    if v20_names:
        header += '\n  cluster_name              = "demo"\n  cluster_service_ipv4_cidr = "172.20.0.0/16"\n'
        if draw(st.booleans()):
            kinds = draw(st.lists(st.sampled_from(["kubelet", "disk_script", "proxy_script"]), max_size=2))
            inner = "      "
            before = set(doc.markers)
            listed = ",\n".join(inner + _part(doc, k, inner) for k in kinds)
            doc.copyable |= set(doc.markers) - before
            parts = f"[\n{listed}\n    ]" if kinds else "[]"
            header += (f'\n  eks_managed_node_group_defaults = {{\n    ami_type = "AL2023_x86_64_STANDARD"\n\n'
                       f"    cloudinit_pre_nodeadm = {parts}\n  }}\n")
    else:
        header += '\n  name               = "demo"\n  kubernetes_version = "1.33"\n'
        if draw(st.integers(0, 4)) == 0:
            header += '  ip_family          = "ipv6"\n'
    header += f'  tags = {{ marker = "{doc.marker()}" }}\n'
    text = ""
    if locals_lines:
        text += "locals {\n" + "\n\n".join(locals_lines) + "\n}\n\n"
    blank = draw(st.booleans())
    rows = [f"{comment}    {key} = {body}" for comment, key, body in entries]
    text += header + "\n  eks_managed_node_groups = {\n" + ("\n\n" if blank else "\n").join(rows) + "\n  }\n}\n"
    doc.text = text
    return doc


NODECLASS_TEMPLATE = """\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: ${name}
spec:
  amiSelectorTerms:
    - alias: al2023@latest
  role: ${role}
  subnetSelectorTerms:
    - tags:
        karpenter.sh/discovery: demo
  securityGroupSelectorTerms:
    - tags:
        karpenter.sh/discovery: demo
"""
CARRIERS = (("local_file", "content"), ("kubectl_manifest", "yaml_body"), ("kubernetes_manifest", "manifest"))


@st.composite
def elsewhere_written(draw: st.DrawFn) -> Doc:
    """A folder whose ``main.tf`` carries a node class or a Karpenter release written in another file.

    Its bytes never spell the node class's kind nor the chart's name: the
    manifest comes from ``templatefile()``/``file()`` (directly or through a
    local in ``locals.tf``), the chart's name from a local. Each is judged
    (no proxy anywhere), so a report without findings means it went unread.
    """
    doc = Doc()
    name = draw(st.sampled_from(["default", "general", "gpu"]))
    template = draw(st.sampled_from(["nodeclass.yaml.tpl", "templates/nc.yaml.tftpl", "manifests/nc.yaml"]))
    if draw(st.integers(0, 3)) == 0:
        chart = draw(st.sampled_from(["local.chart", '"${local.chart}"']))
        doc.files["locals.tf"] = 'locals {\n  chart = "karpenter"\n  repo  = "oci://public.ecr.aws/karpenter"\n}\n'
        doc.text = (f'resource "helm_release" "autoscaler" {{\n  name       = {chart}\n  repository = local.repo\n'
                    f'  chart      = {chart}\n  namespace  = "kube-system"\n\n  values = [<<-EOT\n'
                    f'    settings:\n      clusterName: demo\n    EOT\n  ]\n}}\n')
        return doc
    doc.files[template] = NODECLASS_TEMPLATE.replace("${name}", name).replace("${role}", "NodeRole") \
        if template.endswith(".yaml") else NODECLASS_TEMPLATE
    kind, attribute = draw(st.sampled_from(CARRIERS))
    if template.endswith(".yaml"):
        read = f'file("${{path.module}}/{template}")'
    else:
        read = f'templatefile("${{path.module}}/{template}", {{\n    name = "{name}"\n    role = "NodeRole"\n  }})'
    if kind == "kubernetes_manifest":
        read = f"yamldecode({read})"
    if draw(st.booleans()):
        doc.files["locals.tf"] = f"locals {{\n  manifest = {read}\n}}\n"
        read = "local.manifest"
    doc.text = f'resource "{kind}" "nodes" {{\n  {attribute} = {read}\n}}\n'
    return doc
