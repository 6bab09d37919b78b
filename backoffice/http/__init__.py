"""The HTTP edge shared by every area: the error table, request parsing, middlewares, idempotency."""
