"""CKV_EKSPROXY_3 is eksproxy-gen rule EKSP003: see rules/RULES.md#eksp003-containerd-not-covered.

Only metadata lives here; the verdict is eksproxy_gen.policy's, the same code the CLI runs.
"""

from checkov.terraform.checks.module.base_module_check import BaseModuleCheck
from ckv_eksproxy_common import CATEGORIES, SUPPORTED, guideline, judge, name, severity

RULE = "EKSP003"


class ContainerdNotCovered(BaseModuleCheck):
    def __init__(self) -> None:
        super().__init__(name=name(RULE), id="CKV_EKSPROXY_3", categories=CATEGORIES,
                         supported_resources=SUPPORTED, guideline=guideline(RULE))
        self.severity = severity(RULE)

    def scan_module_conf(self, conf):
        return judge(self, RULE, conf)


check = ContainerdNotCovered()
