"""A multipart CSV upload streamed to a temporary file, with the size limit checked as the bytes arrive."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import IO, Final

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from campaign_api.errors import ImportFileInvalid, ImportTooLarge

# the paths whose bodies the middleware neither buffers nor reads as JSON: their routes stream them
STREAMED_UPLOADS: Final = frozenset({"/customers/imports"})
FILE_FIELD: Final = "file"


async def spooled_csv(request: Request, max_bytes: int) -> tuple[IO[bytes], str | None]:
    """The upload's `file` part, spooled by Starlette (to disk past 1 MiB), and its file name.

    The caller owns the file; a body over `max_bytes` stops the upload with ImportTooLarge (413)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ImportTooLarge(max_bytes)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ImportFileInvalid("send the CSV as multipart/form-data with the file in the part named 'file'")

    async def counted() -> AsyncGenerator[bytes, None]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes:
                raise ImportTooLarge(max_bytes)
            yield chunk

    parser = MultiPartParser(request.headers, counted(), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ImportFileInvalid(f"the multipart body could not be read ({exc.message})") from exc
    upload = form.get(FILE_FIELD)
    for _, value in form.multi_items():
        if isinstance(value, UploadFile) and value is not upload:
            await value.close()
    if not isinstance(upload, UploadFile):
        raise ImportFileInvalid("the multipart body has no file part named 'file'")
    return upload.file, upload.filename
