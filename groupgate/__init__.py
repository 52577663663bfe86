"""Groupgate: GraphQL gateway for employer group health-plan administration."""

__version__ = "0.1.0"
