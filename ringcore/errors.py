"""Exceptions raised by ringcore (shared by the core and the reference)."""

__all__ = ["EmptyRingError"]


class EmptyRingError(LookupError):
    """A lookup was made on a ring that has no nodes."""

    def __init__(self, message: str = "the ring has no nodes") -> None:
        super().__init__(message)
