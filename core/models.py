"""What models of several apps share."""

from typing import Any, ClassVar

from django.db import models


class CountsBroadcasts(models.Model):
    """A row with a counter of the states broadcast about it (`COUNTER`, a field of the
    model). Two changes' broadcasts can reach a page in either order; numbered under the
    row's lock, the page keeps the higher. The counter is written only by an UPDATE of its
    own: a save of the whole row (the admin's) leaves it as stored, never as this instance
    read it, which could take it back below a number a page already holds."""

    COUNTER: ClassVar[str]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != self.COUNTER
            ]
        super().save(*args, **kwargs)
