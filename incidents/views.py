"""Browser pages of the records: list, detail, entry, workflow, custody and photos.

Views stay thin: they read through `visible_to` and the filterset, and write through the
services, which check permissions and keep history.
"""

import rules
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents import services
from incidents.api.idempotency import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    Claim,
    IdempotencyKeyReused,
    idempotency_key_claim,
    idempotency_key_record,
    request_fingerprint,
)
from incidents.choices import TRACE_PENDING
from incidents.custody import custody_event_append
from incidents.filtersets import IncidentFilterSet
from incidents.forms import (
    ITEM_FORMSETS,
    CustodyEventForm,
    IllicitOriginForm,
    IncidentForm,
    PhotoForm,
    ReturnForm,
    TraceAnswerForm,
    TraceProgressForm,
    TraceRequestForm,
    WithdrawForm,
)
from incidents.models import Incident, Photo, TraceRequest
from incidents.record_history import record_history
from incidents.selectors import manufacturer_spellings, possible_duplicates, waiting_queues
from organisations.audit import RefusedRead, record_read, refused_reads_audited

PAGE_SIZE = 50


def _visible_incident(request, pk: int) -> Incident:
    return get_object_or_404(
        Incident.objects.visible_to(request.user).select_related(
            "mission", "contingent", "admin_area", "nearest_place", "reported_by"
        ),
        pk=pk,
    )


@login_required
def incident_list(request):
    if not rules.has_perm("incidents.list_incidents", request.user):
        raise PermissionDenied
    filterset = IncidentFilterSet(
        request.GET,
        queryset=Incident.objects.visible_to(request.user).select_related("mission", "contingent"),
        request=request,
    )
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    record_read(request, "incident.list", records=len(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "can_add": rules.has_perm("incidents.add_incident", request.user),
        },
    )


@refused_reads_audited(RefusedRead("incident.detail", Incident))
@login_required
@transaction.atomic
def incident_detail(request, pk: int):
    incident = _visible_incident(request, pk)
    record_read(request, "incident.detail", records=1, target=incident)
    weapons = list(
        incident.weapons.with_manufacturer()
        .select_related("illicit_origin")
        .prefetch_related("custody_events", "trace_requests")
    )
    duplicates = possible_duplicates(weapons, seen_by=request.user)
    for weapon in weapons:
        weapon.duplicates = duplicates.get(weapon.pk, [])
    user = request.user
    can = {
        action: rules.has_perm(f"incidents.{action}", user, incident)
        for action in (
            "change_incident",
            "submit_incident",
            "verify_incident",
            "return_incident",
            "withdraw_incident",
            "record_custody",
            "record_trace",
            "view_gender_data",
        )
    }
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "weapons": weapons,
            # The people and the link to gender-based violence, as the page shows them: to
            # readers of gender data, and to the record's reporter.
            "history": record_history(
                incident,
                location_is_exact=bool(incident.location_is_exact),
                gender_data=can["view_gender_data"] or can["change_incident"],
            ),
            "can": can,
            # Several forms on one page: each with ids of its own.
            "return_form": ReturnForm(auto_id="id_return_%s"),
            "withdraw_form": WithdrawForm(auto_id="id_withdraw_%s"),
            "photo_form": PhotoForm(incident=incident, auto_id="id_photo_%s"),
            "custody_form": CustodyEventForm(incident=incident, auto_id="id_custody_%s"),
            "trace_form": TraceRequestForm(incident=incident, auto_id="id_trace_%s"),
            "origin_form": IllicitOriginForm(incident=incident, auto_id="id_origin_%s"),
            "answer_forms": [
                (
                    trace,
                    TraceProgressForm(auto_id=f"id_trace{trace.pk}_progress_%s"),
                    TraceAnswerForm(auto_id=f"id_trace{trace.pk}_%s"),
                )
                for weapon in weapons
                for trace in weapon.trace_requests.all()
                if trace.status in TRACE_PENDING
            ],
        },
    )


def _entry_page(request, incident: Incident | None):
    bound = request.method == "POST"
    data = request.POST if bound else None
    form = IncidentForm(data, instance=incident, reporter=request.user)
    formsets = [
        formset_class(data, instance=incident or Incident(), prefix=prefix)
        for prefix, formset_class in ITEM_FORMSETS
    ]
    if bound and form.is_valid() and all(formset.is_valid() for formset in formsets):
        try:
            with transaction.atomic():
                claim = _submission_claim(request) if incident is None else None
                if claim is not None and claim.replay:
                    # Sent again (a retry from the device's outbox after a dropped answer):
                    # the record it made the first time, not a second one.
                    recorded: dict = claim.row.response_body or {}
                    return _saved_answer(request, recorded["id"])
                saved = services.incident_save(
                    by=request.user,
                    incident=form.save(commit=False),
                    item_formsets=formsets,
                    opened_revision=form.cleaned_data.get("opened_revision") or None,
                )
                # Photos straight from the camera, with the record (issue 21): one refused
                # and nothing of the record is written.
                for upload in request.FILES.getlist("photos"):
                    _photo_with_record(saved, upload, request.user)
                if claim is not None:
                    idempotency_key_record(
                        claim=claim, response_status=302, response_body={"id": saved.pk}
                    )
        except IdempotencyKeyReused as reused:
            form.add_error(None, str(reused.detail))
        except services.RecordChanged as changed:
            return _record_changed_page(request, form, formsets, changed)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if request.POST.get("action") == "submit":
                _submit_saved(request, saved)
            else:
                messages.success(request, _("Record saved as a draft."))
            return _saved_answer(request, saved.pk)
    return _form_page(request, form, formsets, incident)


def _form_page(request, form, formsets, incident: Incident | None, *, status=200, **extra):
    """The entry form's page: new, being edited, or refused (`extra` says why)."""
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "formsets": formsets,
            "incident": incident,
            "tile_url": settings.LEAFLET_CONFIG["TILES"],
            "manufacturer_spellings": manufacturer_spellings(),
            **extra,
        },
        status=status,
    )


def _saved_answer(request, pk: int):
    """The record's page; to the entry form's script (static/js/offline-entry.js), which
    then opens it itself, its address as JSON, so that the page's messages (saved,
    submitted) wait for that page rather than being read by the script's request."""
    if request.headers.get("X-Entry-Form") == "script":
        return JsonResponse({"record": reverse("incidents:detail", args=[pk])}, status=201)
    return redirect("incidents:detail", pk=pk)


def _submission_claim(request) -> Claim | None:
    """The entry form's `submission` key (a UUID the page's script gives each record it
    sends, kept for its retries: static/js/offline-entry.js) claimed as an idempotency key
    (incidents/api/idempotency.py), so that a record sent twice exists once; None without
    one (a page sent without its script)."""
    key = request.POST.get("submission", "").strip()
    if not key:
        return None
    content = sorted(
        (name, values)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", "submission")
    )
    photos = sorted((upload.name, upload.size) for upload in request.FILES.getlist("photos"))
    return idempotency_key_claim(
        user=request.user,
        key=f"entry-form:{key[: IDEMPOTENCY_KEY_MAX_LENGTH - len('entry-form:')]}",
        fingerprint=request_fingerprint(method="POST", path=request.path, data=[content, photos]),
    )


def _photo_with_record(incident: Incident, upload, by) -> None:
    """Attach a photo sent with the entry form; a refusal names the photos field and the
    file (the form cannot keep a chosen file: the reporter chooses it again)."""
    try:
        services.photo_attach(incident=incident, by=by, upload=upload)
    except ValidationError as refusal:
        raise ValidationError(
            {
                "photos": _("Photos: %(name)s: %(why)s Choose the photos again.")
                % {"name": upload.name, "why": " ".join(refusal.messages)}
            }
        ) from refusal


def _submit_saved(request, incident: Incident) -> None:
    """ "Save and submit": the record just saved goes for verification. Saved it stays
    whatever happens: where submitting is refused, the reporter is told why and the draft
    is kept."""
    try:
        services.incident_submit(incident=incident, by=request.user)
    except (ValidationError, PermissionDenied) as refusal:
        why = " ".join(refusal.messages) if isinstance(refusal, ValidationError) else str(refusal)
        messages.warning(
            request, _("Record saved as a draft, not submitted: %(why)s") % {"why": why}
        )
    else:
        messages.success(request, _("Record saved and submitted for verification."))


@login_required
def waiting_for_me(request):
    """The reader's queues (issue 21): records awaiting its verification and records
    returned to it for correction, with the verifier's comment, oldest first."""
    queues = waiting_queues(request.user)
    return render(
        request,
        "incidents/waiting.html",
        {
            name: queue.select_related("mission", "contingent")[:200]
            for name, queue in queues.items()
        },
    )


@require_GET
def service_worker(request):
    """The offline entry form's service worker (templates/offline/service-worker.js), at
    the site's root so that it may serve /incidents/new; always checked for a new version."""
    response = render(request, "offline/service-worker.js", content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


def _record_changed_page(request, form, formsets, changed: "services.RecordChanged"):
    """The record changed while it was being edited: nothing was saved. The page shows both
    versions of what differs and keeps this editor's values in the form; saving it again
    (against the revision now shown) replaces the other version knowingly."""
    changes = form.changes_since_opened(changed.current)
    latest = changed.current.history.first()
    data = form.data.copy()
    data["opened_revision"] = changed.revision
    form.data = data
    return _form_page(
        request,
        form,
        formsets,
        changed.current,
        status=409,
        record_changed={
            "changes": changes,
            "by": latest.history_user if latest else None,
            "at": changed.current.updated_at,
        },
    )


@login_required
def incident_create(request):
    if not rules.has_perm("incidents.add_incident", request.user):
        raise PermissionDenied
    return _entry_page(request, None)


@login_required
def incident_edit(request, pk: int):
    incident = _visible_incident(request, pk)
    if not rules.has_perm("incidents.change_incident", request.user, incident):
        raise PermissionDenied
    return _entry_page(request, incident)


def _workflow_action(request, pk: int, act, done: str):
    """Run a workflow step on the record and say what became of it: `done` when it went
    through (issue 21: submitting and verifying showed no confirmation), the refusal else."""
    incident = _visible_incident(request, pk)
    try:
        act(incident)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("incidents:detail", pk=incident.pk)


@login_required
@require_POST
def incident_submit(request, pk: int):
    return _workflow_action(
        request,
        pk,
        lambda incident: services.incident_submit(incident=incident, by=request.user),
        _("Record submitted for verification."),
    )


@login_required
@require_POST
def incident_verify(request, pk: int):
    return _workflow_action(
        request,
        pk,
        lambda incident: services.incident_verify(incident=incident, by=request.user),
        _("Record verified."),
    )


@login_required
@require_POST
def incident_return(request, pk: int):
    return _workflow_action(
        request,
        pk,
        lambda incident: services.incident_return(
            incident=incident, by=request.user, comment=request.POST.get("comment", "")
        ),
        _("Record returned to its reporter for correction."),
    )


@login_required
@require_POST
def incident_withdraw(request, pk: int):
    return _workflow_action(
        request,
        pk,
        lambda incident: services.incident_withdraw(
            incident=incident, by=request.user, reason=request.POST.get("reason", "")
        ),
        _("Record withdrawn."),
    )


def _report_errors(request, errors: dict) -> None:
    """Form or service errors as one message that names each field."""
    for field, messages_of_field in errors.items():
        label = field.replace("_", " ") if field != "__all__" else ""
        for message in messages_of_field:
            text = message["message"] if isinstance(message, dict) else str(message)
            messages.error(request, f"{label}: {text}" if label else text)


def _weapon_record_action(request, pk: int, form_class, act, done: str):
    incident = _visible_incident(request, pk)
    form = form_class(request.POST, incident=incident)
    if not form.is_valid():
        _report_errors(request, form.errors.get_json_data())
    else:
        try:
            act(incident, form.cleaned_data)
        except ValidationError as error:
            _report_errors(request, error.message_dict)
        else:
            messages.success(request, done)
    return redirect("incidents:detail", pk=incident.pk)


@login_required
@require_POST
def custody_record(request, pk: int):
    def act(incident, data):
        custody_event_append(by=request.user, **data)

    return _weapon_record_action(request, pk, CustodyEventForm, act, _("Custody event recorded."))


@login_required
@require_POST
def origin_record(request, pk: int):
    def act(incident, data):
        data["diversion_point"] = data.pop("diversion_coordinates")
        services.illicit_origin_record(by=request.user, **data)

    return _weapon_record_action(request, pk, IllicitOriginForm, act, _("Illicit origin recorded."))


@login_required
@require_POST
def trace_send(request, pk: int):
    def act(incident, data):
        services.trace_request_send(by=request.user, **data)

    return _weapon_record_action(request, pk, TraceRequestForm, act, _("Trace request recorded."))


@login_required
@require_POST
def trace_progress(request, pk: int, trace_pk: int):
    def act(incident, data):
        trace = get_object_or_404(TraceRequest, pk=trace_pk, weapon__incident=incident)
        services.trace_request_progress(trace=trace, by=request.user, **data)

    def form_class(data, incident):
        return TraceProgressForm(data)

    return _weapon_record_action(request, pk, form_class, act, _("Trace request updated."))


@login_required
@require_POST
def trace_answer(request, pk: int, trace_pk: int):
    def act(incident, data):
        trace = get_object_or_404(TraceRequest, pk=trace_pk, weapon__incident=incident)
        coordinates = data.pop("diversion_coordinates")
        services.trace_request_answer(
            trace=trace, by=request.user, diversion_point=coordinates, **data
        )

    def form_class(data, incident):
        return TraceAnswerForm(data)

    return _weapon_record_action(request, pk, form_class, act, _("Trace answer recorded."))


@login_required
@require_POST
def photo_upload(request, pk: int):
    incident = _visible_incident(request, pk)
    form = PhotoForm(request.POST, request.FILES, incident=incident)
    if form.is_valid():
        try:
            services.photo_attach(
                incident=incident,
                by=request.user,
                upload=form.cleaned_data["image"],
                weapon=form.cleaned_data["weapon"],
                shows=form.cleaned_data["shows"],
            )
            messages.success(request, _("Photo attached."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, _("Choose a photo to upload."))
    return redirect("incidents:detail", pk=incident.pk)


@login_required
def photo_download(request, pk: int):
    photo = get_object_or_404(Photo, pk=pk)
    if not Incident.objects.visible_to(request.user).filter(pk=photo.incident_id).exists():
        raise Http404
    record_read(request, "photo.download", records=1, target=photo)
    # Always a download with the stored type: never rendered inline as a page.
    return FileResponse(
        photo.image.open("rb"),
        as_attachment=True,
        filename=f"photo-{photo.pk}.{photo.extension}",
        content_type=photo.content_type,
    )
