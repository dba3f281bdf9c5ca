"""
``make serve``: gunicorn with gunicorn.conf.py and DEBUG off serves a
tenant's pages, the platform admin and the collected static files
(WhiteNoise), and logs each request with its tenant's schema.
"""

import re

import pytest
import requests
from server_process import Server, manage


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    manage("collectstatic", "--no-input", "--verbosity", "0", STATIC_ROOT=str(root))
    return root


@pytest.mark.django_db
def test_serves_tenant_page_admin_and_static_with_debug_off(
    committed_tenant, static_root, tmp_path
):
    tenant = committed_tenant("serve-co")
    log_path = tmp_path / "gunicorn.log"
    with Server(log_path, STATIC_ROOT=str(static_root)) as base_url:
        page = requests.get(
            f"{base_url}/accounts/login/", headers={"Host": "serve-co.localhost"}, timeout=30
        )
        admin = requests.get(f"{base_url}/admin/login/", headers={"Host": "localhost"}, timeout=30)
        missing = requests.get(
            f"{base_url}/no-such-page/", headers={"Host": "serve-co.localhost"}, timeout=30
        )
        stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page.text)
        assert stylesheet, page.text[:2000]
        css = requests.get(
            f"{base_url}{stylesheet[1]}", headers={"Host": "serve-co.localhost"}, timeout=30
        )

    assert page.status_code == 200
    assert tenant.name in page.text
    assert admin.status_code == 200
    assert "SmartMaintenance platform" in admin.text
    # DEBUG off: Django's own 404 page, not the technical one listing URL patterns.
    assert missing.status_code == 404
    assert "URLconf" not in missing.text and "DEBUG = True" not in missing.text
    # Hashed name from the manifest, served by WhiteNoise with a far-future cache header.
    assert css.status_code == 200
    assert "max-age=315360000" in css.headers["Cache-Control"]
    log = log_path.read_text()
    assert f'{tenant.schema_name} "GET /accounts/login/ HTTP/1.1" 200' in log
    assert 'public "GET /admin/login/ HTTP/1.1" 200' in log
