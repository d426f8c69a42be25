"""The XTA simulator's persistent state: issued ids, mailboxes, part files, accounts.

Everything lives under one directory (``state.json`` plus one file per content part), so a
restarted simulator still has its mailboxes. Without a directory a temporary one is used.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class StoredPart:
    """One content item of a stored message; its bytes are in ``file`` under ``parts/``."""

    name: str
    content_type: str
    file: str
    size: int
    attachment: bool


@dataclass
class Stored:
    """A message in a reader's mailbox."""

    message_id: str
    reader: str
    author: str
    metadata: str
    parts: list[StoredPart]
    closed: bool = False
    cancelled: bool = False
    report_polls: int = 0


@dataclass(frozen=True)
class Account:
    """An identity the server accepts, optionally bound to a client certificate."""

    identifier: str
    certificate_sha256: str | None = None


def load_accounts(path: Path) -> dict[str, Account]:
    """Accounts file (TOML): ``[[accounts]] identifier = "gad:…"`` [``certificate_sha256``]."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    accounts: dict[str, Account] = {}
    for entry in data.get("accounts", []):
        fingerprint = entry.get("certificate_sha256")
        accounts[entry["identifier"]] = Account(
            entry["identifier"],
            fingerprint.replace(":", "").lower() if fingerprint else None,
        )
    return accounts


@dataclass
class XtaState:
    """Issued message ids and stored messages; ``save()`` after every change.

    ``accounts`` None means any well-formed identifier has a mailbox. ``open_reports`` makes the
    first transport-report calls per message answer "open" (0) before the final status;
    ``red_readers`` get a red (3) report, as if the reader's server refused the message.
    """

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="xta-sim-")))
    accounts: dict[str, Account] | None = None
    open_reports: int = 0
    red_readers: set[str] = field(default_factory=set)
    issued: set[str] = field(default_factory=set)
    messages: dict[str, Stored] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.root / "parts").mkdir(parents=True, exist_ok=True)
        state = self.root / "state.json"
        if state.exists():
            data = json.loads(state.read_text(encoding="utf-8"))
            self.issued = set(data["issued"])
            for raw in data["messages"]:
                parts = [StoredPart(**p) for p in raw.pop("parts")]
                self.messages[raw["message_id"]] = Stored(**raw, parts=parts)

    def save(self) -> None:
        """Write the index atomically (part files are already in place)."""
        data = {
            "issued": sorted(self.issued),
            "messages": [asdict(m) for m in self.messages.values()],
        }
        tmp = self.root / "state.json.tmp"
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.root / "state.json")

    def new_part_file(self) -> Path:
        """A fresh file for one incoming content part."""
        return self.root / "parts" / uuid.uuid4().hex

    def part_path(self, part: StoredPart) -> Path:
        """Where a stored part's bytes are."""
        return self.root / "parts" / part.file

    def mailbox(self, reader: str) -> list[Stored]:
        """Messages waiting for ``reader`` (not closed, not cancelled), oldest first."""
        return [
            m
            for m in self.messages.values()
            if m.reader == reader and not m.closed and not m.cancelled
        ]

    def parts(self, reader: str) -> dict[str, list[StoredPart]]:
        """Message id → parts, for all messages of a reader (tests)."""
        return {m.message_id: m.parts for m in self.mailbox(reader)}

    def read(self, part: StoredPart) -> bytes:
        """A part's bytes (tests; the server streams)."""
        return self.part_path(part).read_bytes()
