from django.urls import path

from photos import views

app_name = "photos"

urlpatterns = [
    path("trips/<int:trip_id>/albums/", views.TripAlbumsView.as_view(), name="trip-albums"),
    path("albums/<int:album_id>/", views.AlbumDetailView.as_view(), name="album-detail"),
    path("albums/<int:album_id>/photos/", views.AlbumPhotosView.as_view(), name="album-photos"),
    path("photos/<int:photo_id>/", views.PhotoDetailView.as_view(), name="photo-detail"),
    path("photos/<int:photo_id>/image/", views.PhotoImageView.as_view(), name="photo-image"),
    path("photos/<int:photo_id>/thumbnail/", views.PhotoThumbnailView.as_view(), name="photo-thumbnail"),
    path("photos/<int:photo_id>/comments/", views.PhotoCommentsView.as_view(), name="photo-comments"),
    path("photos/<int:photo_id>/reactions/", views.PhotoReactionsView.as_view(), name="photo-reactions"),
]
