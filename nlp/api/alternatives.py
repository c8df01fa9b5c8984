"""GET /api/v1/products/{id}/alternatives/: in-stock products most like this one, for a storefront to offer
instead of losing the sale when the product is out of stock. Included in ``backoffice.urls`` by itself."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.api.common import MerchantApiMixin, StrictSerializer
from inventory.selectors import product_get
from nlp.representation_selectors import product_alternatives
from nlp.representations import RepresentationKind

MAX_LIMIT = 50


class AlternativeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="product_id")
    sku = serializers.CharField()
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    available = serializers.IntegerField(help_text="Units on hand less allocated, over all warehouses.")
    similarity = serializers.FloatField(help_text="Similarity of the product texts, in [0, 1].")


class AlternativesSerializer(serializers.Serializer):
    product = serializers.IntegerField(help_text="The product the alternatives are for.")
    representation = serializers.ChoiceField(
        choices=[RepresentationKind.TFIDF.value, RepresentationKind.COMBINED.value],
        help_text="tfidf: character n-grams of name and description; combined: with the language model.",
    )
    results = AlternativeSerializer(many=True)


class AlternativesQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=10)


class ProductAlternativesApi(MerchantApiMixin, GenericAPIView):
    """Active products of the same merchant with stock available, most like this one first."""

    serializer_class = AlternativesSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description=f"How many alternatives, 1 to {MAX_LIMIT} (default 10).")
        ],
        responses={200: AlternativesSerializer},
        description="In-stock, active products of the merchant most like this one (by name and description), "
        "ranked by a similarity score in [0, 1]; products with nothing in common are left out.",
    )
    def get(self, request: Request, product_id: int) -> Response:
        query = AlternativesQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        product = product_get(merchant=self.merchant, product_id=product_id)
        found = product_alternatives(merchant=self.merchant, product=product, limit=query.validated_data["limit"])
        body = {"product": product.pk, "representation": found.representation, "results": found.alternatives}
        return Response(AlternativesSerializer(body).data)


urlpatterns = [
    path(
        "products/<int:product_id>/alternatives/",
        ProductAlternativesApi.as_view(),
        name="api-product-alternatives",
    ),
]
