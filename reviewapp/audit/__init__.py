"""Audit trail: who did what to which record, with before and after."""
