"""The office's console at /staff: login per person, roles, audit; pratiche, sportello, avvisi."""
