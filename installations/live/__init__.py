"""Live updates (issue 13): pages follow changes made by others, from a per-scope change feed."""
