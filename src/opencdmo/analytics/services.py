"""Monitoring models from request to approval, and the verdicts and alarms they give.

Every write goes through ``opencdmo.core.services`` (permission from the tenancy
declaration, one audit entry with a reason). A model judges nothing until CDMO QA approves it
by electronic signature (``quality.services.sign``, meaning *approved*); only the latest
approved version of a product at a site judges its batches.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django_scopes import scopes_disabled

from opencdmo.accounts.roles import BUILD_MODELS, SIGN_RECORDS
from opencdmo.analytics import fitting
from opencdmo.analytics.models import Alarm, MonitoringModel, ProjectDataSharing, Verdict
from opencdmo.core import services as core
from opencdmo.core.files import FileStore
from opencdmo.core.tenancy import caller_organisation_ids
from opencdmo.engines.monitoring import MPCA, MPLS, MonitoringInputError, load_model, save_model
from opencdmo.engines.progress import ProgressCallback
from opencdmo.manufacturing import services as manufacturing
from opencdmo.manufacturing.models import Batch
from opencdmo.notifications import services as notifications
from opencdmo.quality import services as quality
from opencdmo.quality import signing
from opencdmo.quality.models import Meaning

__all__ = [
    "FINISHED_STATES",
    "MODEL",
    "approve_model",
    "fit_model",
    "judge_batch",
    "judging_model",
    "live",
    "request_model",
    "set_data_sharing",
    "sponsor_reads_data",
]

FINISHED_STATES = ("complete", "under_review", "dispositioned")
MIN_REFERENCE_BATCHES = 5
TOP_CONTRIBUTIONS = 5


def _approval_check(actor: Any, model: MonitoringModel) -> None:
    """QA of the owning CDMO records the approval its signature gave."""
    if actor is None:
        return
    if not actor.can(SIGN_RECORDS):
        raise PermissionDenied("Your role may not approve monitoring models.")
    if not MonitoringModel.tenancy.owns(actor, model):
        raise Http404("No such object.")


MODEL = core.Writable(
    MonitoringModel,
    fields=("version", "name", "quality_attribute", "n_components"),
    noun="monitoring_model",
)
APPROVAL = core.Writable(
    MonitoringModel,
    fields=("approved_at", "approved_by"),
    noun="monitoring_model",
    authorise=_approval_check,
)
VERDICT = core.Writable(
    Verdict,
    fields=(
        "status",
        "t2",
        "t2_limit",
        "spe",
        "spe_limit",
        "alarmed_variables",
        "contributions",
        "first_alarm_h",
        "model_label",
    ),
    noun="batch_verdict",
)
ALARM = core.Writable(
    Alarm,
    fields=(
        "sample",
        "time_h",
        "at",
        "statistic",
        "value",
        "limit",
        "contributions",
        "model_label",
    ),
    noun="monitoring_alarm",
)
SHARING = core.Writable(ProjectDataSharing, fields=("share_process_data",), noun="data_sharing")

signing.register_signable(
    MonitoringModel,
    fields=(
        "site",
        "product",
        "version",
        "quality_attribute",
        "n_components",
        "confidence",
        "run_length",
        "file_sha256",
        "arrays_sha256",
        "variables",
    ),
    meanings=(str(Meaning.APPROVED),),
)


# --- requesting and fitting -------------------------------------------------------------------


def reference_candidates(site: Any, product: Any) -> Any:
    """Finished batches of ``product`` at ``site`` with process data, newest first."""
    return (
        Batch.objects.filter(
            site=site, project__product=product, state__in=FINISHED_STATES, data_files__isnull=False
        )
        .distinct()
        .order_by("-actual_start", "-pk")
    )


def request_model(
    actor: Any,
    *,
    site: Any,
    product: Any,
    batches: Sequence[Batch],
    quality_attribute: str = "",
    n_components: int = 2,
    reason: str = "",
    enqueue: bool = True,
) -> MonitoringModel:
    """Record the next version of the product's model at the site and queue its fit."""
    chosen = list(batches)
    if len(chosen) < MIN_REFERENCE_BATCHES:
        raise ValidationError(
            {"batches": f"Pick at least {MIN_REFERENCE_BATCHES} reference batches."}
        )
    for batch in chosen:
        if batch.site_id != site.pk or batch.project.product_id != product.pk:
            raise ValidationError({"batches": f"{batch.lot} is not a batch of {product} here."})
        if batch.state not in FINISHED_STATES:
            raise ValidationError({"batches": f"{batch.lot} is not finished."})
    with scopes_disabled():
        latest = MonitoringModel.objects.filter(site=site, product=product).order_by("-version")
        version = (latest.values_list("version", flat=True).first() or 0) + 1
    model = core.create(
        MODEL,
        actor=actor,
        reason=reason,
        default_reason="Monitoring model requested",
        parent={"site": site, "product": product, "created_by": actor},
        fields={
            "version": version,
            "name": f"{product.name} at {site.code.upper()}",
            "quality_attribute": quality_attribute.strip(),
            "n_components": n_components,
        },
        after_save=lambda m: m.reference_batches.set(chosen),
    )
    if enqueue:
        from opencdmo.analytics.tasks import queue_fit

        transaction.on_commit(lambda: queue_fit(model.pk))
    return model


def _store(model: MonitoringModel) -> FileStore:
    return FileStore(Path(settings.DATA_DIR) / "monitoring-models" / str(model.site.owner_id))


def _quality_values(model: MonitoringModel, batches: list[Batch]) -> list[float] | None:
    name = model.quality_attribute
    if not name:
        return None
    values = []
    for batch in batches:
        result = batch.offline_results.filter(attribute__iexact=name).order_by("-pk").first()
        if result is None:
            raise MonitoringInputError(f"batch {batch.lot} has no offline result {name}.")
        values.append(float(result.value))
    return values


def fit_model(model: MonitoringModel, progress: ProgressCallback | None = None, **kw: Any) -> None:
    """Fit the model on its reference batches and store it (the background task's work).

    Called outside any caller scope by the worker; writes the files, then the record.
    """
    with scopes_disabled():
        batches = list(model.reference_batches.select_related("project").order_by("lot"))
        data = [manufacturing.process_data(b) for b in batches]
        quality_values = _quality_values(model, batches)
    fitted = fitting.fit_models(
        data,
        n_components=model.n_components,
        confidence=model.confidence,
        quality=quality_values,
        progress=progress,
        **kw,
    )
    store = _store(model)
    folder = f"{model.site_id}-{model.product_id}/v{model.version}"
    with tempfile.TemporaryDirectory() as scratch:
        json_path, npz_path = save_model(fitted.mpca, Path(scratch) / "mpca.json", fitted.metadata)
        stored_json = store.put(json_path.read_bytes(), name=f"{folder}/mpca.json")
        stored_npz = store.put(npz_path.read_bytes(), name=f"{folder}/mpca.npz")
        if fitted.mpls is not None:
            pls_json, pls_npz = save_model(
                fitted.mpls, Path(scratch) / "mpls.json", {"response": model.quality_attribute}
            )
            store.put(pls_json.read_bytes(), name=f"{folder}/mpls.json")
            store.put(pls_npz.read_bytes(), name=f"{folder}/mpls.npz")
    store.put(
        fitting.reference_bytes(fitted.reference, fitted.duration_h), name=f"{folder}/reference.npz"
    )
    with scopes_disabled():
        MonitoringModel.objects.filter(pk=model.pk).update(
            file_key=f"{folder}/mpca.json",
            file_sha256=stored_json.sha256,
            arrays_sha256=stored_npz.sha256,
            variables=list(fitted.mpca.variables_),
            summary=fitted.summary,
        )


# --- approval --------------------------------------------------------------------------------


def approve_model(
    user: Any,
    model: MonitoringModel,
    *,
    password: str,
    totp_code: str = "",
    reason: str = "",
    seen_sha256: str,
) -> MonitoringModel:
    """QA approves a fitted model by electronic signature; from then on it judges batches."""
    if model.status != MonitoringModel.Status.FITTED:
        raise ValidationError({"meaning": "Only a fitted model can be approved."})
    _approval_check(user, model)
    signature = quality.sign(
        user, model, str(Meaning.APPROVED), password, totp_code, reason, seen_sha256
    )
    return core.update(
        APPROVAL,
        model,
        actor=user,
        reason=reason or "Approved by electronic signature",
        changes={"approved_at": signature.signed_at, "approved_by": signature.signer_name},
        verb="approved",
    )


def is_approved(model: MonitoringModel) -> bool:
    """Approved, and its content unchanged since the approving signature."""
    if not model.approved:
        return False
    return any(
        shown.current and shown.signature.meaning == Meaning.APPROVED
        for shown in quality.signatures_of(model)
    )


def judging_model(batch: Batch) -> MonitoringModel | None:
    """The latest approved model of the batch's product at its site (whoever asks)."""
    with scopes_disabled():
        candidates = MonitoringModel.objects.filter(
            site_id=batch.site_id,
            product_id=batch.project.product_id,
            status=MonitoringModel.Status.FITTED,
            approved_at__isnull=False,
        ).order_by("-version")
        return next((m for m in candidates if is_approved(m)), None)


# --- loading, judging, following -------------------------------------------------------------


def _read(store: FileStore, key: str, sha256: str | None = None) -> bytes:
    with store.open(key) as handle:
        data = handle.read()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise MonitoringInputError(f"the model file {key} does not match its SHA-256.")
    return data


@functools.lru_cache(maxsize=8)
def _loaded(model_id: int, file_sha256: str) -> fitting.Loaded:
    """A stored model with its online monitors, built once per process and version."""
    with scopes_disabled():
        model = MonitoringModel.objects.select_related("site").get(pk=model_id)
    store = _store(model)
    folder = model.file_key.rsplit("/", 1)[0]
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "mpca.json").write_bytes(_read(store, model.file_key, file_sha256))
        Path(scratch, "mpca.npz").write_bytes(
            _read(store, f"{folder}/mpca.npz", model.arrays_sha256)
        )
        mpca = load_model(Path(scratch) / "mpca.json")
        mpls = None
        if model.quality_attribute:
            Path(scratch, "mpls.json").write_bytes(_read(store, f"{folder}/mpls.json"))
            Path(scratch, "mpls.npz").write_bytes(_read(store, f"{folder}/mpls.npz"))
            mpls = load_model(Path(scratch) / "mpls.json")
    if not isinstance(mpca, MPCA) or (mpls is not None and not isinstance(mpls, MPLS)):
        raise MonitoringInputError(f"{model}: the stored files are not batch models.")
    return fitting.load_reference(
        mpca, _read(store, f"{folder}/reference.npz"), mpls, model.quality_attribute
    )


def loaded(model: MonitoringModel) -> fitting.Loaded:
    return _loaded(model.pk, model.file_sha256)


def _label(model: MonitoringModel) -> str:
    return f"{model.name} v{model.version}"


def _top(variables: Sequence[str], values: np.ndarray) -> list[list[Any]]:
    order = np.argsort(values)[::-1][:TOP_CONTRIBUTIONS]
    return [[variables[j], round(float(values[j]), 4)] for j in order]


def judge_batch(batch: Batch, actor: Any = None, reason: str = "") -> Verdict | None:
    """The finished batch's verdict by the judging model (recorded once), and its alarms."""
    model = judging_model(batch)
    if model is None or batch.state not in FINISHED_STATES:
        return None
    with scopes_disabled():
        existing = Verdict.objects.filter(batch=batch, model=model).first()
        if existing is not None:
            return existing
        data = manufacturing.process_data(batch)
    if data.time_h.shape[0] < 2:
        return None
    ready = loaded(model)
    verdict, scores = fitting.judge(ready, data)
    variables = list(ready.variables)
    spe_cells = scores.spe_contributions[0]
    t2_cells = scores.t2_contributions[0]
    order = np.argsort(spe_cells)[::-1]
    contributions = [
        [variables[j], round(float(spe_cells[j]), 4), round(float(t2_cells[j]), 4)] for j in order
    ]
    with scopes_disabled():
        recorded = core.create(
            VERDICT,
            actor=actor,
            reason=reason,
            default_reason=f"Judged by {_label(model)}",
            parent={"batch": batch, "model": model},
            fields={
                "status": verdict.status,
                "t2": verdict.t2,
                "t2_limit": verdict.t2_limit,
                "spe": verdict.spe,
                "spe_limit": verdict.spe_limit,
                "alarmed_variables": list(verdict.alarmed_variables),
                "contributions": contributions,
                "first_alarm_h": verdict.first_alarm_time,
                "model_label": _label(model),
            },
        )
    record_alarms(batch, model, data=data)
    return recorded


@dataclass(frozen=True)
class Live:
    """A batch followed by its judging model, for the live page."""

    model: MonitoringModel
    loaded: fitting.Loaded
    trace: fitting.LiveTrace | None


def live(batch: Batch) -> Live | None:
    """The batch against its judging model's envelope; ``None`` without an approved model."""
    model = judging_model(batch)
    if model is None:
        return None
    with scopes_disabled():
        data = manufacturing.process_data(batch)
    ready = loaded(model)
    trace = fitting.follow(ready, data) if data.time_h.shape[0] >= 1 else None
    return Live(model, ready, trace)


def record_alarms(
    batch: Batch,
    model: MonitoringModel,
    *,
    data: Any = None,
) -> list[Alarm]:
    """Record an alarm for each run of ``model.run_length`` samples above a limit, once."""
    if data is None:
        with scopes_disabled():
            data = manufacturing.process_data(batch)
    if data.time_h.shape[0] < 1:
        return []
    ready = loaded(model)
    trace = fitting.follow(ready, data)
    if trace is None:
        return []
    raised = []
    variables = list(ready.variables)
    for statistic, values, limits in (
        ("t2", trace.t2, np.full(trace.n_samples, trace.t2_limit)),
        ("spe", trace.spe, trace.spe_limit),
    ):
        for start in fitting.n_in_a_row(values > limits, model.run_length):
            with scopes_disabled():
                if Alarm.objects.filter(
                    batch=batch, model=model, statistic=statistic, sample=start
                ).exists():
                    continue
            zero = batch.data_time_zero
            time_h = float(trace.time_h[start])
            try:
                with scopes_disabled(), transaction.atomic():
                    alarm = core.create(
                        ALARM,
                        actor=None,
                        default_reason=f"{model.run_length} samples in a row above the limit",
                        parent={"batch": batch, "model": model},
                        fields={
                            "sample": start,
                            "time_h": time_h,
                            "at": zero + dt.timedelta(hours=time_h) if zero else None,
                            "statistic": statistic,
                            "value": float(values[start]),
                            "limit": float(limits[start]),
                            "contributions": _top(variables, trace.contributions[start]),
                            "model_label": _label(model),
                        },
                    )
            except (IntegrityError, ValidationError):
                continue
            raised.append(alarm)
            _notify(alarm, batch)
    return raised


def _notify(alarm: Alarm, batch: Batch) -> None:
    """Tell the CDMO's process engineers and QA, and the sponsor's QA, of an alarm on a
    running batch (a finished batch's alarms come with its verdict instead)."""
    if batch.state != "running":
        return
    recipients = [
        *notifications.people_with(batch.cdmo_id, BUILD_MODELS),
        *notifications.people_with(batch.cdmo_id, SIGN_RECORDS),
        *notifications.people_with(batch.project.sponsor_id, SIGN_RECORDS),
    ]
    notifications.notify(
        recipients,
        "monitoring.alarm",
        f"{alarm.get_statistic_display()} alarm on batch {batch.lot} at {alarm.time_h:.1f} h",
        reverse("analytics:batch", args=[batch.pk]),
        f"{alarm.value:.4g} above its limit {alarm.limit:.4g} for {alarm.model_label}.",
    )


# --- what the sponsor sees -------------------------------------------------------------------


def sharing_of(project: Any) -> ProjectDataSharing | None:
    with scopes_disabled():
        return ProjectDataSharing.objects.filter(project=project).first()


def sponsor_reads_data(user: Any, batch: Batch) -> bool:
    """The batch's CDMO reads its process data; the sponsor only where the CDMO shares it."""
    if batch.cdmo_id in caller_organisation_ids(user):
        return True
    sharing = sharing_of(batch.project)
    return bool(sharing and sharing.share_process_data)


def set_data_sharing(actor: Any, project: Any, *, share: bool, reason: str) -> ProjectDataSharing:
    """The CDMO decides whether the project's sponsor reads the raw process data."""
    existing = sharing_of(project)
    if existing is None:
        return core.create(
            SHARING,
            actor=actor,
            reason=reason,
            require_reason=True,
            parent={"project": project},
            fields={"share_process_data": share},
        )
    return core.update(
        SHARING, existing, actor=actor, reason=reason, changes={"share_process_data": share}
    )


def may_build(user: Any) -> bool:
    return MonitoringModel.tenancy.may_change(user)
