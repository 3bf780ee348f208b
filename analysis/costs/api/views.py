"""Viewsets of the cost-model API."""

from __future__ import annotations

import math

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.costs import engine, pricing
from analysis.costs.api.permissions import ReadOrDataManagerWrite
from analysis.costs.api.serializers import (
    BaselineSerializer,
    CpiYearSerializer,
    IndexedPriceSerializer,
    PriceCatalogueDetailSerializer,
    PriceCatalogueSerializer,
)
from analysis.costs.models import CpiYear, PriceCatalogue
from analysis.costs.selectors import catalogue_frame, catalogue_list, cpi_series

PRICE_YEAR = OpenApiParameter(
    "price_year", int, description="Year to index prices to (default: the base year)."
)


def _price_year(request, default: int) -> int:
    text = request.query_params.get("price_year")
    if text in (None, ""):
        return default
    try:
        return int(text)
    except ValueError as error:
        raise ValidationError(
            {"price_year": _("Not a year: %(value)s") % {"value": text}}
        ) from error


def _none_if_nan(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


class PriceCatalogueViewSet(viewsets.ReadOnlyModelViewSet):
    """Published price-catalogue versions; the detail lists every item."""

    lookup_field = "version"
    permission_classes = [ReadOrDataManagerWrite]
    queryset = PriceCatalogue.objects.none()

    def get_queryset(self):
        queryset = catalogue_list().filter(published=True)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("items")
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return PriceCatalogueDetailSerializer
        if self.action == "prices":
            return IndexedPriceSerializer
        return PriceCatalogueSerializer

    @extend_schema(parameters=[PRICE_YEAR], responses=IndexedPriceSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def prices(self, request, version=None):
        """Every item of this version with its unit price indexed to ``price_year``."""
        catalogue = self.get_object()
        year = _price_year(request, catalogue.base_year)
        try:
            frame = catalogue_frame(catalogue, year)
        except pricing.MissingCpiYearError as error:
            raise ValidationError({"price_year": [str(error)]}) from error
        rows = [
            {
                "code": row.code,
                "domain": row.domain,
                "unit": row.unit,
                "price_base_year": _none_if_nan(row.price_base_year),
                "price": _none_if_nan(row.price),
                "price_year": row.price_year,
                "catalogue_version": row.catalogue_version,
            }
            for row in frame.itertuples(index=False)
        ]
        return Response(IndexedPriceSerializer(rows, many=True).data)


class CpiYearViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The CPI series; data managers add and correct years."""

    lookup_field = "year"
    permission_classes = [ReadOrDataManagerWrite]
    serializer_class = CpiYearSerializer
    queryset = CpiYear.objects.order_by("year")


class BaselineView(APIView):
    """The report's EUR 114,291 per MPG per year (range 108,000-115,000) in ``price_year``."""

    permission_classes = [ReadOrDataManagerWrite]

    @extend_schema(parameters=[PRICE_YEAR], responses=BaselineSerializer)
    def get(self, request):
        year = _price_year(request, engine.BASELINE_PRICE_YEAR)
        try:
            estimate = engine.baseline_per_family(cpi_series(), year)
        except pricing.MissingCpiYearError as error:
            raise ValidationError({"price_year": [str(error)]}) from error
        return Response(BaselineSerializer(estimate).data)
