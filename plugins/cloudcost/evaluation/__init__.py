"""Budgets, anomalies and alerts over the rollups: what a FinOps team acts on each morning."""
