"""Errors the cloud object stores raise, so callers can tell "fix the setup" from "try again later"."""

from __future__ import annotations


class ObjectStoreAccessError(PermissionError):
    """Permanent: the bucket or container does not exist, or the credentials may not read it.

    Retrying cannot fix it, so the task should fail with this message at once. The message names the
    store and the key, never a credential.
    """


class ObjectChanged(RuntimeError):
    """The object was replaced while it was being read (its ETag changed).

    The bytes already read belong to the previous version, so the read is abandoned rather than
    stitched across versions; a new attempt reads the new version from the start.
    """
