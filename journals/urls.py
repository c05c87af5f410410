from django.urls import path

from journals import views

app_name = "journals"

urlpatterns = [
    path("journals/", views.JournalListView.as_view(), name="journal-list"),
    path("journals/<int:entry_id>/", views.JournalDetailView.as_view(), name="journal-detail"),
    path("journals/<int:entry_id>/publish/", views.JournalPublishView.as_view(), name="journal-publish"),
    path(
        "journals/<int:entry_id>/revisions/", views.JournalRevisionsView.as_view(), name="journal-revisions"
    ),
    path(
        "journals/<int:entry_id>/collaborators/",
        views.JournalCollaboratorsView.as_view(),
        name="journal-collaborators",
    ),
    path(
        "journals/<int:entry_id>/collaborators/<str:username>/",
        views.JournalCollaboratorDetailView.as_view(),
        name="journal-collaborator-detail",
    ),
    path("journals/<int:entry_id>/comments/", views.JournalCommentsView.as_view(), name="journal-comments"),
]
