from django.urls import path

from trips import views

urlpatterns = [
    path("trips/", views.TripListView.as_view(), name="trip-list"),
    path("trips/<int:trip_id>/", views.TripDetailView.as_view(), name="trip-detail"),
    path("trips/<int:trip_id>/members/", views.TripMemberListView.as_view(), name="trip-member-list"),
    path(
        "trips/<int:trip_id>/members/<int:user_id>/",
        views.TripMemberDetailView.as_view(),
        name="trip-member-detail",
    ),
    path("trips/<int:trip_id>/itinerary/", views.ItineraryListView.as_view(), name="itinerary-list"),
    path(
        "trips/<int:trip_id>/itinerary/reorder/",
        views.ItineraryReorderView.as_view(),
        name="itinerary-reorder",
    ),
    path(
        "trips/<int:trip_id>/itinerary/<int:item_id>/",
        views.ItineraryDetailView.as_view(),
        name="itinerary-detail",
    ),
    path("trips/<int:trip_id>/expenses/", views.ExpenseListView.as_view(), name="expense-list"),
    path(
        "trips/<int:trip_id>/expenses/<int:expense_id>/",
        views.ExpenseDetailView.as_view(),
        name="expense-detail",
    ),
    path("trips/<int:trip_id>/budget/", views.BudgetView.as_view(), name="trip-budget"),
]
