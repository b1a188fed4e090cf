"""Partner webhooks: endpoints a partner registers, events written with each change, and their
delivery by the worker (signed per Standard Webhooks, retried, in order per installation)."""
