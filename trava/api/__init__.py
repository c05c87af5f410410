"""REST conventions shared by every app: camelCase JSON, one error shape, pagination."""
