"""The municipal monitor: counting multi-problem families and their cost, city to country."""
