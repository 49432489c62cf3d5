"""Forms that may carry a file (a party's minutes): the request's size is limited before it is
read whole, and a file is read within AVTALEFLYT_MAX_UPLOAD_BYTES into the `Upload` a command takes.

Starlette's parser spools a file to disk however large it is; here the body is counted as it
arrives and refused past the limit (plus room for the form's text fields), so a huge upload
is neither read to its end nor stored.
"""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from avtaleflyt.models import uploads
from avtaleflyt.models.command_fields import Upload
from avtaleflyt.models.errors import DomainError
from avtaleflyt.tasks import files

FORM_ROOM = 1024 * 1024  # the form's other fields (texts of at most 50 000 characters) and the multipart framing
FILE_FIELDS = ("minutes_file",)


class _Overflow(Exception):
    pass


def _too_large(size: int, maximum: int) -> DomainError:
    try:
        uploads.check_size(size, maximum, name="the upload")
    except DomainError as exc:
        return exc
    raise AssertionError("not over the limit")


async def limited_form(request: Request, maximum: int) -> FormData:
    """The request's form, its body read up to `maximum` + FORM_ROOM bytes; DomainError file_too_large past that.

    The caller closes the form (`await form.close()`): its files are spooled to temporary files."""
    allowed = maximum + FORM_ROOM
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > allowed:
        raise _too_large(int(declared), maximum)
    seen = 0
    receive = request.receive

    async def counted() -> dict:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > allowed:
                raise _Overflow
        return message

    try:
        return await Request(request.scope, counted).form(max_files=len(FILE_FIELDS), max_fields=50)
    except _Overflow:
        raise _too_large(seen, maximum) from None


def form_values(form: FormData, maximum: int) -> dict[str, object]:
    """The form's fields as a command's input: a file field read into an Upload (name checked, at most
    `maximum` bytes), an empty file field (no file chosen) as not given. Raises DomainError."""
    values: dict[str, object] = {key: form.get(key) for key in form.keys()}
    for field in FILE_FIELDS:
        values[field] = _upload(values.get(field), maximum)
    return values


def _upload(value: object, maximum: int) -> Upload | None:
    if not isinstance(value, UploadFile):
        return None  # not a file: a text field of that name is not a file (never parsed from text)
    if not value.filename and not value.size:
        return None  # a file input left empty
    name = uploads.clean_file_name(value.filename or "", field="file")
    value.file.seek(0)
    return Upload(name=name, content=files.read_limited(value.file, maximum, name=name, field="file"))
