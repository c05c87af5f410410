from django.db import transaction

from trava.accounts.models import User


def user_register(*, username: str, email: str, password: str) -> User:
    """Create an account. The serializer has validated the password and uniqueness; the
    database constraints catch the race of two registrations for one name.

    What `create_user` does, with the password hashed before the transaction opens: the
    hash takes a few hundred milliseconds on purpose, and on SQLite an IMMEDIATE
    transaction holds the database's single write lock for its whole length, so twenty
    sign-ups at once queued every writer behind twenty hashes, past the busy timeout
    (503 "database is locked"). The INSERT alone is what needs the transaction.
    """
    user = User(username=User.normalize_username(username), email=User.objects.normalize_email(email))
    user.set_password(password)
    with transaction.atomic():
        user.save()
    return user


def user_change_password(*, user: User, password: str) -> User:
    """Set a new (validated) password. Saving it revokes the account's sessions: see
    trava.accounts.realtime (open sockets) and SIMPLE_JWT's CHECK_REVOKE_TOKEN (tokens). Hashed
    before the write transaction, as in user_register."""
    user.set_password(password)
    with transaction.atomic():
        user.save(update_fields=["password"])
    return user
