"""Pages of the study app, one module per part: `studies` (home, dashboard, exports), `families`
(family page, audit trail, enrolment), `waves` (wave entry and its actions, due waves), `coach`
(caseload, contacts, care workers), `professionals` (their survey), `imports` (registry import).

Thin views: look the object up through the selectors (404 outside the user's scope), check the
role, let a form parse the input, call one service and show its errors next to the fields."""
