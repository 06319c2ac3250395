"""Money over time: budgets, break-even demand, monthly schedules, cash flow and regret."""
