"""Shared code every app may use: errors and the one exception handler, pagination, OpenAPI hooks,
billing periods, strict serializers, request logging, the URL helper. It imports no app."""
