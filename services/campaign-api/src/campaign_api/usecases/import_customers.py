"""Import customers from a CSV file as a job: check the header at once, then stage and merge after the answer.

The request spools the upload to a temporary file (never the whole file in memory) and answers 202 with the job.
The job reads the file in chunks; each chunk's rows are checked and their phones normalised (in worker processes
when `workers` > 0: phone parsing is the import's heaviest CPU work) and written as COPY CSV there, so this
process only forwards each chunk's buffer into a temporary staging table; at the end one statement merges the whole
file into the account's customers (an UPDATE of the rows it changes, an INSERT of the new phones), in the
transaction that staged it. Progress is committed on a second connection so the status endpoint shows it while the
file is read.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import csv
import io
import logging
import multiprocessing
import time
from collections import deque
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Final

from campaign_api.accounts import Caller
from campaign_api.errors import CustomerImportNotFound, ImportFileInvalid, ImportTooManyRows
from campaign_api.import_rows import CheckedChunk, ImportLayout, Rejection, check_chunk
from campaign_api.repositories import audit_events, customer_attributes, customer_imports
from campaign_api.repositories.connection import Pool, account_transaction
from campaign_api.repositories.customer_imports import CustomerImport

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

log = logging.getLogger(__name__)

# csv's own limit is 128 KiB a cell; no field of ours is near it, and a smaller one stops a runaway quote early
csv.field_size_limit(64 * 1024)
PROGRESS_EVERY_ROWS: Final = 50_000
READ_BLOCK: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """What an import accepts and how it works."""

    max_bytes: int
    max_rows: int
    default_region: str
    workers: int
    chunk_rows: int = 10_000
    rejected_details: int = 1000


@dataclass(slots=True)
class ImportCustomers:
    """Start import jobs, run them in the background, answer their status."""

    pool: Pool
    limits: ImportLimits
    running: set[asyncio.Task[None]] = field(default_factory=set)
    executor: concurrent.futures.ProcessPoolExecutor | None = None
    # one import at a time per process: the memory they hold and the CPU they take stay bounded
    one_at_a_time: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    async def start(self, caller: Caller, upload: IO[bytes], file_name: str | None) -> CustomerImport:
        """Check the file's size in lines and its header, create the job and run it after the answer.

        Takes ownership of `upload` (closed when the job ends, or here when the file is refused)."""
        try:
            lines = await asyncio.to_thread(count_lines, upload)
            if lines - 1 > self.limits.max_rows:
                raise ImportTooManyRows(self.limits.max_rows)
            async with account_transaction(self.pool, caller.account) as conn:
                declared = await customer_attributes.types_by_name(conn)
                header = await asyncio.to_thread(read_header, upload)
                try:
                    layout = ImportLayout.from_header(header, declared, self.limits.default_region)
                except ValueError as exc:
                    raise ImportFileInvalid(str(exc)) from exc
                job = await customer_imports.insert(conn, file_name)
        except BaseException:
            upload.close()
            raise
        task = asyncio.create_task(self.run(caller, job.id, layout, upload), name=f"customer-import-{job.id}")
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        return job

    async def get(self, caller: Caller, import_id: int) -> CustomerImport:
        """The job's status, or CustomerImportNotFound."""
        async with account_transaction(self.pool, caller.account) as conn:
            job = await customer_imports.get(conn, import_id)
        if job is None:
            raise CustomerImportNotFound(import_id)
        return job

    async def run(self, caller: Caller, import_id: int, layout: ImportLayout, upload: IO[bytes]) -> None:
        """Run the job to done or failed; never raises (the job row says what happened)."""
        progress = Progress()
        try:
            async with self.one_at_a_time:
                await self.stage_and_merge(caller, import_id, layout, upload, progress)
        except asyncio.CancelledError:
            await self.fail(caller, import_id, progress, "the import was interrupted (the API stopped); run it again")
            raise
        except Exception as exc:
            log.warning("customer import failed", extra={"import_id": import_id, "error": str(exc)[:300]})
            await self.fail(caller, import_id, progress, failure_reason(exc))
        finally:
            upload.close()

    async def stage_and_merge(
        self, caller: Caller, import_id: int, layout: ImportLayout, upload: IO[bytes], progress: Progress
    ) -> None:
        """Stage every valid row, report duplicates, merge, record the outcome: one transaction."""
        started = time.perf_counter()
        upload.seek(0)
        text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        await asyncio.to_thread(next, reader)  # the header, checked before the job started
        async with account_transaction(self.pool, caller.account) as conn:
            await customer_imports.create_staging(conn)
            staged = 0
            async with customer_imports.staging_copy(conn) as write:
                pending: deque[asyncio.Future[CheckedChunk]] = deque()
                in_flight = max(1, 2 * self.limits.workers)
                while True:
                    numbers, rows = await asyncio.to_thread(read_rows, reader, self.limits.chunk_rows)
                    if rows:
                        pending.append(self.check(layout, numbers, rows))
                        progress.read += len(rows)
                    while pending and (len(pending) >= in_flight or not rows):
                        checked = await pending.popleft()
                        if checked.staged:
                            await write(checked.staged)
                        staged += checked.staged_rows
                        progress.add_rejected(checked.rejected, self.limits.rejected_details)
                    if progress.read - progress.reported >= PROGRESS_EVERY_ROWS:
                        await self.report(caller, import_id, progress)
                    if not rows:
                        break
            staged_at = time.perf_counter()
            distinct, inserted, updated = await customer_imports.merge(conn)
            if staged > distinct:
                sample = await customer_imports.duplicates(conn, self.limits.rejected_details)
                progress.add_rejected(
                    [Rejection(row, "phone", f"the same phone as row {first}") for row, first in sample],
                    self.limits.rejected_details,
                    counted=staged - distinct,
                )
            merged_at = time.perf_counter()
            counts = (progress.read, inserted, updated, progress.rejected)
            await customer_imports.set_finished(
                conn, import_id, status="done", counts=counts, rejected=sorted(progress.details, key=row_of)
            )
            changes = {"rows_read": progress.read, "imported": inserted, "updated": updated}
            await audit_events.record(
                conn, caller, "customers.imported", "customer_import", import_id, changes | {"rejected": counts[3]}
            )
        log.info(
            "customer import done",
            extra={
                "import_id": import_id,
                "rows_read": progress.read,
                "read_and_staged_s": round(staged_at - started, 2),
                "merged_s": round(merged_at - staged_at, 2),
                "committed_s": round(time.perf_counter() - merged_at, 2),
            },
        )

    def check(self, layout: ImportLayout, numbers: list[int], rows: list[list[str]]) -> asyncio.Future[CheckedChunk]:
        """Check a chunk in a worker process (or a thread when workers is 0)."""
        loop = asyncio.get_running_loop()
        if self.limits.workers == 0:
            return asyncio.ensure_future(asyncio.to_thread(check_chunk, layout, numbers, rows))
        if self.executor is None:
            # spawned, not forked: a fork of a process running an event loop and threads is not safe
            self.executor = concurrent.futures.ProcessPoolExecutor(
                self.limits.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return loop.run_in_executor(self.executor, check_chunk, layout, numbers, rows)

    async def report(self, caller: Caller, import_id: int, progress: Progress) -> None:
        """Commit the rows read so far (another transaction: the import's own commits only at the end)."""
        async with account_transaction(self.pool, caller.account) as conn:
            await customer_imports.set_progress(conn, import_id, progress.read, progress.rejected)
        progress.reported = progress.read

    async def fail(self, caller: Caller, import_id: int, progress: Progress, reason: str) -> None:
        """Mark the job failed (nothing of the file was merged: its transaction rolled back)."""
        counts = (progress.read, 0, 0, progress.rejected)
        with contextlib.suppress(Exception):
            async with account_transaction(self.pool, caller.account) as conn:
                await customer_imports.set_finished(
                    conn, import_id, status="failed", counts=counts, rejected=progress.details, error=reason
                )

    async def close(self) -> None:
        """Stop running jobs (each is marked failed) and the worker processes."""
        for task in list(self.running):
            task.cancel()
        for task in list(self.running):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)


@dataclass(slots=True)
class Progress:
    """Rows read and refused so far, and the first refusals in detail."""

    read: int = 0
    rejected: int = 0
    reported: int = 0
    details: list[Rejection] = field(default_factory=list)

    def add_rejected(self, rejected: list[Rejection], keep: int, counted: int | None = None) -> None:
        """Count refusals; keep the first `keep` in detail."""
        self.rejected += len(rejected) if counted is None else counted
        self.details.extend(rejected[: max(0, keep - len(self.details))])


def row_of(rejection: Rejection) -> int:
    return rejection.row


def failure_reason(exc: Exception) -> str:
    """What the job's error says."""
    if isinstance(exc, UnicodeDecodeError):
        return f"the file is not UTF-8 text ({exc.reason} near byte {exc.start})"
    if isinstance(exc, csv.Error):
        return f"the file is not valid CSV: {exc}"
    return "the import failed; the database did not complete it (nothing was changed)"


def count_lines(upload: IO[bytes]) -> int:
    """Lines in the file (a last line without a newline counts), read in blocks."""
    upload.seek(0)
    lines, last = 0, b"\n"
    for block in iter(lambda: upload.read(READ_BLOCK), b""):
        lines += block.count(b"\n")
        last = block[-1:]
    return lines + (0 if last == b"\n" else 1)


def read_header(upload: IO[bytes]) -> list[str]:
    """The first CSV record of the file; raise ImportFileInvalid when there is none or it is not UTF-8."""
    upload.seek(0)
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    try:
        header = next(csv.reader(text), None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileInvalid(f"the header row is not UTF-8 CSV ({exc})") from exc
    finally:
        text.detach()
    if not header:
        raise ImportFileInvalid("the file is empty: the first row must name the columns (phone, first_name, ...)")
    return header


def read_rows(reader: CsvReader, count: int) -> tuple[list[int], list[list[str]]]:
    """Up to `count` more records and the line each ends on (its row number in a spreadsheet); blank lines skipped."""
    numbers: list[int] = []
    rows: list[list[str]] = []
    for row in reader:
        if row:
            numbers.append(reader.line_num)
            rows.append(row)
            if len(rows) == count:
                break
    return numbers, rows
