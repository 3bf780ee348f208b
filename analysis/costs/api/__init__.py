"""REST API of the cost model: catalogue versions (read) and the CPI series (data managers write)."""
