from django.urls import path

from social import views

urlpatterns = [
    path("trips/<int:trip_id>/messages/", views.TripMessagesView.as_view(), name="trip-messages"),
    path("trips/<int:trip_id>/activities/", views.TripActivitiesView.as_view(), name="trip-activities"),
    path("activities/<int:activity_id>/", views.ActivityDetailView.as_view(), name="activity-detail"),
    path("activities/<int:activity_id>/rsvp/", views.ActivityRsvpView.as_view(), name="activity-rsvp"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="notifications-read"),
]
