from __future__ import annotations

from typing import Any

from tests.packing.models import PackingList, PackingMember


def can_view_packing_list(user: Any, packing_list: PackingList) -> bool:
    """Its members only."""
    return PackingMember.objects.filter(packing_list=packing_list, user_id=user.pk).exists()
