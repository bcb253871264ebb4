"""Bringing a school's roster in: classes, pupils and their parents.

This slice reads CSV/XLSX files (:mod:`app.roster.reading`), checks every row (:mod:`app.roster.checks`), matches
the rows against the database (:mod:`app.roster.planning`) and applies the plan in one transaction
(:mod:`app.roster.services`). The Kundelik API sync is meant to produce the same kind of rows and reuse the
planning and applying steps: a pupil who left is marked, never deleted.
"""
