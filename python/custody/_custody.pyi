"""Type stubs of the extension module (custody._custody)."""

from os import PathLike
from typing import Any, Dict, List, Optional, Union

_Path = Union[str, PathLike]

class CustodyError(Exception):
    """Base class of every custody error."""

class InputError(CustodyError):
    """An event was refused; nothing was written."""
    line: int
    field: str

class InvalidLedgerError(CustodyError):
    """The ledger failed verification."""
    seq: int
    reason: str

class LedgerInUseError(CustodyError):
    """Another process holds the ledger."""

class CustodyIOError(CustodyError):
    """Reading or writing a file failed."""
    path: str

class Key:
    """An Ed25519 signing key."""
    @staticmethod
    def generate() -> "Key": ...
    @staticmethod
    def load(path: _Path) -> "Key": ...
    def save(self, path: _Path) -> None: ...
    @property
    def public_hex(self) -> str: ...

class AppendResult:
    appended: int
    entries: int
    head: str
    warnings: List[str]

class VerifyResult:
    valid: bool
    entries: int
    head: Optional[str]
    owner: Optional[str]
    pinned: bool
    name: Optional[str]
    error_seq: Optional[int]
    reason: Optional[str]
    detail: Optional[str]
    def __bool__(self) -> bool: ...

class Ledger:
    """A ledger where it lives: a directory or a postgres:// URL."""
    @staticmethod
    def init(location: _Path, key: Key, name: str) -> "Ledger": ...
    @staticmethod
    def open(location: _Path) -> "Ledger": ...
    @property
    def location(self) -> str: ...
    def append(self, events: List[Dict[str, Any]], key: Key, allow_empty: bool = ...) -> AppendResult: ...
    def verify(self, owner: Optional[str] = ...) -> VerifyResult: ...

def verify(source: _Path, owner: Optional[str] = ...) -> VerifyResult: ...
def log(source: _Path, owner: Optional[str] = ...) -> List[Dict[str, Any]]: ...
def digest(path: _Path) -> str: ...
def export(source: _Path, out: _Path, overwrite: bool = ...) -> int: ...
def import_(file: _Path, location: _Path) -> Ledger: ...
def checkpoint(ledger: _Path, key: Key, origin: Optional[str] = ...) -> str: ...
def openness(source: _Path, owner: Optional[str] = ...) -> Dict[str, Any]: ...
