"""Forecasting endpoints: the published forecasts, replenishment suggestions and pipeline runs.

Each validates, calls one service (or selector) and serialises the result. The forecasting services refuse a
change to a row in the wrong state (a suggestion already decided, a run already finished) with a
``ValidationError`` on ``status``; here that is a 409, like an illegal purchase-order transition.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from forecasting import selectors, services
from forecasting.api import filters
from forecasting.api.serializers import (
    ForecastSerializer,
    JobSerializer,
    SuggestionQuantitySerializer,
    SuggestionRejectSerializer,
    SuggestionSerializer,
)
from forecasting.models import JobRun, ProductForecast, ReplenishmentSuggestion
from integrations.api.common import MerchantViewSet
from inventory.api.serializers import EmptySerializer
from inventory.models import Role
from inventory.services import IllegalTransition


@contextmanager
def state_conflicts_as_409() -> Iterator[None]:
    """Raise a service's ``ValidationError`` on ``status`` alone as ``IllegalTransition`` (409); others pass."""
    try:
        yield
    except IllegalTransition:
        raise
    except ValidationError as error:
        if hasattr(error, "error_dict") and set(error.error_dict) == {"status"}:
            raise IllegalTransition(error.error_dict) from error
        raise


def _validated(serializer_class: type[BaseSerializer[Any]], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data if request.data is not None else {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# Forecasts


@extend_schema_view(
    list=extend_schema(
        description="The forecasts of the merchant's published pipeline run, one per product (empty before the "
        "first run is published). A run being computed stays out of sight until it is published whole."
    ),
    retrieve=extend_schema(description="One product's published forecast: mean and quantiles per period."),
)
class ForecastViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    serializer_class = ForecastSerializer
    filterset_class = filters.ForecastFilter
    ordering_fields = ["sku", "method", "segment", "start_date", "id"]
    ordering = ["sku", "id"]
    queryset = ProductForecast.objects.none()

    def get_queryset(self) -> QuerySet[ProductForecast]:
        return selectors.product_forecast_list_published(merchant=self.merchant)


# Suggestions

_SUGGESTION_RESPONSES = {200: SuggestionSerializer}


@extend_schema_view(
    list=extend_schema(
        description="Suggested order lines of every pipeline run, each on its supplier's draft purchase order "
        "until decided: open, approved, rejected, or superseded by a later run. Filter with status=open for the "
        "lines waiting for a decision."
    ),
    retrieve=extend_schema(description="One suggested order line with the reasoning behind its quantity."),
)
class SuggestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    """Replenishment suggestions and their decisions. Buyers and admins approve, reject or change the quantity
    of an open line while its purchase order is a draft; any other change is 409."""

    serializer_class = SuggestionSerializer
    filterset_class = filters.SuggestionFilter
    ordering_fields = [
        "supplier_name",
        "sku",
        "status",
        "quantity",
        "suggested_quantity",
        "unit_cost",
        "created_at",
        "decided_at",
        "id",
    ]
    ordering = ["supplier_name", "sku", "id"]
    queryset = ReplenishmentSuggestion.objects.none()
    required_roles: ClassVar[dict[str, str]] = {"approve": Role.BUYER, "reject": Role.BUYER, "quantity": Role.BUYER}
    conflict_actions: ClassVar[dict[str, tuple[str, ...]]] = {
        "approve": ("409",),
        "reject": ("409",),
        "quantity": ("409",),
    }

    def get_queryset(self) -> QuerySet[ReplenishmentSuggestion]:
        return (
            selectors.suggestion_list_for_merchant(merchant=self.merchant, status=None)
            .select_related("decided_by")
            .annotate(sku=F("product__sku"), supplier_name=F("supplier__name"))
        )

    def _respond(self, suggestion: ReplenishmentSuggestion) -> Response:
        return Response(SuggestionSerializer(self.get_queryset().get(pk=suggestion.pk)).data)

    @extend_schema(request=EmptySerializer, responses=_SUGGESTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve an open line: it stays on the supplier's draft order, ticked as approved."""
        suggestion = self.get_object()
        _validated(EmptySerializer, request)
        with state_conflicts_as_409():
            services.suggestion_approve(suggestion=suggestion, user=request.user)
        return self._respond(suggestion)

    @extend_schema(request=SuggestionRejectSerializer, responses=_SUGGESTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject an open line with a reason: it leaves the draft order (an emptied draft is cancelled)."""
        suggestion = self.get_object()
        data = _validated(SuggestionRejectSerializer, request)
        with state_conflicts_as_409():
            services.suggestion_reject(suggestion=suggestion, reason=data["reason"], user=request.user)
        return self._respond(suggestion)

    @extend_schema(request=SuggestionQuantitySerializer, responses=_SUGGESTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def quantity(self, request: Request, pk: str | None = None) -> Response:
        """Change the quantity of an open line and of its draft order line (in whole cases, at least the MOQ);
        the change is recorded on the order. The line stays open."""
        suggestion = self.get_object()
        data = _validated(SuggestionQuantitySerializer, request)
        with state_conflicts_as_409():
            services.suggestion_set_quantity(suggestion=suggestion, quantity=data["quantity"], user=request.user)
        return self._respond(suggestion)


# Pipeline runs


@extend_schema_view(
    list=extend_schema(description="Pipeline runs of the merchant, newest first, each with its steps."),
    retrieve=extend_schema(description="One pipeline run with its steps: status, chunks done, timings, errors."),
    create=extend_schema(
        request=EmptySerializer,
        responses={202: JobSerializer},
        description="Start a pipeline run (texts, forecasts, policies, suggestions, draft purchase orders) for "
        "the merchant; it is queued and this returns at once with the queued run. While another run is queued "
        "or running, a start is refused with 409 (code pipeline_already_running).",
    ),
)
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, MerchantViewSet):
    serializer_class = JobSerializer
    filterset_class = filters.JobFilter
    ordering_fields = ["created_at", "run_date", "id"]
    ordering = ["-created_at", "-id"]
    queryset = JobRun.objects.none()
    required_roles: ClassVar[dict[str, str]] = {"create": Role.BUYER, "cancel": Role.BUYER}
    conflict_actions: ClassVar[dict[str, tuple[str, ...]]] = {"create": ("409",), "cancel": ("409",)}

    def get_queryset(self) -> QuerySet[JobRun]:
        return selectors.job_list_for_merchant(merchant=self.merchant).select_related("requested_by")

    def _respond(self, job: JobRun, code: int = status.HTTP_200_OK) -> Response:
        return Response(JobSerializer(self.get_queryset().get(pk=job.pk)).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _validated(EmptySerializer, request)
        job = services.pipeline_start(merchant=self.merchant, trigger="api", user=request.user)
        return self._respond(job, status.HTTP_202_ACCEPTED)

    @extend_schema(request=EmptySerializer, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a queued or running run: its chunks stop at their next check and nothing is published; the
        last published results stay. A run that has finished is 409."""
        job = self.get_object()
        _validated(EmptySerializer, request)
        with state_conflicts_as_409():
            services.pipeline_cancel(job=job, user=request.user)
        return self._respond(job)
