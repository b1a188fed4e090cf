"""A person's own password: changing it when signed in, and a reset link by email when it is
forgotten (docs/decisions.md, "Forgotten passwords")."""
