"""Rasa custom actions of Sportello Digitale: channel-agnostic, back office via backend_client."""
