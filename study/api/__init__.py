"""REST API of the study app: serializers are allow-lists, querysets come from the selectors."""
