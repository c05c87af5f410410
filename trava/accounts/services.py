from django.db import transaction

from trava.accounts.models import User


@transaction.atomic
def user_register(*, username: str, email: str, password: str) -> User:
    """Create an account. The serializer has validated the password and uniqueness; the
    database constraints catch the race of two registrations for one name."""
    return User.objects.create_user(username=username, email=email, password=password)
