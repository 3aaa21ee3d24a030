# A private EKS cluster whose nodes reach the internet only through a corporate proxy.

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name = "private"
  cidr = "10.20.0.0/16"
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "payments"
  kubernetes_version = "1.33"
  vpc_id             = module.vpc.vpc_id
  subnet_ids         = module.vpc.private_subnets

  endpoint_private_access = true
  service_ipv4_cidr       = "172.20.0.0/16"

  eks_managed_node_groups = {
    # No proxy at all: nodes never join.
    general = {
      instance_types = ["m6i.large"]
      min_size       = 2
      max_size       = 6
      desired_size   = 2
    }

    # The script people copy between repositories.
    batch = {
      ami_type       = "AL2023_ARM_64_STANDARD"
      instance_types = ["m7g.xlarge"]

      cloudinit_pre_nodeadm = [
        {
          content_type = "text/x-shellscript"
          content      = <<-EOT
            #!/bin/bash
            set -ex
            cat > /etc/environment <<EOF
            HTTP_PROXY=http://proxy.corp.example:3128
            HTTPS_PROXY=http://proxy.corp.example:3128
            NO_PROXY=10.20.0.0/16,localhost,127.0.0.1,169.254.169.254,.amazonaws.com
            EOF
            mkdir -p /etc/systemd/system/containerd.service.d /etc/systemd/system/nodeadm.service.d
            printf '[Service]\nEnvironmentFile=/etc/environment\n' > /etc/systemd/system/containerd.service.d/proxy.conf
            printf '[Service]\nEnvironmentFile=/etc/environment\n' > /etc/systemd/system/nodeadm.service.d/proxy.conf
            systemctl daemon-reload
          EOT
        },
        {
          content_type = "application/node.eks.aws"
          content      = <<-EOT
            ---
            apiVersion: node.eks.aws/v1alpha1
            kind: NodeConfig
            spec:
              kubelet:
                config:
                  maxPods: 58
          EOT
        }
      ]
    }
  }
}
