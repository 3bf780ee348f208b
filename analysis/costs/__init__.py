"""The cost model: price catalogues, CPI indexation, cost per family."""
