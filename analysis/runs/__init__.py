"""Analysis runs (Django): the frames a run reads, requesting and executing runs as claimed jobs,
the reconciler, the draft and published reports, and their pages and API."""
