"""Pratiche from the chat: the form built from the catalogue, submission, tracking, documents."""
