"""Monitoring of pupils at risk: registries, case files (team, risk, status, notes), per-school encryption."""
