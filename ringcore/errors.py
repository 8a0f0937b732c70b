"""Exceptions raised by ringcore (shared by the core and the reference)."""

__all__ = ["EmptyRingError", "NullKeyError"]


class EmptyRingError(LookupError):
    """A lookup was made on a ring that has no nodes."""

    def __init__(self, message: str = "the ring has no nodes") -> None:
        super().__init__(message)


class NullKeyError(ValueError):
    """A batch held a null (Arrow, pandas or polars) and no null value was given."""

    def __init__(self, index: int, message: str | None = None) -> None:
        if message is None:
            message = f"keys[{index}] is null; pass null=<int> to route nulls to that value"
        super().__init__(message)
        self.index = index

    def __reduce__(self) -> tuple:
        return (type(self), (self.index, str(self)))
