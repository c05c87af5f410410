"""The admin lists every model of photos and journals, with thumbnails of the photos."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from journals.models import JournalComment
from photos.models import PhotoComment, PhotoReaction
from photos.services import photo_upload
from tests.journals.factories import make_entry
from tests.photos.factories import TripPeople, image_bytes, make_album

pytestmark = pytest.mark.django_db


def test_admin_pages_render_with_image_previews(user_factory) -> None:  # type: ignore[no-untyped-def]
    people = TripPeople("private", "adm")
    album = make_album(people.trip)
    photo = photo_upload(album=album, user=people.owner, file=io.BytesIO(image_bytes("PNG")))
    album.cover_photo = photo
    album.save()
    PhotoComment.objects.create(photo=photo, author=people.viewer, text="c")
    PhotoReaction.objects.create(photo=photo, user=people.viewer, emoji="👍")
    entry = make_entry(author=people.owner, collaborators=(people.editor,))
    JournalComment.objects.create(entry=entry, author=people.viewer, text="c")

    client = Client()
    client.force_login(user_factory(username="root", is_staff=True, is_superuser=True))
    preview = f'src="/admin/photos/photo/{photo.pk}/thumbnail/"'
    for url in ("/admin/photos/photo/", f"/admin/photos/photo/{photo.pk}/change/", "/admin/photos/album/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert preview in page.content.decode(), url
    for url in (
        "/admin/photos/photocomment/",
        "/admin/photos/photoreaction/",
        "/admin/journals/journalentry/",
        f"/admin/journals/journalentry/{entry.pk}/change/",
        "/admin/journals/journalrevision/",
        "/admin/journals/journalcomment/",
        "/admin/journals/journalcollaborator/",
    ):
        assert client.get(url).status_code == 200, url
    thumbnail = client.get(f"/admin/photos/photo/{photo.pk}/thumbnail/")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    assert Client().get(f"/admin/photos/photo/{photo.pk}/thumbnail/").status_code == 302  # to the login
