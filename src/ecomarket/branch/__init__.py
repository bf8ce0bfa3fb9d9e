"""The branch service: the shop's own till, stock and outbox, with or without the central."""
