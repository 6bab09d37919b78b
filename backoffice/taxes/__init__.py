"""Tributi and pagoPA: what a citizen owes, its notices, the simulated checkout, receipts, reminders."""
