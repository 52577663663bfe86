"""The deterministic demo data set (`groupgate demo`): personas, groups, members, bills, ...

`names` holds word lists and fixed specs, `design` builds each group's rows in memory from its
index and the seed alone, `load` inserts them in bulk, idempotently, one group per transaction.
"""

from data.demo.load import DemoSummary, load_demo

__all__ = ["DemoSummary", "load_demo"]
