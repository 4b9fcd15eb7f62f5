"""The code reviewer: Python AST rules for the patterns that make web backends fail under load.

    from tracehound.review import review
    result = review("services/orders")          # a folder (or one file)
    for v in result.violations:
        print(v.location(), v.code, v.message, [r.label for r in v.routes])

It reads the code without running it, understands FastAPI (``Depends``, ``yield`` dependencies,
``lifespan``, routers), Flask and Django views, and follows calls from each endpoint into the
service and repository modules of the same code base, so that every finding knows which routes
it is on. Imports resolve from the import root found above the folder given (``review("app")``
and ``review(".")`` see the same code); imports that resolve to nothing are counted in
``Review.unresolved``. Rules are documented as data (:mod:`tracehound.review.rules`, ``docs/rules/``) and
listed in :mod:`tracehound.review.registry`; ``tracehound review DIR`` is the command, and
:mod:`tracehound.agents.code` turns findings into ``code:`` signals for the diagnoser.
"""

from tracehound.review.files import BadCodePath
from tracehound.review.formats import FORMATS, render
from tracehound.review.project import Project
from tracehound.review.registry import all_rules, get_rule
from tracehound.review.reviewer import Review, Violation, review
from tracehound.review.routes import Route
from tracehound.review.rules import Rule

__all__ = ["FORMATS", "BadCodePath", "Project", "Review", "Route", "Rule", "Violation", "all_rules", "get_rule",
           "render", "review"]
