"""Read the outside world: validated pandas frames, rejects and provenance; never the database."""

from .exceptions import CollectorError as CollectorError
from .uscc import is_valid_uscc as is_valid_uscc
from .uscc import validate_uscc as validate_uscc

__all__ = ["CollectorError", "is_valid_uscc", "validate_uscc"]
