"""URLs of the stock ledger screens (namespace ``inventory``)."""

urlpatterns: list = []
