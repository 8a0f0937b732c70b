"""Exceptions raised by ringcore (shared by the core and the reference)."""

__all__ = ["EmptyRingError", "NullKeyError"]

# The rules below are how both implementations word the errors of a batch.


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


def batch_item_error(err: Exception, index: int) -> Exception:
    """The error of one key, as the error of the batch: the same builtin kind
    (a subclass's constructor may take other arguments), naming keys[index]."""
    if isinstance(err, UnicodeEncodeError):
        return UnicodeEncodeError(
            err.encoding, err.object, err.start, err.end, f"{err.reason} (keys[{index}])"
        )
    for kind in (OverflowError, TypeError, ValueError):
        if isinstance(err, kind):
            return kind(f"keys[{index}]: {err}")
    return err


def null_key_error(index: int, routing: bool) -> NullKeyError:
    """A null where no null value was given: route() suggests null=<int>;
    hash_keys, which takes no nulls, says what to do instead."""
    if routing:
        return NullKeyError(index)
    return NullKeyError(index, f"keys[{index}] is null; hash_keys takes no nulls "
                               "(drop them first, or use route(..., null=<int>))")
