"""The application: use cases as plain async functions over a typed request context.

They know nothing of GraphQL, so the CLI, background jobs and the schema call the same code.
"""
