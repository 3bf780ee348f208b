"""What is computed: DiD statistics, costs, the municipal monitor, analysis runs and reports."""
