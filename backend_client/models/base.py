"""What every result of the back-office client shares, and the health answer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    # Frozen: results are values. Unknown keys are ignored so the server may add fields.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Health(Result):
    """Whether the back office and its database answer."""

    status: str
    database: str
