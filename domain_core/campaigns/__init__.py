"""The campaigns context: plans, campaigns, compliance, activation on channels, budgets and their changes."""
