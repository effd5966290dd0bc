"""A partner's view of the OpenAPI document: openapi-python-client generates a
client from it with its default settings and says nothing about it; the
patient journey written against that client (scripts/client_journey.py)
passes `mypy --strict` (with the generated modules it uses), and runs
against a live server.

The client is generated once per module into a temporary directory (never into
the repository), from the document as /api/schema/ serves it.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer

from accounts.models import User
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.generated_client

BIN = Path(sys.executable).parent  # the venv's bin: the generator, and the ruff it formats its output with
JOURNEY = Path(__file__).resolve().parents[2] / "scripts" / "client_journey.py"
PACKAGE = "healthsvc_api_client"  # openapi-python-client's name for a document titled "healthsvc API"


@dataclass(frozen=True)
class Generated:
    returncode: int
    output: str
    project: Path  # the generated project: PACKAGE inside it


def _run(command: list[str], *, timeout: int, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Generated:
    root = tmp_path_factory.mktemp("generated-client")
    document = root / "openapi.yaml"
    schema = SchemaGenerator().get_schema(request=None, public=True)
    document.write_bytes(OpenApiYamlRenderer().render(schema, renderer_context={}))
    project = root / "client"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = _run([str(BIN / "openapi-python-client"), "generate", "--path", str(document),
                   "--output-path", str(project)], timeout=120, env=env, cwd=root)
    return Generated(result.returncode, result.stdout + result.stderr, project)


def test_the_generator_takes_the_document_with_default_settings_and_no_warnings(generated):
    assert generated.returncode == 0, generated.output
    assert "warning" not in generated.output.lower(), generated.output
    assert generated.output.split() == ["Generating", str(generated.project)]  # nothing else to say
    assert (generated.project / PACKAGE / "py.typed").is_file()
    # The booking operation documents the Idempotency-Key header, so the generated function takes it.
    book = (generated.project / PACKAGE / "api" / "appointments" / "appointments_book.py").read_text()
    assert 'headers["Idempotency-Key"] = idempotency_key' in book


def test_the_journey_passes_mypy_strict_with_the_generated_client(generated, tmp_path):
    assert generated.returncode == 0, generated.output
    # mypy follows the journey's imports into the generated package (on MYPYPATH, so not
    # skipped as installed code): every generated module the journey uses is checked too.
    # Not the rest: the generator mistypes an optional anyOf body (PATCH /doctors/{id}, which
    # the server takes without one, calls to_dict() on UNSET: openapi-python-client #1354, #1357).
    result = _run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy-cache"), str(JOURNEY)],
        timeout=300, env={**os.environ, "MYPYPATH": str(generated.project)}, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


@pytest.fixture
def catalogue(transactional_db):
    """A doctor with two free slots two days ahead (past any minimum notice and
    cancellation window, inside the booking horizon), and one the search must not find."""
    clinic = ClinicFactory(name="Riverside Clinic", city="Pune", timezone="Asia/Kolkata")
    doctor = DoctorFactory(clinic=clinic, specialty="Cardiology", user__name="Imogen Quill")
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    slots = [SlotFactory(doctor=doctor, start=start + timedelta(hours=hours), capacity=2) for hours in (0, 1)]
    other = DoctorFactory(clinic=clinic, specialty="Dermatology", user__name="Basil Moss")
    SlotFactory(doctor=other, start=start - timedelta(hours=1))
    return doctor, slots


@pytest.mark.django_db(transaction=True)
def test_the_patient_journey_runs_with_the_generated_client_against_a_live_server(generated, catalogue,
                                                                                   live_server, tmp_path):
    assert generated.returncode == 0, generated.output
    doctor, (first, second) = catalogue
    result = _run([sys.executable, str(JOURNEY), live_server.url, "--search", "Quill"], timeout=120,
                  env={**os.environ, "PYTHONPATH": str(generated.project)}, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])

    # The journey's own checks passed; the database agrees with what it was told.
    assert outcome["doctor_id"] == doctor.pk
    assert (outcome["first_slot_id"], outcome["second_slot_id"]) == (first.pk, second.pk)
    user = User.objects.get(pk=outcome["user_id"])
    assert user.role == User.Role.PATIENT and user.patient.pk == outcome["patient_id"]
    appointment = Appointment.objects.get(patient_id=outcome["patient_id"])  # the retry booked nothing more
    assert appointment.pk == outcome["appointment_id"]
    assert appointment.slot_id == second.pk
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_reason == "Feeling better"
    for slot in (first, second):
        slot.refresh_from_db()
        assert slot.booked_count == 0
