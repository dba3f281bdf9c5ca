"""Attachments on the asset page: upload, list, download, delete, rejections, tenant isolation."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from accounts.roles import BuiltinRole
from accounts.services import user_create
from assets.services import asset_create
from attachments.content import MAX_ATTACHMENT_SIZE
from attachments.models import Attachment
from tenants.models import Tenant
from tenants.services import tenant_update

PDF = b"%PDF-1.4\n% pump manual\n"


@pytest.fixture
def media(settings, tmp_path):
    """A MEDIA_ROOT of the test's own, so nothing lands in .data/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return Path(settings.MEDIA_ROOT)


STAFF = {
    "manager": BuiltinRole.MANAGER,
    "tech": BuiltinRole.TECHNICIAN,
    "tech2": BuiltinRole.TECHNICIAN,
}


@pytest.fixture
def people(alpha, make_people):
    return make_people(alpha, **STAFF)


@pytest.fixture
def asset(alpha):
    return asset_create(name="Pump", asset_tag="P-1")


def upload_to(client, asset, name, content):
    return client.post(
        f"/assets/{asset.pk}/attachments/", {"file": SimpleUploadedFile(name, content)}
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_upload_list_download_and_delete(
    alpha_client, media, people, asset, django_capture_on_commit_callbacks
):
    alpha_client.force_login(people["tech"])

    response = upload_to(alpha_client, asset, "manual.pdf", PDF)

    assert response.status_code == 302
    attachment = Attachment.objects.get(asset=asset)
    assert (attachment.original_name, attachment.uploaded_by) == ("manual.pdf", people["tech"])
    assert [path.parent.parent.parent.parent.name for path in stored_files(media)] == ["t_alpha"]

    page = alpha_client.get(f"/assets/{asset.pk}/").content.decode()
    download_url = f"/requests/attachments/{attachment.pk}/"
    assert f'href="{download_url}"' in page and "manual.pdf" in page

    download = alpha_client.get(download_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"

    with django_capture_on_commit_callbacks(execute=True):
        deleted = alpha_client.post(f"/requests/attachments/{attachment.pk}/delete/", follow=True)
    assert deleted.redirect_chain[-1][0] == f"/assets/{asset.pk}/"
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert stored_files(media) == []


def test_only_the_uploader_or_a_lead_may_delete(alpha_client, media, people, asset):
    alpha_client.force_login(people["tech"])
    upload_to(alpha_client, asset, "notes.txt", b"Check the seal monthly.\n")
    attachment = Attachment.objects.get(asset=asset)

    alpha_client.force_login(people["tech2"])
    page = alpha_client.get(f"/assets/{asset.pk}/").content.decode()
    alpha_client.post(f"/requests/attachments/{attachment.pk}/delete/")

    assert f"/requests/attachments/{attachment.pk}/delete/" not in page
    assert Attachment.objects.filter(pk=attachment.pk).exists()

    alpha_client.force_login(people["manager"])
    assert f"/requests/attachments/{attachment.pk}/delete/" in (
        alpha_client.get(f"/assets/{asset.pk}/").content.decode()
    )
    alpha_client.post(f"/requests/attachments/{attachment.pk}/delete/")
    assert not Attachment.objects.filter(pk=attachment.pk).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("huge.pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_SIZE, "attachments may be at most 10"),
        ("script.html", b"<html><script>alert(1)</script></html>", "cannot be attached"),
        ("fake.png", b"not really a png", "content is not what its name says"),
    ],
)
def test_a_rejected_file_is_a_form_error_and_stores_nothing(
    alpha_client, media, people, asset, name, content, message
):
    alpha_client.force_login(people["tech"])

    response = upload_to(alpha_client, asset, name, content)

    assert response.status_code == 400
    errors = response.context["attachment_form"].errors["file"]
    assert message in errors[0]
    assert message in response.content.decode()
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_an_upload_without_a_file_is_a_form_error(alpha_client, people, asset):
    alpha_client.force_login(people["tech"])

    response = alpha_client.post(f"/assets/{asset.pk}/attachments/", {})

    assert response.status_code == 400
    assert "Choose a file to attach." in response.content.decode()


def test_users_without_view_asset_cannot_upload(alpha_client, media, alpha, asset):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    nobody = user_create(email="nobody@alpha.example", password=None)
    alpha_client.force_login(nobody)

    response = upload_to(alpha_client, asset, "manual.pdf", PDF)

    assert response.status_code == 403
    assert not Attachment.objects.exists()


def test_beta_cannot_fetch_alphas_attachment(alpha_client, media, people, asset, make_people):
    beta = Tenant.objects.get(subdomain="beta")
    alpha_client.force_login(people["manager"])
    upload_to(alpha_client, asset, "manual.pdf", PDF)
    attachment = Attachment.objects.get(asset=asset)
    url = f"/requests/attachments/{attachment.pk}/"
    # Cookies are host-only, but even with alpha's session cookie on beta's host...
    beta_client = type(alpha_client)(beta)
    beta_client.cookies = alpha_client.cookies
    anonymous = beta_client.get(url)

    # ...and as a signed-in beta manager with the same rights:
    with tenant_context(beta):
        beta_manager = make_people(beta, **STAFF)["manager"]
    beta_client.force_login(beta_manager)
    signed_in = beta_client.get(url)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert signed_in.status_code == 404
    assert PDF not in signed_in.content
