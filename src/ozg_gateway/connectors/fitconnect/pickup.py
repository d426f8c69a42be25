"""A picked-up submission taken apart (run in the connector's threads): metadata and data
decrypted, attachments streamed into blobs, and everything wrong with it as the problems a
``reject-submission`` event names (kind and where: metadata, data, attachment:<id>)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey

from ozg_gateway.connectors.fitconnect import jose, transfer
from ozg_gateway.connectors.fitconnect.client import FitConnectClient
from ozg_gateway.connectors.fitconnect.jwe_stream import JweStreamError
from ozg_gateway.connectors.fitconnect.mapping import check_received, problem
from ozg_gateway.errors import PermanentError
from ozg_gateway.specs import FIT_CONNECT_METADATA, SpecMissing, json_validator


@dataclass
class Opened:
    """What came out of a submission; ``blobs`` by attachment id (discard them on reject)."""

    metadata: dict[str, Any] = field(default_factory=dict)
    data: bytes | None = None
    blobs: dict[str, Any] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)

    def discard(self) -> None:
        """Drop every blob written so far."""
        for blob in self.blobs.values():
            blob.discard()
        self.blobs.clear()


def _metadata(token: str, key: RSAKey, specs_dir: Path | None) -> tuple[dict[str, Any], list[Any]]:
    try:
        opened = jose.decrypt(token, key)
    except PermanentError:
        return {}, [problem("encryption-issue", "metadata")]
    try:
        metadata = json.loads(opened)
    except ValueError:
        return {}, [problem("syntax-violation", "metadata")]
    if not isinstance(metadata, dict):
        return {}, [problem("syntax-violation", "metadata")]
    try:
        validator = json_validator(specs_dir, FIT_CONNECT_METADATA)
    except SpecMissing:
        return metadata, []
    error = next(iter(validator.iter_errors(metadata)), None)
    if error is not None:
        where = "/".join(map(str, error.absolute_path))
        return metadata, [problem("schema-violation", "metadata", f"{where}: {error.message}")]
    return metadata, []


def open_submission(
    client: FitConnectClient,
    submission: dict[str, Any],
    key: RSAKey,
    new_blob: Callable[[], Any],
    specs_dir: Path | None,
) -> Opened:
    """Decrypt and check one submission; the caller keeps the blobs only without problems."""
    opened = Opened()
    metadata, problems = _metadata(str(submission.get("encryptedMetadata") or ""), key, specs_dir)
    opened.metadata, opened.problems = metadata, problems
    if problems:
        return opened
    sealed_data = submission.get("encryptedData")
    if sealed_data:  # absent: metadata and attachments only, which FIT-Connect allows
        try:
            opened.data = jose.decrypt(str(sealed_data), key)
        except PermanentError:
            opened.problems.append(problem("encryption-issue", "data"))
            return opened
    hashes: dict[str, str] = {}
    submission_id = str(submission["submissionId"])
    try:
        for attachment_id in map(str, submission.get("attachments") or []):
            blob = opened.blobs[attachment_id] = new_blob()
            try:
                hashes[attachment_id] = transfer.download(
                    client, submission_id, attachment_id, key, blob
                )
            except JweStreamError as exc:
                where = f"attachment:{attachment_id}"
                opened.problems.append(problem("encryption-issue", where, str(exc)))
    except BaseException:  # the server went away mid-way: the next round starts afresh
        opened.discard()
        raise
    if not opened.problems:
        opened.problems = check_received(metadata, opened.data, hashes)
    return opened
