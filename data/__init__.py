"""Persistence: tables, migrations and the batch functions every read and write goes through.

Never imports strawberry: the layers above depend on this one, not the other way round.
"""
