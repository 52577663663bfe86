"""The one typed request context every use case receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from data.database import Database
from resolvers.loaders import Loaders


@dataclass
class Context:
    database: Database
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    today: date = field(default_factory=date.today)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.database.reader)
