"""Zip imports that try to exhaust memory or lie about themselves (security review, finding 5)."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from supportops.knowledge.importing import ImportFileError, parse_upload


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def set_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size an entry declares, in its local header and in the
    central directory, leaving the compressed data alone: a lying archive."""
    raw = bytearray(data)
    encoded = name.encode()
    # local file header: signature PK\x03\x04, uncompressed size at offset 22
    at = raw.index(b"PK\x03\x04" + bytes(raw[4:4]))
    while True:
        name_len = struct.unpack_from("<H", raw, at + 26)[0]
        if raw[at + 30 : at + 30 + name_len] == encoded:
            struct.pack_into("<I", raw, at + 22, size)
            break
        at = raw.index(b"PK\x03\x04", at + 4)
    # central directory header: signature PK\x01\x02, uncompressed size at offset 24
    at = raw.index(b"PK\x01\x02")
    while True:
        name_len = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + name_len] == encoded:
            struct.pack_into("<I", raw, at + 24, size)
            return bytes(raw)
        at = raw.index(b"PK\x01\x02", at + 4)


def test_a_zip_bomb_is_refused_without_unpacking_it(settings):
    settings.KB_IMPORT_ZIP_MAX_UNPACKED_BYTES = 8 * 1024 * 1024
    # 64 entries of 4 MiB of zeros: 256 MiB unpacked from about 256 KiB.
    bomb = zip_of({f"a{i}.md": b"\0" * (4 * 1024 * 1024) for i in range(64)})
    assert len(bomb) < 400 * 1024
    with pytest.raises(ImportFileError, match="unpacks to more than 8 MiB in all"):
        parse_upload("bomb.zip", bomb)


def test_an_entry_that_lies_about_its_size_is_read_only_to_the_limit(settings):
    settings.KB_IMPORT_MAX_BYTES = 64 * 1024
    # 32 MiB inside, declared as 100 bytes: the old per-entry check trusted the declaration.
    liar = set_declared_size(zip_of({"big.md": b"x" * (32 * 1024 * 1024)}), "big.md", 100)
    with pytest.raises(ImportFileError) as caught:
        parse_upload("liar.zip", liar)
    assert caught.value.filename == "big.md"
    assert "sizes do not match" in caught.value.reason or "unpacks to more" in caught.value.reason


def test_an_entry_that_claims_more_than_it_holds_is_refused_with_a_reason():
    data = set_declared_size(zip_of({"short.md": b"# Short\n\nHello"}), "short.md", 10_000)
    with pytest.raises(ImportFileError, match="sizes do not match"):
        parse_upload("short.zip", data)


def test_a_corrupted_entry_is_refused_with_a_reason():
    data = bytearray(zip_of({"a.md": b"# Title\n\n" + b"body text " * 200}))
    start = data.index(b"a.md") + 4
    data[start + 10 : start + 20] = b"\xff" * 10  # damage the compressed stream
    with pytest.raises(ImportFileError, match="damaged|sizes do not match"):
        parse_upload("broken.zip", bytes(data))


def test_too_many_entries_are_refused(settings):
    settings.KB_IMPORT_ZIP_MAX_ENTRIES = 10
    many = zip_of({f"n{i}.txt": b"" for i in range(11)})
    with pytest.raises(ImportFileError, match="11 entries; at most 10"):
        parse_upload("many.zip", many)


def test_not_a_zip_at_all_is_refused():
    with pytest.raises(ImportFileError, match="not a valid zip"):
        parse_upload("fake.zip", b"PK\x03\x04 this is not really a zip")


def test_a_normal_zip_still_imports():
    items = parse_upload(
        "help.zip",
        zip_of({"billing/refunds.md": b"# Refunds\n\nWithin 30 days.", "notes.txt": b"skip"}),
    )
    assert [(i.title, i.category) for i in items] == [("Refunds", "billing")]


@pytest.mark.django_db
def test_the_import_page_answers_a_zip_bomb_with_a_message_not_a_500(
    client, owner, workspace, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.KB_IMPORT_ZIP_MAX_UNPACKED_BYTES = 1024 * 1024
    client.force_login(owner)
    bomb = zip_of({f"a{i}.md": b"\0" * (1024 * 1024) for i in range(4)})
    liar = set_declared_size(zip_of({"big.md": b"y" * (4 * 1024 * 1024)}), "big.md", 10)
    for name, data in (("bomb.zip", bomb), ("liar.zip", liar)):
        response = client.post(
            "/w/acme/knowledge/import/", {"file": SimpleUploadedFile(name, data)}
        )
        assert response.status_code in (200, 400), response.status_code
        assert (
            "nothing was imported" in response.content.decode().lower()
            or "unpacks" in response.content.decode()
            or "sizes do not match" in response.content.decode()
        )
    assert not workspace.articles.exists()


def test_remote_images_are_dropped_from_rendered_markdown(settings):
    from supportops.knowledge.rendering import render_markdown

    settings.SITE_URL = "https://support.example.com"
    html = render_markdown(
        "![pixel](https://tracker.example/p.gif) ![own](/static/img/a.png) "
        "![abs](https://support.example.com/media/b.png) ![proto](//tracker.example/q.gif) "
        '<img src="http://tracker.example/r.gif" alt="raw">'
    )
    assert "tracker.example" not in html
    assert 'src="/static/img/a.png"' in html
    assert 'src="https://support.example.com/media/b.png"' in html
    assert 'alt="pixel"' in html  # the alt text stays
