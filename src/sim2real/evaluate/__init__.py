"""Evaluation: rollouts of any Policy, Sim-OOD suites, statistics, results and reports."""
