"""The product's URLs plus the shared-record fixture's page, for the test suite only."""

from django.urls import include, path

from opencdmo import urls as product

handler403 = product.handler403
handler404 = product.handler404
handler500 = product.handler500

urlpatterns = [
    path("fixture/", include("tests.platform.shared_records.urls")),
    *product.urlpatterns,
]
