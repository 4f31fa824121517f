"""URLs of the goods catalogue (namespace ``inventory``)."""

urlpatterns: list = []
