"""The sync's health: one report for ``bubblehouse_status``, the health view and the admin."""

from .report import HealthReport, Problem, collect

__all__ = ["HealthReport", "Problem", "collect"]
