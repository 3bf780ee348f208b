"""Effect-report assembly: plots, HTML and PDF."""
