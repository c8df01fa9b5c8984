"""The OpenAPI schema is valid and complete, Swagger UI is served locally, and schemathesis finds no 5xx."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backoffice.wsgi import application
from tests.api.conftest import key_client

EXPECTED_PATHS = {
    "/api/v1/auth/token/",
    "/api/v1/products/",
    "/api/v1/products/{id}/",
    "/api/v1/suppliers/",
    "/api/v1/suppliers/{id}/",
    "/api/v1/warehouses/",
    "/api/v1/warehouses/{id}/",
    "/api/v1/stock-levels/",
    "/api/v1/stock-levels/{id}/",
    "/api/v1/stock-adjustments/",
    "/api/v1/sales-orders/",
    "/api/v1/sales-orders/{id}/",
    "/api/v1/purchase-orders/",
    "/api/v1/purchase-orders/{id}/",
    "/api/v1/purchase-orders/{id}/approve/",
    "/api/v1/purchase-orders/{id}/send/",
    "/api/v1/purchase-orders/{id}/receive/",
    "/api/v1/purchase-orders/{id}/cancel/",
    "/api/v1/texts/",
    "/api/v1/texts/{id}/",
    "/api/v1/imports/",
    "/api/v1/imports/{id}/",
    "/api/v1/webhooks/",
    "/api/v1/webhooks/{id}/",
    "/api/v1/webhooks/{id}/deliveries/",
    "/api/v1/forecasts/",
    "/api/v1/forecasts/{id}/",
    "/api/v1/suggestions/",
    "/api/v1/suggestions/{id}/",
    "/api/v1/suggestions/{id}/approve/",
    "/api/v1/suggestions/{id}/reject/",
    "/api/v1/suggestions/{id}/quantity/",
    "/api/v1/jobs/",
    "/api/v1/jobs/{id}/",
    "/api/v1/jobs/{id}/cancel/",
}


@pytest.fixture
def openapi(db) -> dict:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(openapi):
    validate_schema(openapi)
    assert openapi["openapi"].startswith("3.")
    assert set(openapi["paths"]) >= EXPECTED_PATHS


def test_every_operation_documents_its_errors(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert {"400", "401", "429"} <= codes, (method, path)
            if path != "/api/v1/auth/token/":
                assert {"403", "404"} <= codes, (method, path)
                assert "X-Merchant" in {p["name"] for p in operation.get("parameters", [])}, (method, path)
    sales = openapi["paths"]["/api/v1/sales-orders/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in sales["parameters"]}
    assert set(sales["responses"]) >= {"200", "201", "409"}
    approve = openapi["paths"]["/api/v1/purchase-orders/{id}/approve/"]["post"]
    assert approve["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Conflict"
    }
    conflict = {"$ref": "#/components/schemas/Conflict"}
    for path in ("/api/v1/suggestions/{id}/approve/", "/api/v1/jobs/", "/api/v1/jobs/{id}/cancel/"):
        assert openapi["paths"][path]["post"]["responses"]["409"]["content"]["application/json"]["schema"] == conflict
    assert "202" in openapi["paths"]["/api/v1/jobs/"]["post"]["responses"]
    product = openapi["components"]["schemas"]["Product"]["properties"]
    assert product["price"] == {"type": "string", "format": "decimal", "pattern": product["price"]["pattern"]}


def test_swagger_ui_is_served_without_a_cdn(db):
    page = APIClient().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


# The live schema, called in-process through WSGI; every operation is fuzzed with a few examples.
FUZZ_SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
FUZZ_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATIONS = [result.ok() for result in FUZZ_SCHEMA.get_all_operations()]


@pytest.fixture
def keep_test_connection():
    """Requests through WSGI would close the test's database connection when they finish (as the test client
    prevents); keep it open for the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_schemathesis_finds_no_server_error(keep_test_connection, shop, mug, other_shop, operation):
    headers = {"Authorization": key_client(shop.admin)._credentials["HTTP_AUTHORIZATION"]}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=FUZZ_CHECKS)

    call()
