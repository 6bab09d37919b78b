"""Counter appointments: the slot calendar, bookings, the desk, the reminders."""
