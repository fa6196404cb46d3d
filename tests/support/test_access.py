"""Support staff do all of the review work and never reach credentials or API users."""
from testkit import SANDBOX_KEY


def test_support_is_refused_credential_and_api_user_pages(support, account):
    for path in ("/admin/plugins/", "/admin/plugins/sandbox",
                 f"/admin/plugins/accounts/{account}/edit", "/admin/api-users/"):
        assert support.get(path).status_code == 403, path


def test_admin_reaches_the_same_credential_page(admin, account):
    assert admin.get(f"/admin/plugins/accounts/{account}/edit").status_code == 200


def test_support_pages_never_show_credentials(support, failed, record):
    order_id, fid = failed("credentials", "401 Unauthorized: invalid API key.")
    _, delivered = record("delivered")
    for page in ("/", "/fulfillments/", "/review/", f"/review/{fid}", f"/orders/{order_id}",
                 f"/review/{delivered}/reship", "/imports/", "/fulfillments/export.csv"):
        response = support.get(page)
        assert response.status_code == 200, page
        body = response.get_data(as_text=True)
        assert SANDBOX_KEY not in body and "credentials_encrypted" not in body, page
