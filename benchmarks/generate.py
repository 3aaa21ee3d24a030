"""Write a synthetic Terraform monorepo: many ordinary stacks, some with a terraform-aws-eks module call.

    python benchmarks/generate.py OUT [--stacks 1500] [--eks 100] [--seed 1]

The default shape is the one the speed targets are stated for: 1,500 stacks,
about 1,600 files and 13 MB, 100 EKS modules with 3 node groups each; every
other stack holds ordinary resources (VPCs, buckets, roles, security groups).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

RESOURCE = '''resource "aws_security_group_rule" "r{n}" {{
  type              = "ingress"
  from_port         = {port}
  to_port           = {port}
  protocol          = "tcp"
  cidr_blocks       = ["10.{a}.{b}.0/24"]
  security_group_id = aws_security_group.main.id
  description       = "rule {n} of stack {stack}: allow service traffic between the tiers of this application"
}}

'''
BUCKET = '''resource "aws_s3_bucket" "b{n}" {{
  bucket = "stack-{stack}-bucket-{n}"
  tags = {{
    Name        = "stack-{stack}-bucket-{n}"
    Environment = var.environment
    Owner       = "team-{owner}"
  }}
}}

'''
EKS = '''module "eks" {{
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "cluster-{stack}"
  kubernetes_version = "1.33"
  service_ipv4_cidr  = "172.20.0.0/16"
  vpc_id             = module.vpc.vpc_id
  subnet_ids         = module.vpc.private_subnets

  eks_managed_node_groups = {{
    general = {{
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = ["m6i.large"]
      min_size       = 2
      max_size       = 6
    }}
    batch = {{
      ami_type       = "AL2023_ARM_64_STANDARD"
      instance_types = ["m7g.xlarge"]

      cloudinit_pre_nodeadm = [
        {{
          content_type = "application/node.eks.aws"
          content      = <<-EOT
            ---
            apiVersion: node.eks.aws/v1alpha1
            kind: NodeConfig
            spec:
              kubelet:
                config:
                  maxPods: 110
          EOT
        }}
      ]
    }}
    spot = {{ ami_type = "AL2023_x86_64_STANDARD", capacity_type = "SPOT" }}
  }}
}}

module "vpc" {{
  source = "terraform-aws-modules/vpc/aws"
  cidr   = "10.{a}.0.0/16"
}}
'''


def stack(rng: random.Random, index: int, eks: bool) -> dict[str, str]:
    files: dict[str, str] = {}
    a, b = rng.randrange(256), rng.randrange(256)
    if eks:
        files["eks.tf"] = EKS.format(stack=index, a=a)
    body = "".join(RESOURCE.format(n=n, port=1000 + n, a=a, b=(b + n) % 256, stack=index) for n in range(18))
    body += "".join(BUCKET.format(n=n, stack=index, owner=rng.randrange(40)) for n in range(6))
    files["main.tf"] = 'resource "aws_security_group" "main" {\n  name = "main"\n}\n\n' + body
    files["variables.tf"] = 'variable "environment" {\n  type    = string\n  default = "prod"\n}\n'
    return files


def generate(out: Path, stacks: int, eks: int, seed: int = 1) -> tuple[int, int]:
    """Write the tree; return (files, bytes)."""
    rng = random.Random(seed)
    with_eks = set(rng.sample(range(stacks), eks))
    count = size = 0
    for index in range(stacks):
        folder = out / f"team-{index % 30:02d}" / f"stack-{index:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in stack(rng, index, index in with_eks).items():
            if name == "variables.tf" and index % 15:
                continue
            (folder / name).write_text(text, encoding="utf-8")
            count += 1
            size += len(text)
    return count, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--stacks", type=int, default=1500)
    parser.add_argument("--eks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    files, size = generate(args.out, args.stacks, args.eks, args.seed)
    print(f"{files} files, {size / 1e6:.1f} MB, {args.eks} EKS modules in {args.stacks} stacks under {args.out}")


if __name__ == "__main__":
    main()
