"""A test app: a shared packing list with a live room of its own (`packing_<id>`), added
to INSTALLED_APPS by the test settings only. It proves that a new room type is the app's
own business: it registers its room type, its revocation and its events through the
`events` app, and needs no change in realtime/ (tests/events/test_new_room_type.py)."""
