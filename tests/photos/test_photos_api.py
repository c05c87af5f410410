"""Albums, photos, comments and reactions through the in-process API client: counts,
query bounds, payload equality with the shared serializers, file cleanup, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from photos.models import Album, Photo, PhotoComment, PhotoReaction
from photos.serializers import AlbumSerializer, PhotoCommentSerializer, PhotoSerializer
from photos.services import photo_upload
from tests.photos.factories import TripPeople, image_bytes, make_album, make_photo_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db) -> TripPeople:  # type: ignore[no-untyped-def]
    return TripPeople("private", "api")


def _upload(album: Album, user, size=(16, 12)) -> Photo:  # type: ignore[no-untyped-def]
    return photo_upload(album=album, user=user, file=io.BytesIO(image_bytes("PNG", size=size)))


def test_rest_representations_equal_the_request_free_serializers(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    api = auth_api(people.editor)
    album_body = api.post(f"/api/trips/{people.trip.pk}/albums/", {"title": "Porto"}, format="json").json()
    album = Album.objects.get(pk=album_body["id"])
    upload = api.post(
        f"/api/albums/{album.pk}/photos/",
        {"image": io.BytesIO(image_bytes("JPEG")), "caption": "Bridge"},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()
    photo = Photo.objects.get(pk=upload.json()["id"])
    comment = api.post(f"/api/photos/{photo.pk}/comments/", {"text": "wow"}, format="json").json()
    api.post(f"/api/photos/{photo.pk}/reactions/", {"emoji": "❤️"}, format="json")

    from trava.api.camel import camelize

    assert api.get(f"/api/photos/{photo.pk}/").json() == camelize(PhotoSerializer(photo).data)
    assert api.get(f"/api/albums/{album.pk}/").json() == camelize(AlbumSerializer(album).data)
    assert comment == camelize(PhotoCommentSerializer(PhotoComment.objects.get()).data)
    listed = api.get(f"/api/albums/{album.pk}/photos/").json()["results"][0]
    assert listed == camelize(PhotoSerializer(photo).data)
    assert listed["commentCount"] == 1 and listed["reactions"] == [{"emoji": "❤️", "count": 1}]


def test_list_counts_are_right_with_the_same_number_of_queries_for_1_and_50_photos(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    api = auth_api(people.viewer)
    album = make_album(people.trip)
    others = [people.owner, people.editor, people.viewer]

    def fill(count: int) -> None:
        for index in range(count):
            photo = make_photo_row(album, user=people.owner, caption=f"p{index}")
            for user in others[: index % 3 + 1]:
                PhotoComment.objects.create(photo=photo, author=user, text="c")
                PhotoReaction.objects.create(photo=photo, user=user, emoji="👍")
            PhotoReaction.objects.create(photo=photo, user=people.owner, emoji="🔥")

    def listing() -> tuple[int, list[dict]]:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"/api/albums/{album.pk}/photos/?pageSize=100")
        assert response.status_code == 200
        return len(queries), response.json()["results"]

    fill(1)
    queries_for_one, results = listing()
    fill(49)
    queries_for_fifty, results = listing()
    assert queries_for_one == queries_for_fifty
    assert len(results) == 50
    for photo in results:
        index = int(photo["caption"][1:])
        expected = index % 3 + 1
        assert photo["commentCount"] == expected
        counts = {r["emoji"]: r["count"] for r in photo["reactions"]}
        assert counts == {"👍": expected, "🔥": 1}


def test_deleting_a_photo_an_album_or_the_trip_deletes_the_files_after_commit(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    album = make_album(people.trip)
    photos = [_upload(album, people.owner) for _ in range(3)]
    names = [name for p in photos for name in (p.image.name, p.thumbnail.name)]
    assert all(default_storage.exists(name) for name in names)
    api = auth_api(people.editor)

    with pytest.raises(RuntimeError), transaction.atomic():  # a rolled-back delete keeps them
        Photo.objects.filter(pk=photos[0].pk).delete()
        raise RuntimeError
    assert default_storage.exists(photos[0].image.name)

    with django_capture_on_commit(execute=True):
        assert api.delete(f"/api/photos/{photos[0].pk}/").status_code == 204
    assert not default_storage.exists(names[0]) and not default_storage.exists(names[1])

    with django_capture_on_commit(execute=True):
        assert api.delete(f"/api/albums/{album.pk}/").status_code == 204
    assert not any(default_storage.exists(name) for name in names)

    other = make_album(people.trip)
    last = _upload(other, people.owner)
    with django_capture_on_commit(execute=True):
        people.trip.delete()
    assert not default_storage.exists(last.image.name) and not default_storage.exists(last.thumbnail.name)


def django_capture_on_commit(execute: bool):  # type: ignore[no-untyped-def]
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=execute)


@override_settings(PHOTO_MAX_UPLOAD_BYTES=4000)
def test_the_streaming_limit_stops_a_file_whose_body_passed_the_length_check(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    # 40 KB body: under the Content-Length check (limit + 64 KiB envelope), over the file limit.
    before = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    response = auth_api(people.editor).post(
        f"/api/albums/{make_album(people.trip).pk}/photos/",
        {"image": io.BytesIO(b"\xff" * 40_000)},
        format="multipart",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert Photo.objects.count() == 0
    assert {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()} == before


def test_album_cover_must_be_a_photo_of_the_album(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    api = auth_api(people.editor)
    album, elsewhere = make_album(people.trip), make_album(people.trip)
    own, foreign = make_photo_row(album), make_photo_row(elsewhere)
    bad = api.patch(f"/api/albums/{album.pk}/", {"coverPhoto": foreign.pk}, format="json")
    assert bad.status_code == 400 and "coverPhoto" in bad.json()["fields"]
    good = api.patch(f"/api/albums/{album.pk}/", {"coverPhoto": own.pk}, format="json")
    assert good.status_code == 200
    assert good.json()["coverThumbnailUrl"] == f"/api/photos/{own.pk}/thumbnail/"
    assert (
        api.patch(f"/api/albums/{album.pk}/", {"coverPhoto": None}, format="json").json()["coverPhoto"]
        is None
    )


def test_malformed_and_oversized_input_on_every_write_endpoint_is_4xx_with_fields(people, auth_api) -> None:  # type: ignore[no-untyped-def]
    api = auth_api(people.owner)
    album = make_album(people.trip)
    photo = make_photo_row(album)
    long = "x" * 6000
    json_cases = [
        ("post", f"/api/trips/{people.trip.pk}/albums/", {}, "title"),
        ("post", f"/api/trips/{people.trip.pk}/albums/", {"title": long}, "title"),
        ("post", f"/api/trips/{people.trip.pk}/albums/", {"title": "t", "description": long}, "description"),
        ("post", f"/api/trips/{people.trip.pk}/albums/", {"title": ["a"]}, "title"),
        ("patch", f"/api/albums/{album.pk}/", {"title": ""}, "title"),
        ("patch", f"/api/albums/{album.pk}/", {"coverPhoto": "abc"}, "coverPhoto"),
        ("patch", f"/api/albums/{album.pk}/", {"coverPhoto": 10**30}, "coverPhoto"),
        ("patch", f"/api/photos/{photo.pk}/", {}, "caption"),
        ("patch", f"/api/photos/{photo.pk}/", {"caption": long}, "caption"),
        ("patch", f"/api/photos/{photo.pk}/", {"caption": {"a": 1}}, "caption"),
        ("post", f"/api/photos/{photo.pk}/comments/", {"text": ""}, "text"),
        ("post", f"/api/photos/{photo.pk}/comments/", {"text": long}, "text"),
        ("post", f"/api/photos/{photo.pk}/reactions/", {}, "emoji"),
        ("post", f"/api/photos/{photo.pk}/reactions/", {"emoji": "x" * 33}, "emoji"),
        ("post", f"/api/photos/{photo.pk}/reactions/", {"emoji": "a b"}, "emoji"),
        ("post", f"/api/photos/{photo.pk}/reactions/", {"emoji": "\x00"}, "emoji"),
        ("post", f"/api/photos/{photo.pk}/reactions/", [1, 2], "nonFieldErrors"),
    ]
    problems = []
    for method, url, body, field in json_cases:
        response = getattr(api, method)(url, body, format="json")
        if response.status_code != 400 or field not in response.json().get("fields", {}):
            problems.append(
                f"{method} {url} {str(body)[:40]}: {response.status_code} {response.content[:150]}"
            )
    for method, url in [
        ("post", f"/api/trips/{people.trip.pk}/albums/"),
        ("patch", f"/api/albums/{album.pk}/"),
        ("post", f"/api/photos/{photo.pk}/comments/"),
    ]:
        response = getattr(api, method)(url, b"{not json", content_type="application/json")
        if response.status_code != 400:
            problems.append(f"{method} {url} garbage: {response.status_code}")
    upload_url = f"/api/albums/{album.pk}/photos/"
    for body, field in [({}, "image"), ({"image": "text, not a file"}, "image")]:
        response = api.post(upload_url, body, format="multipart")
        if response.status_code != 400 or field not in response.json().get("fields", {}):
            problems.append(f"upload {body}: {response.status_code} {response.content[:150]}")
    response = api.post(
        upload_url, {"image": io.BytesIO(image_bytes("PNG")), "caption": long}, format="multipart"
    )
    if response.status_code != 400 or "caption" not in response.json().get("fields", {}):
        problems.append(f"upload long caption: {response.status_code}")
    if api.post(upload_url, {"title": "x"}, format="json").status_code != 415:
        problems.append("upload as JSON is not 415")
    if api.delete(f"/api/photos/{photo.pk}/reactions/").status_code != 400:
        problems.append("unreact without emoji is not 400")
    assert not problems, "\n".join(problems)
    assert Photo.objects.count() == 1
