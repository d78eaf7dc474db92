"""The simulation layer: optimizer records, the batched 2-D engine, schedules, replay, export.

Imports numpy and torch only (and the top-level ``landscapes`` package).
"""
