"""The patient journey through a client generated from the OpenAPI document.

Generate the client first (README, "Generated clients"), then run this with
the generated project on the path, against a server whose catalogue has a
doctor with free slots more than a day ahead:

    PYTHONPATH=/tmp/healthsvc-client .venv/bin/python scripts/client_journey.py \
        http://127.0.0.1:8000 --search Mehta

It registers a new patient, logs in, finds the doctor, lists their slots,
books one with an Idempotency-Key (and retries it), moves the booking to the
next slot, cancels it, refreshes the tokens and logs out. Every step checks
the status and the typed answer; the first surprise stops the journey with a
JourneyError. On success the last line printed is JSON naming what it made.
healthsvc/tests/test_generated_client.py runs it against a live server and
type-checks it with `mypy --strict`, so the generated types are the ones a
partner would write against.
"""

from __future__ import annotations

import argparse
import datetime
import json
import secrets
import sys
import uuid
from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
from healthsvc_api_client import AuthenticatedClient, Client
from healthsvc_api_client.api.appointments import appointments_book, appointments_cancel, appointments_reschedule
from healthsvc_api_client.api.auth import auth_login, auth_logout, auth_profile, auth_refresh, auth_register
from healthsvc_api_client.api.clinics import clinics_retrieve
from healthsvc_api_client.api.doctors import doctors_list
from healthsvc_api_client.api.slots import slots_list, slots_retrieve
from healthsvc_api_client.models import (
    AppointmentBookInput,
    AppointmentCancelInput,
    AppointmentOutput,
    AppointmentOutputStatusEnum,
    AppointmentRescheduleInput,
    ClinicOutput,
    DoctorOutput,
    Error,
    LoginInput,
    LoginOutput,
    PaginatedDoctorOutputList,
    PaginatedSlotOutputList,
    RefreshInput,
    RegisterInput,
    RegisterOutput,
    RoleEnum,
    SlotOutput,
    TokenPairOutput,
)
from healthsvc_api_client.types import Response

T = TypeVar("T")
REPLAYED_HEADER = "Idempotent-Replayed"
# httpx waits 5 s by default; a test server on a busy CI machine may take longer.
TIMEOUT = httpx.Timeout(30.0)


class JourneyError(Exception):
    """A step answered other than the contract says."""


@dataclass(frozen=True)
class Outcome:
    """What the journey made, for a caller to check on the server's side."""

    user_id: int
    patient_id: int
    doctor_id: int
    first_slot_id: int
    second_slot_id: int
    appointment_id: int


def expect(step: str, response: Response[Any], status: HTTPStatus, kind: type[T]) -> T:
    """The parsed answer of a step, which must have this status and this type."""
    if response.status_code != status:
        raise JourneyError(f"{step}: expected {status.value}, got {response.status_code.value}: {response.content!r}")
    if not isinstance(response.parsed, kind):
        raise JourneyError(f"{step}: expected a {kind.__name__}, got {type(response.parsed).__name__}")
    print(f"ok  {step}: {status.value}")
    return response.parsed


def check(step: str, condition: bool, what: str) -> None:
    if not condition:
        raise JourneyError(f"{step}: {what}")


def expect_refused(step: str, response: Response[Any], status: HTTPStatus, error_code: str) -> None:
    """The step must be refused with this status and the contract's error envelope."""
    error = expect(step, response, status, Error)
    check(step, error.error_code == error_code, f"error_code {error.error_code!r}, not {error_code!r}")


def register_and_log_in(public: Client) -> tuple[RegisterOutput, LoginOutput]:
    email = f"journey-{uuid.uuid4().hex[:12]}@example.com"
    password = secrets.token_urlsafe(18)
    body = RegisterInput(name="Jo Journey", email=email, password=password)
    registered = expect("register", auth_register.sync_detailed(client=public, body=body),
                        HTTPStatus.CREATED, RegisterOutput)
    user = registered.user
    check("register", user.email == email and user.role == RoleEnum.PATIENT, f"made {user.email} as {user.role}")
    check("register", isinstance(user.patient_id, int) and user.doctor_id is None, "no patient profile")
    check("register", bool(registered.access and registered.refresh), "no tokens")

    login = expect(
        "log in", auth_login.sync_detailed(client=public, body=LoginInput(email=email, password=password)),
        HTTPStatus.OK, LoginOutput,
    )
    check("log in", login.user.id == user.id and login.token_type == "Bearer",
          f"user {login.user.id}, token type {login.token_type}")
    return registered, login


def find_doctor_and_slots(public: Client, search: str) -> tuple[DoctorOutput, SlotOutput, SlotOutput]:
    found = expect("search doctors", doctors_list.sync_detailed(client=public, search=search),
                   HTTPStatus.OK, PaginatedDoctorOutputList)
    check("search doctors", found.count >= 1 and len(found.results) >= 1, f"nobody found for {search!r}")
    doctor = found.results[0]
    check("search doctors", doctor.is_active, f"doctor {doctor.id} is inactive")

    clinic = expect("their clinic", clinics_retrieve.sync_detailed(client=public, id=doctor.clinic_id),
                    HTTPStatus.OK, ClinicOutput)
    check("their clinic", clinic.id == doctor.clinic_id and clinic.is_active, f"clinic {clinic.id}")

    # A day ahead: clear of any clinic's minimum notice and cancellation window.
    after = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    listed = expect(
        "list slots",
        slots_list.sync_detailed(client=public, doctor_id=doctor.id, available=True, date_from=after),
        HTTPStatus.OK, PaginatedSlotOutputList,
    )
    slots = listed.results
    check("list slots", len(slots) >= 2, f"{len(slots)} free slots of doctor {doctor.id} after {after:%Y-%m-%d %H:%M}Z")
    for slot in slots:
        check("list slots", slot.doctor_id == doctor.id and slot.available_spots > 0 and slot.is_active,
              f"slot {slot.id} is not a free slot of doctor {doctor.id}")
        check("list slots", slot.slot_datetime.utcoffset() == datetime.timedelta(0) and slot.slot_datetime >= after,
              f"slot {slot.id} starts {slot.slot_datetime.isoformat()}")
        local, shown = slot.slot_datetime.astimezone(ZoneInfo(clinic.timezone)), slot.slot_datetime_local
        check("list slots", shown == local and shown.utcoffset() == local.utcoffset(),
              f"slot {slot.id} shows {shown.isoformat()} in {clinic.timezone}, not {local.isoformat()}")
    check("list slots", slots[0].slot_datetime <= slots[1].slot_datetime, "not in start order")
    return doctor, slots[0], slots[1]


def book_twice(patient: AuthenticatedClient, slot: SlotOutput, expected: AppointmentOutputStatusEnum,
               patient_id: int) -> AppointmentOutput:
    """Book with an Idempotency-Key, then retry with the same key and body:
    the retry answers the first booking again and books nothing more."""
    key = str(uuid.uuid4())
    body = AppointmentBookInput(slot_id=slot.id, reason_for_visit="Check-up")
    first = appointments_book.sync_detailed(client=patient, body=body, idempotency_key=key)
    booked = expect("book", first, HTTPStatus.CREATED, AppointmentOutput)
    check("book", booked.slot_id == slot.id and booked.patient_id == patient_id, f"booked {booked.slot_id}")
    check("book", booked.status == expected and booked.notes is None, f"status {booked.status}, notes {booked.notes!r}")
    check("book", booked.slot_datetime == slot.slot_datetime and booked.cancelled_at is None, "wrong time")
    check("book", booked.slot_datetime_local == slot.slot_datetime_local, f"local {booked.slot_datetime_local}")
    # The answer carries its doctor and clinic: no second request to show the visit.
    check("book", booked.doctor.id == slot.doctor_id and booked.doctor.name != "", f"doctor {booked.doctor}")
    check("book", booked.clinic.id == slot.clinic_id and booked.clinic.address != "", f"clinic {booked.clinic}")
    check("book", REPLAYED_HEADER.lower() not in {h.lower() for h in first.headers}, "a first booking replayed")

    again = appointments_book.sync_detailed(client=patient, body=body, idempotency_key=key)
    replayed = expect("book again, same key", again, HTTPStatus.CREATED, AppointmentOutput)
    check("book again, same key", replayed.id == booked.id, f"a second appointment {replayed.id}")
    check("book again, same key", again.headers.get(REPLAYED_HEADER) == "true", f"no {REPLAYED_HEADER} header")
    return booked


def move_and_cancel(public: Client, patient: AuthenticatedClient, booked: AppointmentOutput,
                    old: SlotOutput, new: SlotOutput) -> None:
    move = AppointmentRescheduleInput(slot_id=new.id)
    moved = expect("reschedule", appointments_reschedule.sync_detailed(booked.id, client=patient, body=move),
                   HTTPStatus.OK, AppointmentOutput)
    check("reschedule", moved.id == booked.id and moved.slot_id == new.id, f"on slot {moved.slot_id}")
    check("reschedule", moved.slot_datetime == new.slot_datetime, "the old time")
    freed = expect("old slot", slots_retrieve.sync_detailed(old.id, client=public), HTTPStatus.OK, SlotOutput)
    check("old slot", freed.available_spots == old.available_spots, f"{freed.available_spots} places left")

    reason = "Feeling better"
    cancelled = expect(
        "cancel",
        appointments_cancel.sync_detailed(booked.id, client=patient, body=AppointmentCancelInput(reason=reason)),
        HTTPStatus.OK, AppointmentOutput,
    )
    check("cancel", cancelled.status == AppointmentOutputStatusEnum.CANCELLED, f"status {cancelled.status}")
    check("cancel", cancelled.cancelled_at is not None and cancelled.cancelled_reason == reason, "no cancel details")
    expect_refused(
        "cancel again",
        appointments_cancel.sync_detailed(booked.id, client=patient, body=AppointmentCancelInput()),
        HTTPStatus.CONFLICT, "INVALID_STATE",
    )


def refresh_and_log_out(base_url: str, public: Client, login: LoginOutput) -> None:
    """Refresh tokens rotate (the used one is dead); logging out ends the sign-in of the refresh token it names."""
    pair = expect("refresh", auth_refresh.sync_detailed(client=public, body=RefreshInput(refresh=login.refresh)),
                  HTTPStatus.OK, TokenPairOutput)
    check("refresh", pair.refresh != login.refresh and pair.access != login.access, "the same tokens")

    with AuthenticatedClient(base_url=base_url, token=pair.access, timeout=TIMEOUT) as session:
        logout = auth_logout.sync_detailed(client=session, body=RefreshInput(refresh=pair.refresh))
        check("log out", logout.status_code == HTTPStatus.NO_CONTENT, f"{logout.status_code.value}: {logout.content!r}")
        print("ok  log out: 204")
        # The sign-in has ended: its access token too, from its next request.
        expect_refused("profile after logout", auth_profile.sync_detailed(client=session),
                       HTTPStatus.UNAUTHORIZED, "TOKEN_INVALID")
    expect_refused("refresh after logout",
                   auth_refresh.sync_detailed(client=public, body=RefreshInput(refresh=pair.refresh)),
                   HTTPStatus.UNAUTHORIZED, "TOKEN_INVALID")
    # Last: a used refresh token presented again ends its whole sign-in (the
    # server takes it for a stolen copy), which would also have ended this session.
    expect_refused("refresh with the used token",
                   auth_refresh.sync_detailed(client=public, body=RefreshInput(refresh=login.refresh)),
                   HTTPStatus.UNAUTHORIZED, "TOKEN_INVALID")


def run_journey(base_url: str, search: str) -> Outcome:
    """The whole journey against the server at base_url; raises JourneyError at the first wrong answer."""
    with Client(base_url=base_url, timeout=TIMEOUT, raise_on_unexpected_status=True) as public:
        registered, login = register_and_log_in(public)
        patient_id = registered.user.patient_id
        if patient_id is None:  # checked at registration; this narrows the type
            raise JourneyError("register: no patient profile")
        doctor, first, second = find_doctor_and_slots(public, search)
        expected = AppointmentOutputStatusEnum.PENDING if doctor.requires_approval else \
            AppointmentOutputStatusEnum.CONFIRMED
        with AuthenticatedClient(base_url=base_url, token=login.access, timeout=TIMEOUT,
                                 raise_on_unexpected_status=True) as patient:
            booked = book_twice(patient, first, expected, patient_id)
            move_and_cancel(public, patient, booked, first, second)
        refresh_and_log_out(base_url, public, login)
    return Outcome(user_id=registered.user.id, patient_id=patient_id, doctor_id=doctor.id,
                   first_slot_id=first.id, second_slot_id=second.id, appointment_id=booked.id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("base_url", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--search", default="Mehta", help="what to search doctors for (default: a demo doctor)")
    args = parser.parse_args(argv)
    try:
        outcome = run_journey(args.base_url.rstrip("/"), args.search)
    except JourneyError as error:
        print(f"FAILED {error}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(outcome)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
