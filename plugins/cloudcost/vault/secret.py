"""A decrypted credential that does not print, log or pickle itself; ``reveal()`` is the only way in."""

from __future__ import annotations

from typing import NoReturn

_REDACTED = "Secret(<redacted>)"


class Secret:
    """Holds a credential's bytes for the process that decrypted it.

    repr, str and format all give ``Secret(<redacted>)``, so f-strings, ``%s`` logging and tracebacks that
    show locals do not leak it; pickling raises, so it cannot travel through XCom or a multiprocessing
    queue by accident. Python cannot wipe memory, so this guards against accidents, not against code
    running in the same process.
    """

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        if not isinstance(value, bytes):
            raise TypeError("Secret holds bytes")
        self._value = value

    def reveal(self) -> bytes:
        """The credential's bytes. Pass them straight to the client that needs them; do not log or store them."""
        return self._value

    def __repr__(self) -> str:
        return _REDACTED

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return _REDACTED

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; decrypt it where it is used")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        self.__reduce__()

    def __getstate__(self) -> NoReturn:
        self.__reduce__()

    def __copy__(self) -> Secret:
        return self  # immutable, and copying in-process reveals nothing

    def __deepcopy__(self, memo: object) -> Secret:
        return self
