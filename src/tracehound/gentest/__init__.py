"""``tracehound gen-test``: a pytest regression test that replays the load that broke the service.

An investigation ends with a fix; the regression test keeps it fixed. From the report this
module takes the experiment that failed most, writes its load shape out literally (users and
duration, or arrival rate and duration, or stages; a flow inlined as YAML, with the pauses the
experiment added), and asserts the SLO that ``tracehound verify`` would hold it to: the catalog's
verification criteria for the top cause unless ``--slo`` says otherwise. The test runs through
the pytest plugin's ``tracehound_probe`` fixture, so it stays a dozen lines a person can read,
keep in their repository and edit.

"Failed most" is the experiment whose failure rate is highest at its lower 95 % confidence
bound (Wilson), so one failure in two requests does not outrank forty in a hundred: the test
must fail every time against the bug, not once in a while.

Secrets are never written into the test: a credential header, a secret-looking JSON field or
flow variable, and a body that carries credentials are read from environment variables
(``require_env``) when the test runs, and the test is skipped, naming them, while they are unset.
"""

from __future__ import annotations

from tracehound.gentest.choice import SURE_BET, breaks_again
from tracehound.gentest.generated import BadGenTest, GeneratedTest, generate, write_test
from tracehound.gentest.replay import Replay

__all__ = ["SURE_BET", "BadGenTest", "GeneratedTest", "Replay", "breaks_again", "generate", "write_test"]
