"""Serializers of the cost-model API."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from analysis.costs import services
from analysis.costs.models import CpiYear, PriceCatalogue, PriceItem


class PriceItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceItem
        fields = [
            "code",
            "domain",
            "description",
            "unit",
            "reference_year",
            "price_at_reference_year",
            "index_factor_to_base",
            "price_base_year",
            "source_note",
        ]


class PriceCatalogueSerializer(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    parent_version = serializers.IntegerField(source="parent.version", read_only=True, default=None)

    class Meta:
        model = PriceCatalogue
        fields = [
            "version",
            "name",
            "base_year",
            "created_at",
            "created_by",
            "note",
            "parent_version",
        ]


class PriceCatalogueDetailSerializer(PriceCatalogueSerializer):
    items = PriceItemSerializer(many=True, read_only=True)

    class Meta(PriceCatalogueSerializer.Meta):
        fields = [*PriceCatalogueSerializer.Meta.fields, "items"]


class CpiYearSerializer(serializers.ModelSerializer):
    class Meta:
        model = CpiYear
        fields = ["year", "annual_change_pct", "source", "updated_at"]
        read_only_fields = ["updated_at"]

    def create(self, validated_data) -> CpiYear:
        try:
            return services.cpi_year_set(**validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error

    def update(self, instance, validated_data) -> CpiYear:
        if "year" in validated_data and validated_data["year"] != instance.year:
            raise serializers.ValidationError({"year": _("The year of a CPI entry cannot change.")})
        try:
            return services.cpi_year_set(
                year=instance.year,
                annual_change_pct=validated_data.get(
                    "annual_change_pct", instance.annual_change_pct
                ),
                source=validated_data.get("source", instance.source),
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class IndexedPriceSerializer(serializers.Serializer):
    """One item's price indexed to a price year (read only)."""

    code = serializers.CharField()
    domain = serializers.CharField()
    unit = serializers.CharField()
    price_base_year = serializers.FloatField(allow_null=True)
    price = serializers.FloatField(allow_null=True, help_text="Unit price in price_year euros.")
    price_year = serializers.IntegerField()
    catalogue_version = serializers.IntegerField()


class BaselineSerializer(serializers.Serializer):
    """The report's cost per MPG per year (2014: 114,291; range 108,000-115,000), indexed."""

    price_year = serializers.IntegerField()
    factor = serializers.FloatField()
    point = serializers.FloatField()
    low = serializers.FloatField()
    high = serializers.FloatField()
