"""``analyst serve``'s API as its users' tools see it: its OpenAPI document passes a validator,
and schemathesis, reading only that document, calls every operation of the live server (the
loopback test model behind it) with its generated examples: no 5xx, every response as
documented."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("openapi_spec_validator")

from openapi_spec_validator import validate  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from analyst.library import Library, scan  # noqa: E402
from analyst.settings import Settings  # noqa: E402
from tests.conftest import EXAMPLES  # noqa: E402
from tests.test_serve import Served  # noqa: E402


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from tests.fakeserver import FakeOpenAIServer

    model = FakeOpenAIServer().start()
    shelf = tmp_path_factory.mktemp("library")
    for report in (EXAMPLES / "digest" / "reports").glob("*.json"):
        shutil.copy(report, shelf)  # the library's list and search answer with entries
    library = Library(shelf)
    scan(library)
    settings = Settings(
        base_url=model.base_url,
        model="fake-model",
        max_retries=0,
        timeout=10,
        cache_dir=tmp_path_factory.mktemp("cache"),
    )
    with Served(replace(settings), concurrency=2, queue=8, library=library) as running:
        yield running
    model.stop()
    library.close()


@pytest.fixture(scope="module")
def api(live: Served) -> Any:
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json")


def test_the_openapi_document_is_valid(live: Served) -> None:
    with live.client() as http:
        document = http.get("/openapi.json").json()
    validate(document)  # raises on an invalid OpenAPI 3.1 document


def test_every_operation_answers_as_documented(api: Any) -> None:
    """schemathesis's default examples for each operation (its pytest plugin does not load under
    this pytest, so its strategies are driven here with hypothesis, as the plugin would)."""
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings

    operations = [result.ok() for result in api.get_all_operations()]
    assert {o.path for o in operations} >= {
        "/v1/reports",
        "/v1/reports/{id}",
        "/healthz",
        "/v1/library",
        "/v1/library/{id}",
        "/v1/library/rescan",
        "/v1/library/digest",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            derandomize=True,
        )
        def answers(case: Any) -> None:
            # Every response as documented, and never a 5xx the document does not give; a
            # request the schema allows may still be refused for what it holds (a URL that
            # cannot be fetched, an article with no text), so positive_data_acceptance is off.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        answers()
