"""CKV_EKSPROXY_11 is eksproxy-gen rule EKSP011: see rules/RULES.md#eksp011-proxy-differs-from-config.

Only metadata lives here; the verdict is eksproxy_gen.policy's, the same code the CLI runs.
"""

from checkov.terraform.checks.module.base_module_check import BaseModuleCheck
from ckv_eksproxy_common import CATEGORIES, SUPPORTED, guideline, judge, name, severity

RULE = "EKSP011"


class ProxyDiffersFromConfig(BaseModuleCheck):
    def __init__(self) -> None:
        super().__init__(name=name(RULE), id="CKV_EKSPROXY_11", categories=CATEGORIES,
                         supported_resources=SUPPORTED, guideline=guideline(RULE))
        self.severity = severity(RULE)

    def scan_module_conf(self, conf):
        return judge(self, RULE, conf)


check = ProxyDiffersFromConfig()
