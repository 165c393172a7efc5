"""A bounded fuzz run of the kiosks' API from its own OpenAPI description (schemathesis):
valid and invalid bodies for every operation, with the kiosk's own id put in so that valid
ones reach the database. No answer may be a server error or break the published schema.

schemathesis' pytest plugin does not run under this pytest, so the test drives its
strategies with hypothesis directly: one bounded run per operation and generation mode.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from central.schemas import MAX_SEQ
from central.storage import Storage
from tests.central_server import add_kiosk, database_url, serve

KIOSK = "fuzz-kiosk"
EXAMPLES = 50  # per operation and mode: 17 runs, 850 cases
# What JSON Schema cannot say (docs/upload.md, contract 2): a batch's range must not run
# backwards, its counts must add up to its rows, its dates must be near the server's.
RULES = ("last_seq must not be below first_seq", '"counts_not_rows"', '"date_out_of_window"')


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    storage = Storage.open(database_url("sqlite", tmp))
    token = add_kiosk(storage, KIOSK)
    try:
        with serve(storage, tmp) as running:
            yield running, token, storage
    finally:
        storage.close()


def operations(url):
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_api_never_fails_on_any_input(fuzzed, mode):
    running, token, storage = fuzzed
    found = operations(running.url)
    assert {op.label for op in found} == {
        "POST /api/v1/counts", "POST /api/v1/heartbeat", "POST /api/v1/catalogue",
        "GET /api/v1/health", "GET /api/v1/updates/latest", "GET /api/v1/batches/latest",
        "GET /api/v1/batches",
        "GET /api/v1/releases/{release_id}/file", "HEAD /api/v1/releases/{release_id}/file"}
    statuses: dict[str, set[int]] = {}
    for operation in found:
        if mode is GenerationMode.NEGATIVE and operation.label == "GET /api/v1/health":
            continue  # it takes no input, so there is nothing invalid to send
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def one(case):
            if isinstance(case.body, dict) and isinstance(case.body.get("kiosk_id"), str):
                case.body["kiosk_id"] = KIOSK
            if mode is GenerationMode.POSITIVE and operation.label == "POST /api/v1/counts":
                believable(case.body, running.clock[0].date().isoformat())
            response = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert response.status_code < 500, (case.body, response.text)
            statuses.setdefault(operation.label, set()).add(response.status_code)
            if mode is GenerationMode.POSITIVE:
                ruled = (response.status_code == 422
                         and any(rule in response.text for rule in RULES))
                case.validate_response(response, excluded_checks=[positive_data_acceptance]
                                       if ruled else None)

        one()
    if mode is GenerationMode.POSITIVE:  # valid bodies really got through to the database
        assert 200 in statuses["POST /api/v1/counts"]
        assert 200 in statuses["POST /api/v1/heartbeat"]
    else:
        assert statuses["POST /api/v1/counts"] - {200}


def believable(body, today):
    """A generated batch made to keep the rules JSON Schema cannot say where it can: dated
    today, its range as long as its counts add up to."""
    if not isinstance(body, dict) or not isinstance(body.get("counts"), list):
        return
    counts = [c for c in body["counts"] if isinstance(c, dict)]
    for c in counts:
        c["date"] = today
    first, ns = body.get("first_seq"), [c.get("n") for c in counts]
    if isinstance(first, int) and ns and all(type(n) is int for n in ns) \
            and first + sum(ns) - 1 <= MAX_SEQ:
        body["last_seq"] = first + sum(ns) - 1
