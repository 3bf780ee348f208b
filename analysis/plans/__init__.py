"""Research questions, pre-registered analysis plans and report schedules of a study (Django):
their services, selectors, form parsing and pages."""
