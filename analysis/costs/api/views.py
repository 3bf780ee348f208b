"""Viewsets of the cost-model API."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from analysis.costs.api.permissions import ReadOrDataManagerWrite
from analysis.costs.api.serializers import (
    CpiYearSerializer,
    PriceCatalogueDetailSerializer,
    PriceCatalogueSerializer,
)
from analysis.costs.models import CpiYear, PriceCatalogue
from analysis.costs.selectors import catalogue_list


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
        return PriceCatalogueSerializer


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
