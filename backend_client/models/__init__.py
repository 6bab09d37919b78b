"""Typed results of the back-office client, validated from the API's JSON: one module per area,
as the sub-clients are split (`backend_client/<area>.py`)."""
