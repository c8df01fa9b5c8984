"""The texts endpoint: reviews, customer messages, enquiries, search terms and notes for the signal pipeline."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.api.common import MerchantViewSet, UtcDateTimeFilter
from inventory.models import Role
from nlp.api.serializers import MAX_TEXTS_PER_REQUEST, TextCreateSerializer, TextDocumentSerializer
from nlp.models import TextDocument, TextSource
from nlp.services import TextInput, texts_create


class TextFilter(filters.FilterSet):
    source = filters.ChoiceFilter(choices=TextSource.choices)
    product = filters.NumberFilter(field_name="product_id")
    sku = filters.CharFilter(field_name="sku_given", max_length=64)
    written_after = UtcDateTimeFilter(field_name="written_at", lookup_expr="gte")
    written_before = UtcDateTimeFilter(field_name="written_at", lookup_expr="lt")

    class Meta:
        model = TextDocument
        fields = ["source", "product", "sku", "written_after", "written_before"]


_TEXT_INPUT = {"$ref": "#/components/schemas/TextCreate"}


@extend_schema_view(
    create=extend_schema(
        request={"application/json": {"oneOf": [_TEXT_INPUT, {"type": "array", "items": _TEXT_INPUT}]}},
        responses={
            201: OpenApiResponse(
                TextDocumentSerializer, description="The stored text, or a list of them for a batch (in order)."
            )
        },
        description=f"Store one text (an object) or a batch (a list of at most {MAX_TEXTS_PER_REQUEST}). A text "
        "already stored (same source, SKU, time and words) is returned, not stored twice. Any bad text "
        "rejects the whole batch; errors are keyed by the text's index.",
    )
)
class TextViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, MerchantViewSet):
    serializer_class = TextDocumentSerializer
    filterset_class = TextFilter
    ordering_fields = ["written_at", "created_at", "id"]
    ordering = ["-written_at", "-id"]
    queryset = TextDocument.objects.none()
    required_roles: ClassVar[dict[str, str]] = {"create": Role.BUYER}

    def get_queryset(self) -> QuerySet[TextDocument]:
        return TextDocument.objects.filter(merchant=self.merchant).order_by("-written_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        batch = isinstance(request.data, list)
        if batch and len(request.data) > MAX_TEXTS_PER_REQUEST:
            raise serializers.ValidationError(
                {"non_field_errors": [f"At most {MAX_TEXTS_PER_REQUEST} texts per request."]}
            )
        serializer = (
            TextCreateSerializer(data=request.data, many=True, allow_empty=False)
            if batch
            else TextCreateSerializer(data=request.data)
        )
        if not serializer.is_valid():
            errors = serializer.errors
            if isinstance(errors, list):  # a batch: key each bad text's errors by its index
                errors = {str(index): error for index, error in enumerate(errors) if error}
            raise serializers.ValidationError(errors)
        items = serializer.validated_data if batch else [serializer.validated_data]
        documents = texts_create(
            merchant=self.merchant,
            texts=[
                TextInput(
                    source=item["source"],
                    text=item["text"],
                    written_at=item.get("written_at"),
                    sku=item["sku"],
                    language=item["language"],
                    external_id=item["external_id"],
                )
                for item in items
            ],
            user=request.user,
        )
        data = TextDocumentSerializer(documents, many=True).data
        return Response(data if batch else data[0], status=status.HTTP_201_CREATED)
