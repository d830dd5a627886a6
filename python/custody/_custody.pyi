"""Type stubs of the extension module (custody._custody)."""

from os import PathLike
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

_Path = Union[str, PathLike]
# Text given as a str (never taken for a file name), or a path
# (os.PathLike, e.g. pathlib.Path) to a file holding it.
_Text = Union[str, PathLike]

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

class CustodyWarning(UserWarning):
    """What an append warns of."""

class Key:
    """An Ed25519 signing key."""
    @staticmethod
    def generate() -> "Key": ...
    @staticmethod
    def load(path: _Path) -> "Key": ...
    def save(self, path: _Path) -> None: ...
    @property
    def public_hex(self) -> str: ...
    def verifier_key(self, name: str) -> str: ...

class AppendResult:
    appended: int
    entries: int
    head: str
    warnings: List[str]
    stored_before: Optional[Tuple[int, int]]

class VerifyResult:
    valid: bool
    entries: int
    head: Optional[str]
    owner: Optional[str]
    pinned: bool
    name: Optional[str]
    ledger: Optional[str]
    withheld: int
    @property
    def partial(self) -> Optional[Dict[str, Any]]: ...
    error_seq: Optional[int]
    reason: Optional[str]
    detail: Optional[str]
    def __bool__(self) -> bool: ...

class ProofResult:
    valid: bool
    seq: Optional[int]
    event_type: Optional[str]
    signer: Optional[str]
    origin: Optional[str]
    size: Optional[int]
    error: Optional[str]
    def __bool__(self) -> bool: ...

class Ledger:
    """A ledger where it lives: a directory, a postgres:// URL, or a served
    ledger's http://HOST:PORT/NAME."""
    @staticmethod
    def init(location: _Path, key: Key, name: str) -> "Ledger": ...
    @staticmethod
    def open(location: _Path) -> "Ledger": ...
    @property
    def location(self) -> str: ...
    def append(self, events: List[Dict[str, Any]], key: Key, allow_empty: bool = ...,
               owner: Optional[_Text] = ..., record_paths: bool = ...) -> AppendResult: ...
    def verify(self, owner: Optional[_Text] = ..., checkpoint: Optional[_Text] = ...,
               vkey: Optional[_Text] = ..., origin: Optional[str] = ...) -> VerifyResult: ...

def verify(source: _Path, owner: Optional[_Text] = ..., checkpoint: Optional[_Text] = ...,
           vkey: Optional[_Text] = ..., origin: Optional[str] = ...) -> VerifyResult: ...
def entry(source: _Path, seq: int, owner: Optional[_Text] = ...) -> bytes: ...
def prove_inclusion(source: _Path, seq: int, checkpoint: Optional[_Text] = ...,
                    key: Optional[Key] = ..., origin: Optional[str] = ...) -> str: ...
def prove_consistency(source: _Path, old: _Text, new: Optional[_Text] = ...) -> str: ...
def verify_proof(proof: _Text, entry: bytes, vkey: _Text) -> ProofResult: ...
class LogIter(Iterator[Dict[str, Any]]):
    def __iter__(self) -> "LogIter": ...
    def __next__(self) -> Dict[str, Any]: ...

def log(source: _Path, owner: Optional[_Text] = ...) -> LogIter: ...
def digest(path: _Path) -> str: ...
def export(source: _Path, out: _Path, overwrite: bool = ...) -> int: ...
def import_(file: _Path, location: _Path) -> Ledger: ...
def checkpoint(ledger: _Path, key: Key, origin: Optional[str] = ...) -> str: ...
def openness(source: _Path, owner: Optional[_Text] = ...) -> Dict[str, Any]: ...
