"""Attachments on requests and assets: limits, storage per tenant, who may download."""

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import tenant_context
from PIL import Image

from accounts.roles import BuiltinRole
from accounts.services import user_create
from assets.services import asset_create
from attachments.content import MAX_ATTACHMENT_SIZE
from attachments.models import Attachment
from attachments.services import attachment_create, attachment_delete
from requests_app.services import request_create


def png_bytes(colour="red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def media(settings, tmp_path):
    """A MEDIA_ROOT of the test's own, so nothing lands in .data/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Changing this one makes django-tenants' storage forget the old MEDIA_ROOT.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return Path(settings.MEDIA_ROOT)


STAFF = {
    "manager": BuiltinRole.MANAGER,
    "tech": BuiltinRole.TECHNICIAN,
    "ann": BuiltinRole.REQUESTER,
    "bob": BuiltinRole.REQUESTER,
}


@pytest.fixture
def people(alpha, make_people):
    return make_people(alpha, **STAFF)


@pytest.fixture
def ann_request(people):
    return request_create(title="Broken light", requester=people["ann"])


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


# --- Creating ----------------------------------------------------------------------


def test_an_image_is_stored_under_the_tenants_schema_with_a_random_name(
    alpha, media, people, ann_request
):
    content = png_bytes()
    attachment = attachment_create(
        file=upload("../../boiler photo.png", content, "text/html"),
        uploaded_by=people["ann"],
        request=ann_request,
    )

    attachment.refresh_from_db()
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "boiler photo.png",
        "image/png",
        len(content),
    )
    # The client said text/html; the stored type is what the bytes are.
    assert attachment.file.name.startswith("attachments/")
    assert attachment.file.name.endswith(".png")
    assert "boiler" not in attachment.file.name
    (path,) = stored_files(media)
    assert path.relative_to(media).parts[0] == alpha.schema_name != "public"
    assert path == media / alpha.schema_name / attachment.file.name
    assert path.read_bytes() == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", "Pump runs hot after 10 min, ~85 °C.\n".encode()),
        ("readings.csv", b"time,temp\n10:00,21.5\n"),
        ("manual.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        ("photo.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("pic.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 "),
    ],
)
def test_every_allowed_type_is_accepted(alpha, media, people, ann_request, name, content):
    attachment = attachment_create(
        file=upload(name, content), uploaded_by=people["ann"], request=ann_request
    )
    assert attachment.original_name == name
    assert attachment.file.read() == content


def test_a_file_over_the_size_limit_is_refused_with_the_limit_named(
    alpha, media, people, ann_request
):
    too_big = b"a" * (MAX_ATTACHMENT_SIZE + 1)
    with pytest.raises(ValidationError) as refused:
        attachment_create(
            file=upload("big.txt", too_big), uploaded_by=people["ann"], request=ann_request
        )
    assert refused.value.code == "file_too_large"
    assert "at most 10.0\xa0MB" in refused.value.messages[0]
    assert not Attachment.objects.exists()
    assert stored_files(media) == []

    # Exactly at the limit is fine.
    attachment_create(
        file=upload("big.txt", too_big[:-1]), uploaded_by=people["ann"], request=ann_request
    )
    assert Attachment.objects.get().size == MAX_ATTACHMENT_SIZE


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        # A "PNG" that is really a page with a script.
        ("cat.png", b"<html><script>alert(document.cookie)</script></html>", "file_type_mismatch"),
        # The same as text: markup is never stored, whatever it is called.
        ("notes.txt", b"<script>alert(1)</script>", "file_type_mismatch"),
        ("notes.txt", b"hello\n<svg onload=alert(1)>", "file_type_mismatch"),
        ("data.csv", b"a,b\n\x00\x01\x02", "file_type_mismatch"),
        ("data.csv", b"\xff\xfe not utf-8", "file_type_mismatch"),
        # A real PNG under a PDF's name.
        ("manual.pdf", png_bytes(), "file_type_mismatch"),
        # Not on the list at all, whatever the content.
        ("page.html", b"<p>hi</p>", "file_type_not_allowed"),
        ("image.svg", b"<svg/>", "file_type_not_allowed"),
        ("tool.exe", b"MZ\x90\x00", "file_type_not_allowed"),
        ("README", b"plain words", "file_type_not_allowed"),
        ("empty.txt", b"", "file_empty"),
    ],
)
def test_files_whose_type_is_not_allowed_are_refused(
    alpha, media, people, ann_request, name, content, code
):
    with pytest.raises(ValidationError) as refused:
        attachment_create(
            file=upload(name, content, "image/png"), uploaded_by=people["ann"], request=ann_request
        )
    assert refused.value.code == code
    if code != "file_empty":
        assert "Allowed: JPEG, PNG, GIF, WebP, PDF" in refused.value.messages[0]
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_only_people_who_see_the_request_may_attach(alpha, media, people, ann_request):
    with pytest.raises(ValidationError) as refused:
        attachment_create(
            file=upload("a.txt", b"x"), uploaded_by=people["bob"], request=ann_request
        )
    assert refused.value.code == "attachment_forbidden"
    # A manager sees every request.
    attachment_create(
        file=upload("a.txt", b"x"), uploaded_by=people["manager"], request=ann_request
    )
    assert Attachment.objects.get().uploaded_by == people["manager"]
    assert len(stored_files(media)) == 1


def test_an_attachment_belongs_to_exactly_one_of_request_and_asset(
    alpha, media, people, ann_request
):
    asset = asset_create(name="Pump", asset_tag="P-1")
    for owners in ({}, {"request": ann_request, "asset": asset}):
        with pytest.raises(ValidationError) as refused:
            attachment_create(file=upload("a.txt", b"x"), uploaded_by=people["manager"], **owners)
        assert refused.value.code == "attachment_owner"
    # The database says so too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Attachment.objects.create(
            file="attachments/x.txt",
            original_name="x.txt",
            content_type="text/plain",
            size=1,
            uploaded_by=people["manager"],
        )


def test_assets_take_attachments_from_users_with_view_asset(alpha, media, people):
    asset = asset_create(name="Pump", asset_tag="P-1")
    attachment = attachment_create(
        file=upload("manual.pdf", b"%PDF-1.4 pump"), uploaded_by=people["tech"], asset=asset
    )
    assert list(asset.attachments.all()) == [attachment]

    nobody = user_create(email="nobody@alpha.example", password=None, roles=[])
    with pytest.raises(ValidationError) as refused:
        attachment_create(file=upload("a.txt", b"x"), uploaded_by=nobody, asset=asset)
    assert refused.value.code == "attachment_forbidden"
    assert Attachment.objects.count() == 1


def test_a_failed_insert_leaves_no_file_behind(alpha, media, people):
    asset = asset_create(name="Pump", asset_tag="P-1")
    stale = type(asset).objects.get(pk=asset.pk)
    type(asset).objects.filter(pk=asset.pk).delete()
    # Foreign keys are checked at commit by default; the test never commits,
    # so ask PostgreSQL to check them at the INSERT, as a commit would.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(IntegrityError):
        attachment_create(
            file=upload("photo.png", png_bytes()), uploaded_by=people["tech"], asset=stale
        )

    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_deleting_removes_the_file_after_commit(
    alpha, media, people, ann_request, django_capture_on_commit_callbacks
):
    attachment = attachment_create(
        file=upload("a.txt", b"x"), uploaded_by=people["ann"], request=ann_request
    )
    with pytest.raises(ValidationError):
        attachment_delete(attachment=attachment, by=people["tech"])
    assert len(stored_files(media)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        attachment_delete(attachment=attachment, by=people["ann"])
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


# --- Web: upload and download --------------------------------------------------------


def test_upload_from_the_detail_page_and_download_under_the_original_name(
    alpha, alpha_client, media, people, ann_request
):
    alpha_client.force_login(people["ann"])
    content = png_bytes()
    response = alpha_client.post(
        f"/requests/{ann_request.pk}/attachments/",
        {"file": upload("Boiler (room 2).png", content, "image/png")},
        follow=True,
    )
    page = response.content.decode()
    assert "Boiler (room 2).png attached." in page
    attachment = Attachment.objects.get()
    assert f'href="/requests/attachments/{attachment.pk}/"' in page

    response = alpha_client.get(f"/requests/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="Boiler (room 2).png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_refused_upload_shows_the_reason(alpha, alpha_client, media, people, ann_request):
    alpha_client.force_login(people["ann"])
    response = alpha_client.post(
        f"/requests/{ann_request.pk}/attachments/",
        {"file": upload("cat.png", b"<html><script>alert(1)</script>", "image/png")},
        follow=True,
    )
    assert "is not what its name says (cat.png)" in response.content.decode()
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_a_requester_cannot_reach_another_requesters_attachments(
    alpha, alpha_client, media, people, ann_request
):
    attachment = attachment_create(
        file=upload("ann.txt", b"ann's secret"), uploaded_by=people["ann"], request=ann_request
    )
    alpha_client.force_login(people["bob"])
    response = alpha_client.get(f"/requests/attachments/{attachment.pk}/")
    assert response.status_code == 404
    assert b"ann's secret" not in response.content
    response = alpha_client.post(
        f"/requests/{ann_request.pk}/attachments/", {"file": upload("bob.txt", b"bob")}
    )
    assert response.status_code == 404
    assert alpha_client.post(f"/requests/attachments/{attachment.pk}/delete/").status_code == 404
    assert list(Attachment.objects.values_list("original_name", flat=True)) == ["ann.txt"]

    # Anonymous: to the login page, not the file.
    alpha_client.logout()
    response = alpha_client.get(f"/requests/attachments/{attachment.pk}/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_an_alpha_attachment_id_is_never_served_by_beta(
    alpha, beta, alpha_client, beta_client, media, make_people
):
    # Both tenant fixtures switch the connection; say which schema each step is in.
    with tenant_context(alpha):
        alpha_people = make_people(alpha, **STAFF)
        alpha_request = request_create(title="Alpha leak", requester=alpha_people["ann"])
        alpha_attachment = attachment_create(
            file=upload("alpha.txt", b"alpha's plan"),
            uploaded_by=alpha_people["ann"],
            request=alpha_request,
        )
    with tenant_context(beta):
        beta_people = make_people(beta, **STAFF)
        assert not Attachment.objects.exists()
    beta_client.force_login(beta_people["manager"])

    # Nothing with that id in beta's schema: not found, whatever alpha has.
    response = beta_client.get(f"/requests/attachments/{alpha_attachment.pk}/")
    assert response.status_code == 404
    assert b"alpha's plan" not in response.content

    # Ids are per schema and overlap: the same id in beta is beta's own file.
    # (Sequences are not rolled back between tests, so catch beta up first.)
    with tenant_context(beta):
        beta_request = request_create(title="Beta leak", requester=beta_people["ann"])
        beta_attachment = None
        while beta_attachment is None or beta_attachment.pk < alpha_attachment.pk:
            if beta_attachment is not None:
                beta_attachment.file.delete(save=False)
                beta_attachment.delete()
            beta_attachment = attachment_create(
                file=upload("beta.txt", b"beta's plan"),
                uploaded_by=beta_people["ann"],
                request=beta_request,
            )
    assert beta_attachment.pk == alpha_attachment.pk
    response = beta_client.get(f"/requests/attachments/{alpha_attachment.pk}/")
    assert b"".join(response.streaming_content) == b"beta's plan"
    assert response["Content-Disposition"] == 'attachment; filename="beta.txt"'

    # Each file is in its own tenant's folder.
    files = {path.relative_to(media).parts[0]: path.read_bytes() for path in stored_files(media)}
    assert files == {alpha.schema_name: b"alpha's plan", beta.schema_name: b"beta's plan"}

    alpha_client.force_login(alpha_people["ann"])
    response = alpha_client.get(f"/requests/attachments/{alpha_attachment.pk}/")
    assert b"".join(response.streaming_content) == b"alpha's plan"


def test_the_uploader_and_leads_delete_from_the_detail_page(
    alpha, alpha_client, media, people, ann_request, django_capture_on_commit_callbacks
):
    attachment = attachment_create(
        file=upload("ann.txt", b"ann's note"), uploaded_by=people["ann"], request=ann_request
    )
    delete_url = f"/requests/attachments/{attachment.pk}/delete/"
    alpha_client.force_login(people["tech"])
    people["tech"].trades.create(trade="general")
    # The technician sees the request (unassigned, of their trade) but did not upload it.
    page = alpha_client.get(f"/requests/{ann_request.pk}/").content.decode()
    assert "ann.txt" in page and delete_url not in page
    response = alpha_client.post(delete_url, follow=True)
    assert "You cannot delete this attachment." in response.content.decode()
    assert Attachment.objects.exists()

    alpha_client.force_login(people["manager"])
    assert delete_url in alpha_client.get(f"/requests/{ann_request.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha_client.post(delete_url, follow=True)
    assert "ann.txt deleted." in response.content.decode()
    assert not Attachment.objects.exists()
    assert stored_files(media) == []
