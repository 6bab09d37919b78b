"""Shared pieces of Sportello Digitale: the one settings object every process reads."""
