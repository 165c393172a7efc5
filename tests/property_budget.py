"""One budget for the property-based tests (hypothesis) of parsers fed with outside bytes.

Fixed and derandomized, so a CI run is repeatable and the suite stays fast: a parser test that
needs more examples says why beside its own `settings`.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

PARSER_BUDGET = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow])
