"""The lab: small real services, each with one classic cause of intermittent failure and its fixed
twin, plus healthy controls, on throwaway servers bound to 127.0.0.1.

>>> from tracehound import lab
>>> "demo" in [s.name for s in lab.scenarios()]
True
>>> with lab.up("demo") as inst:          # doctest: +SKIP
...     print(inst.url, inst.app_log)
>>> lab.check(["demo"])[0].ok             # doctest: +SKIP
True

Adding a scenario is adding one folder under ``lab/scenarios/``: see :mod:`tracehound.lab.scenario`
for the format of its ``scenario.yaml``. Families of generated variants (``family/variant``) live
under ``lab/families/``: see :mod:`tracehound.lab.family`.
"""

from tracehound.lab.check import CheckResult, Measurement, check, measure
from tracehound.lab.family import FAMILIES_DIR, Family, Variant, families, get_family, get_variant, resolve, variants
from tracehound.lab.instance import Instance, up
from tracehound.lab.load import Load
from tracehound.lab.scenario import SCENARIOS_DIR, Scenario, TargetSpec, get_scenario, load_scenario, scenarios

__all__ = [
    "FAMILIES_DIR",
    "SCENARIOS_DIR",
    "CheckResult",
    "Family",
    "Instance",
    "Load",
    "Measurement",
    "Scenario",
    "TargetSpec",
    "Variant",
    "check",
    "families",
    "get_family",
    "get_variant",
    "get_scenario",
    "load_scenario",
    "measure",
    "resolve",
    "scenarios",
    "up",
    "variants",
]
