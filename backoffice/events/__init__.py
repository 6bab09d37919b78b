"""The event feed and the outbox of notices: what happened to a citizen, and which chat to tell."""
