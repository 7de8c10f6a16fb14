"""Files people upload with policy records (application attachments, policy documents)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

MAX_BYTES = 20 * 1024 * 1024


def checked_upload(
    upload: UploadedFile[bytes], *, field: str, suffixes: set[str], kinds: str
) -> str:
    """The file's own name (no path, at most 150 characters) when its type is one of
    `suffixes` and it is at most 20 MB; else a message naming the file and what is accepted
    (`kinds`, in the user's words)."""
    name = (upload.name or "").rsplit("/", 1)[-1][-150:]
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if suffix not in suffixes:
        raise ValidationError(
            {field: _("“%(name)s”的类型不支持:请上传%(kinds)s") % {"name": name, "kinds": kinds}}
        )
    if (upload.size or 0) > MAX_BYTES:
        raise ValidationError({field: _("“%(name)s”超过20MB") % {"name": name}})
    return name
