"""Avvisi: notices of the comune by topic and zone, to the chat accounts that asked for them."""
