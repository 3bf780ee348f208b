"""Registry import: `reading` (the file: CSV/XLSX tables into cells, with `tables` and
`problems`), `checking` (the cells against the study: families, waves, catalogue, values),
`workflow` (upload, dry run, apply; the services the pages, API, command and tasks call) and
`job` (the dry run and the apply as jobs of tracker/jobs.py: claim, give up, reconcile)."""
