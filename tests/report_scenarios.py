"""Scenario files of the custom reports several tests build: a monthly schedule, a demand
range with serving settings, a fixed budget, and a data limit (issue 23)."""

SCHEDULE = """title = "Launch plan with a monthly ramp"
hardware = "h100"
[serving]
months = 36
peak_to_average = 2
[[scenarios]]
name = "7B-class launch ramp"
chinchilla_params = 7e9
monthly_ramp = { first_month_requests = 5e7, monthly_growth = 0.25, months = 36, \
peak_requests = 1.5e9 }
discount_rate = 0.10
price_change = -0.25
[[scenarios]]
name = "13B-class lump sum"
chinchilla_params = 13e9
requests = 3.51e9
"""
RANGES = """title = "Support assistant with a demand range"
hardware = "h100"
[serving]
peak_to_average = 2
batch = 8
[[scenarios]]
name = "Support assistant, 7B-class quality"
chinchilla_params = 7e9
requests = 2e9
requests_low = 5e8
requests_high = 1e10
[[scenarios]]
name = "Search helper, 13B-class quality"
chinchilla_params = 13e9
requests = 3.5e9
"""
BUDGET = """title = "What $5M buys"
hardware = "h100"
[[scenarios]]
name = "Fixed $5M budget, 2B requests"
budget_dollars = 5e6
requests = 2e9
[[scenarios]]
name = "7B-class quality, 1B requests"
chinchilla_params = 7e9
requests = 1e9
"""
UNIQUE = """title = "Data-limited plan"
hardware = "h100"
[[scenarios]]
name = "7B-class quality, 100B unique tokens"
chinchilla_params = 7e9
requests = 1e10
unique_tokens = 1e11
"""
