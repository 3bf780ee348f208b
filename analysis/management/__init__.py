"""Django management commands of the analysis app."""
