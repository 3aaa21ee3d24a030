"""CKV_EKSPROXY_6 is eksproxy-gen rule EKSP006: see rules/RULES.md#eksp006-no-proxy-incomplete.

Only metadata lives here; the verdict is eksproxy_gen.policy's, the same code the CLI runs.
"""

from checkov.terraform.checks.module.base_module_check import BaseModuleCheck
from ckv_eksproxy_common import CATEGORIES, SUPPORTED, guideline, judge, name, severity

RULE = "EKSP006"


class NoProxyIncomplete(BaseModuleCheck):
    def __init__(self) -> None:
        super().__init__(name=name(RULE), id="CKV_EKSPROXY_6", categories=CATEGORIES,
                         supported_resources=SUPPORTED, guideline=guideline(RULE))
        self.severity = severity(RULE)

    def scan_module_conf(self, conf):
        return judge(self, RULE, conf)


check = NoProxyIncomplete()
