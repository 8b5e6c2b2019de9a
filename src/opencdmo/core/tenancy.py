"""Tenancy, declared once per model: who owns a record and who may read it.

A tenant model says in one line which organisation owns each row and, where it applies,
which organisations the row is shared with (they read it; writing stays with the owner)::

    class Batch(models.Model):
        project = models.ForeignKey(Project, on_delete=models.PROTECT)
        ...
        objects = TenantManager(
            owner="project__cdmo",             # path to the owning Organisation
            shared_with=("project__sponsor",),  # paths to organisations that read it
            change=EDIT_BATCHES,               # role permission needed to change it
        )

Everything else derives from that declaration, never from a path written again elsewhere:

- ``Batch.objects`` inside ``caller_scope(user)`` returns the rows owned by or shared with the
  caller's organisation; outside any scope it raises ``ScopeError`` (django-scopes' guarantee,
  as pretix uses it), and ``scopes_disabled()`` is the one explicit way round it;
- reverse accessors (``project.batches``, a one-to-one's reverse) go through the same scope,
  and so do foreign keys from a shared record to rows its readers may not see;
- ``get_visible_or_404`` and ``get_changeable_or_404`` look objects up for pages and the API
  (another tenant's object answers exactly like a missing one);
- ``authorise_change`` is the write check of ``opencdmo.core.services``: 403 for a role
  without the permission, 404 for another tenant's object;
- the Django admin and the tenant-isolation test matrix read ``Batch.tenancy``.

``public=True`` declares master data every signed-in user reads (site profiles): its queryset
needs no scope, while changing it still belongs to the owner. A model whose default manager
must stay unscoped (the user model, which authentication loads before any scope exists)
declares ``tenancy = Tenancy(owner=...)`` instead; its reverse accessors are still scoped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.db.models.fields.related_descriptors import (
    ForwardManyToOneDescriptor,
    ReverseManyToOneDescriptor,
    ReverseOneToOneDescriptor,
    create_reverse_many_to_one_manager,
)
from django.http import Http404
from django.utils.functional import cached_property
from django_scopes import scope
from django_scopes.manager import DisabledQuerySet
from django_scopes.state import get_scope

__all__ = [
    "ORGANISATION",
    "Tenancy",
    "TenantManager",
    "authorise_change",
    "caller_organisation_ids",
    "caller_scope",
    "get_changeable_or_404",
    "get_owned_or_404",
    "get_visible_or_404",
    "guard_accessors",
    "scoped",
    "tenancy_of",
    "tenant_models",
]

M = TypeVar("M", bound=models.Model)

ORGANISATION = "organisation"
"""The one django-scopes dimension: the ids of the organisations whose rows the caller reads."""

_REGISTRY: dict[type[models.Model], Tenancy] = {}


def caller_organisation_ids(user: Any) -> list[int]:
    """The organisations ``user`` acts for: its own, or none (anonymous, inactive, orphan)."""
    if not _signed_in(user):
        return []
    return [user.organisation_id] if user.organisation_id else []


@contextmanager
def caller_scope(user: Any) -> Iterator[None]:
    """Run the enclosed queries as ``user`` sees the database."""
    with scope(**{ORGANISATION: caller_organisation_ids(user)}):
        yield


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


class Tenancy:
    """The declaration: owner path, shared-with paths, public reading, change permissions.

    Paths are Django lookups from the model to an ``accounts.Organisation`` foreign key
    (``"owner"``, ``"site__owner"``); ``"id"`` on the organisation model means itself.
    ``curate`` is a permission that changes every tenant's rows (the platform administrator's
    master-data upkeep); its changes are audited on the owner's chain. ``shared_change`` is
    the later capability by which an organisation a record is shared with writes to it too
    (a sponsor approving a document); without it writing stays with the owner.
    """

    def __init__(
        self,
        *,
        owner: str,
        shared_with: Iterable[str] = (),
        public: bool = False,
        change: str | None = None,
        curate: str | None = None,
        shared_change: str | None = None,
    ) -> None:
        self.owner = owner
        self.shared_with = tuple(shared_with)
        self.public = public
        self.change = change
        self.curate = curate
        self.shared_change = shared_change
        self.model: type[models.Model] | None = None

    def __repr__(self) -> str:
        model = self.model._meta.label if self.model is not None else "unbound"
        return f"<Tenancy of {model}: owner={self.owner!r} shared_with={self.shared_with!r}>"

    def contribute_to_class(self, cls: type[models.Model], name: str) -> None:
        """Bind to ``cls`` as ``cls.tenancy`` and join the registry the tests walk."""
        self.model = cls
        cls.tenancy = self
        if not cls._meta.abstract:
            _REGISTRY[cls] = self

    # --- who --------------------------------------------------------------------------------

    @property
    def reader_paths(self) -> tuple[str, ...]:
        return (self.owner, *self.shared_with)

    def owned_q(self, organisation_ids: Iterable[int]) -> Q:
        """Rows owned by one of ``organisation_ids``."""
        return Q(**{f"{self.owner}__in": list(organisation_ids)})

    def readable_q(self, organisation_ids: Iterable[int]) -> Q:
        """Rows owned by or shared with one of ``organisation_ids`` (public rows aside)."""
        ids = list(organisation_ids)
        condition = Q(pk__in=[])
        for path in self.reader_paths:
            condition |= Q(**{f"{path}__in": ids})
        return condition

    def owner_id(self, obj: models.Model) -> int | None:
        """The owning organisation's id, following the path from ``obj`` (unsaved ones too)."""
        return _follow(obj, self.owner)

    def shared_ids(self, obj: models.Model) -> list[int]:
        """The organisations ``obj`` is shared with, owner excluded, in declaration order."""
        owner = self.owner_id(obj)
        found = (_follow(obj, path) for path in self.shared_with)
        return list(dict.fromkeys(i for i in found if i is not None and i != owner))

    def is_readable_by(self, obj: models.Model, organisation_ids: Iterable[int]) -> bool:
        """Whether callers of ``organisation_ids`` read ``obj`` under this declaration."""
        ids = set(organisation_ids)
        if self.public:
            return True
        return self.owner_id(obj) in ids or bool(ids & set(self.shared_ids(obj)))

    # --- querysets --------------------------------------------------------------------------

    def visible(self, queryset: models.QuerySet[M], user: Any) -> models.QuerySet[M]:
        """What ``user`` may read of ``queryset``, whatever scope is active."""
        if not _signed_in(user):
            return queryset.none()
        if self.public:
            return queryset
        return queryset.filter(self.readable_q(caller_organisation_ids(user)))

    def curates(self, user: Any) -> bool:
        """Whether ``user`` changes every tenant's rows of this model (platform upkeep)."""
        return _signed_in(user) and self._holds(user, self.curate)

    def changeable(self, queryset: models.QuerySet[M], user: Any) -> models.QuerySet[M]:
        """What ``user`` may change of ``queryset``: its own rows, every row for a curator."""
        if not _signed_in(user):
            return queryset.none()
        if self.curates(user):
            return queryset
        ids = caller_organisation_ids(user)
        condition = self.owned_q(ids)
        if self._holds(user, self.shared_change):
            for path in self.shared_with:
                condition |= Q(**{f"{path}__in": ids})
        return queryset.filter(condition)

    def owns(self, user: Any, obj: models.Model) -> bool:
        """Whether ``obj`` belongs to ``user``'s organisation."""
        return self.owner_id(obj) in caller_organisation_ids(user)

    def may_change(self, user: Any, obj: models.Model | None = None) -> bool:
        """Whether ``user`` holds a change permission and, given ``obj``, may use it there:
        as its owner, as a sharer holding ``shared_change``, or as a curator."""
        if not _signed_in(user):
            return False
        if self.curates(user):
            return True
        as_owner = self._holds(user, self.change)
        as_sharer = self._holds(user, self.shared_change)
        if obj is None:
            return as_owner or as_sharer
        if as_owner and self.owns(user, obj):
            return True
        return as_sharer and bool(set(caller_organisation_ids(user)) & set(self.shared_ids(obj)))

    @staticmethod
    def _holds(user: Any, permission: str | None) -> bool:
        return permission is not None and user.can(permission)


def _follow(obj: Any, path: str) -> int | None:
    """Walk ``a__b__c`` from ``obj`` and return the last step's id (no query for the last)."""
    *steps, last = path.split("__")
    node = obj
    for step in steps:
        node = getattr(node, step, None)
        if node is None:
            return None
    if last in ("id", "pk"):
        return node.pk
    field = node._meta.get_field(last)
    return getattr(node, field.attname)


def tenancy_of(model: type[models.Model] | models.Model) -> Tenancy:
    """The declaration of ``model`` (a class or an instance); a model without one is an error."""
    cls: Any = model if isinstance(model, type) else type(model)
    try:
        return _REGISTRY[cls._meta.concrete_model]
    except KeyError:
        raise LookupError(f"{cls._meta.label} declares no tenancy.") from None


def tenant_models() -> dict[type[models.Model], Tenancy]:
    """Every model with a tenancy declaration (for the admin checks and isolation tests)."""
    return dict(_REGISTRY)


# --- the scoped manager ---------------------------------------------------------------------


class TenantManager(models.Manager):
    """The default manager of a tenant model, scoped by its declaration.

    Given keyword arguments it *is* the declaration (see the module docstring). Django builds
    reverse accessors by subclassing the default manager and calling it without arguments,
    so the scope is read from ``self.model.tenancy``, not from this instance.
    """

    def __init__(self, **declaration: Any) -> None:
        super().__init__()
        self._declaration = declaration

    def contribute_to_class(self, cls: type[models.Model], name: str) -> None:
        super().contribute_to_class(cls, name)
        if self._declaration:
            Tenancy(**self._declaration).contribute_to_class(cls, "tenancy")

    def get_queryset(self) -> models.QuerySet[Any]:
        return scoped(super().get_queryset())

    def with_scopes_disabled(self) -> models.QuerySet[Any]:
        """Every row, for the audit verifier and read-only admin lists."""
        return super().get_queryset()


def scoped(queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """``queryset`` narrowed to the active caller scope; refused when no scope is active."""
    model = queryset.model
    tenancy = tenancy_of(model)
    if tenancy.public:
        return queryset
    current = get_scope()
    if not current.get("_enabled", True):
        return queryset
    if ORGANISATION not in current:
        return DisabledQuerySet(model, using=queryset.db, missing_scopes=[ORGANISATION])
    return queryset.filter(tenancy.readable_q(current[ORGANISATION] or []))


# --- lookups for pages, the API and services -----------------------------------------------


def _queryset(model_or_queryset: Any) -> models.QuerySet[Any]:
    """A queryset as given, or the model's default (scoped) manager's."""
    if isinstance(model_or_queryset, models.QuerySet):
        return model_or_queryset
    return model_or_queryset._default_manager.all()


def get_visible_or_404(model_or_queryset: Any, user: Any, **lookup: Any) -> Any:
    """The object ``user`` may read; another tenant's answers exactly like a missing one."""
    queryset = _queryset(model_or_queryset)
    obj = tenancy_of(queryset.model).visible(queryset, user).filter(**lookup).first()
    if obj is None:
        raise Http404("No such object.")
    return obj


def get_owned_or_404(model_or_queryset: Any, user: Any, **lookup: Any) -> Any:
    """The object the caller's organisation owns, for owner-only views of a shared record."""
    queryset = _queryset(model_or_queryset)
    owned = tenancy_of(queryset.model).owned_q(caller_organisation_ids(user))
    obj = queryset.filter(owned, **lookup).first() if _signed_in(user) else None
    if obj is None:
        raise Http404("No such object.")
    return obj


def get_changeable_or_404(model_or_queryset: Any, user: Any, **lookup: Any) -> Any:
    """The object ``user`` may change: 403 without the role's permission, 404 if not its own."""
    queryset = _queryset(model_or_queryset)
    tenancy = tenancy_of(queryset.model)
    if not tenancy.may_change(user):
        raise PermissionDenied("Your role may not change this.")
    obj = tenancy.changeable(queryset, user).filter(**lookup).first()
    if obj is None:
        raise Http404("No such object.")
    return obj


def authorise_change(actor: Any, obj: models.Model) -> None:
    """The write check of every audited service; ``actor=None`` is the system (seeding).

    A role without the declared permission gets 403; another tenant's object 404, like a
    missing one, even where the caller may read it (shared or public records) unless the
    declaration grants its sharers ``shared_change``.
    """
    if actor is None:
        return
    tenancy = tenancy_of(obj)
    if not tenancy.may_change(actor):
        raise PermissionDenied("Your role may not change this.")
    if not tenancy.may_change(actor, obj):
        raise Http404("No such object.")


# --- accessors that would otherwise bypass the scope ---------------------------------------


class _ScopedReverseManyDescriptor(ReverseManyToOneDescriptor):
    """``organisation.users`` where the related model's default manager is not scoped."""

    @cached_property
    def related_manager_cls(self) -> type[models.Manager[Any]]:
        return create_reverse_many_to_one_manager(TenantManager, self.rel)


class _ScopedReverseOneDescriptor(ReverseOneToOneDescriptor):
    """``site.private``: Django reads it through the unscoped base manager."""

    def get_queryset(self, **hints: Any) -> models.QuerySet[Any]:
        return scoped(super().get_queryset(**hints))


class _ScopedForwardDescriptor(ForwardManyToOneDescriptor):
    """A shared record's key to a row its readers may not see answers like a missing row."""

    def get_queryset(self, **hints: Any) -> models.QuerySet[Any]:
        return scoped(super().get_queryset(**hints))


def guard_accessors() -> None:
    """Route every accessor into a private tenant model through its scope.

    Reverse many accessors already subclass the default manager, which is scoped on
    ``TenantManager`` models; the rest (an unscoped default manager, reverse one-to-ones,
    foreign keys from shared records) would read through Django's base manager.
    """
    for model, tenancy in _REGISTRY.items():
        if tenancy.public:
            continue
        for field in model._meta.concrete_fields:
            if not (field.many_to_one or field.one_to_one) or field.remote_field.hidden:
                continue
            rel = field.remote_field
            holder, accessor = rel.model, rel.get_accessor_name()
            if field.one_to_one:
                setattr(holder, accessor, _ScopedReverseOneDescriptor(rel))
            elif not isinstance(model._default_manager, TenantManager):
                setattr(holder, accessor, _ScopedReverseManyDescriptor(rel))
    for model, tenancy in _REGISTRY.items():
        if not tenancy.shared_with:
            continue
        for field in model._meta.concrete_fields:
            target = field.related_model if field.many_to_one else None
            if target is not None and target in _REGISTRY and not _REGISTRY[target].public:
                setattr(model, field.name, _ScopedForwardDescriptor(field))
