"""Scheduling rules (issue 12): rescheduling, conflicts between a handyman's jobs, and time off.

The board and the list call these services; the core assign/reassign services call the rules in
`rules.py` under the row lock."""
