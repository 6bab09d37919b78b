"""Pratiche: the catalogue of types, uploads, submission, the citizen's view, the office's
transitions, the certificates issued at once and their verification page."""
