"""The dispatch board (issue 12): a partner's week by handyman and day, and the Unassigned lane."""
