"""Registry import: `reading` (the file: CSV/XLSX tables into cells, with `tables` and
`problems`), `checking` (the cells against the study: families, waves, catalogue, values) and
`workflow` (upload, dry run, apply, reconcile; the services the pages, API, command and tasks
call)."""
