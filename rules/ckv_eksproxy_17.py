"""CKV_EKSPROXY_17 is eksproxy-gen rule EKSP017: see rules/RULES.md#eksp017-al2-end-of-life.

Only metadata lives here; the verdict is eksproxy_gen.policy's, the same code the CLI runs.
"""

from checkov.terraform.checks.module.base_module_check import BaseModuleCheck
from ckv_eksproxy_common import CATEGORIES, SUPPORTED, guideline, judge, name, severity

RULE = "EKSP017"


class Al2EndOfLife(BaseModuleCheck):
    def __init__(self) -> None:
        super().__init__(name=name(RULE), id="CKV_EKSPROXY_17", categories=CATEGORIES,
                         supported_resources=SUPPORTED, guideline=guideline(RULE))
        self.severity = severity(RULE)

    def scan_module_conf(self, conf):
        return judge(self, RULE, conf)


check = Al2EndOfLife()
