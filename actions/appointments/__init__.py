"""Sportello from the chat: book, move and cancel a counter appointment, by buttons or typing."""
