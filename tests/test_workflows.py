"""The GitHub Actions workflows in ``.github/workflows/``, checked offline.

Every workflow is validated against GitHub's workflow JSON schema as the pinned ``check-jsonschema``
vendors it (``--builtin-schema vendor.github-workflows``: schemastore's schema, shipped inside the
package), in a process whose sockets refuse to connect, so nothing is or can be downloaded. Then
what a schema cannot see: the Pages workflow builds the published book with the README's
``make book`` and deploys ``_build/_build/html`` with GitHub's Pages actions and the permissions
they need, one deployment at a time; the pull-request workflow builds the book the same way and
runs ``make test``, deploying nothing; wherever the environment is installed, torch comes from
PyTorch's CPU index. Each check is also run on broken copies of the workflows, and must reject
every one of them.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
HTML = "_build/_build/html"  # where `make book` leaves the HTML (README; build_book's default output)
PYTHON = "3.11"

# check-jsonschema's command line, run with every socket connection refused: the vendored schema
# needs no network, and a download attempted anyway fails the check instead of passing unseen.
OFFLINE_CHECK_JSONSCHEMA = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network access refused: the workflow schema check must run offline")

socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse

from check_jsonschema import main

main()
"""


def _workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def _check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", OFFLINE_CHECK_JSONSCHEMA, "--builtin-schema", schema, *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1"})


def _load(path: Path) -> dict:
    """A workflow as GitHub reads it: PyYAML (YAML 1.1) reads the key ``on`` as True."""
    workflow = yaml.safe_load(path.read_text())
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


# ---- reading a workflow ---------------------------------------------------------------------------

def _triggers(workflow: dict) -> dict:
    on = workflow.get("on")
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on or {}


def _steps(job: dict) -> list[dict]:
    return job.get("steps") or []


def _uses(step: dict, action: str) -> bool:
    return str(step.get("uses", "")).startswith(f"{action}@")


def _runs(step: dict, command: str) -> bool:
    """``command`` stands alone on a line of the step's script (``make book``, not ``make book || true``)."""
    return any(line.strip() == command for line in str(step.get("run", "")).splitlines())


def _jobs_running(workflow: dict, command: str) -> list[tuple[str, dict, dict]]:
    """Every step that runs ``command`` in any form (``make test``, not ``make test-slow``)."""
    mention = re.compile(rf"(^|[\s;&|(]){re.escape(command)}(?![\w-])")
    return [(name, job, step) for name, job in (workflow.get("jobs") or {}).items()
            for step in _steps(job) if mention.search(str(step.get("run", "")))]


def _env(workflow: dict, job: dict, step: dict) -> dict:
    return {**(workflow.get("env") or {}), **(job.get("env") or {}), **(step.get("env") or {})}


def _permissions(workflow: dict, job: dict) -> dict | str | None:
    """The GITHUB_TOKEN's permissions in ``job``: the job's own replace the workflow's."""
    return job["permissions"] if "permissions" in job else workflow.get("permissions")


def _grants(permissions: dict | str | None, scope: str) -> str | None:
    if permissions == "write-all":
        return "write"
    if permissions == "read-all":
        return "read"
    if isinstance(permissions, dict):
        return permissions.get(scope)
    return None  # unset: the repository's default token, which may or may not grant it


def _truthy(value) -> bool:
    return value is True or str(value).strip().lower() == "true"


# ---- what the schema cannot see -------------------------------------------------------------------

def _make_problems(workflow: dict, target: str) -> list[str]:
    """Problems with the job that runs ``make TARGET``: a clean checkout, Python 3.11, torch from
    PyTorch's CPU index, and a failure of ``make`` failing the job."""
    command = f"make {target}"
    found = _jobs_running(workflow, command)
    if not found:
        return [f"no step runs `{command}`"]
    problems = []
    for name, job, step in found:
        where = f"job {name!r}, step running {command!r}"
        if not _runs(step, command):
            problems.append(f"{where}: `{command}` must stand alone on its line (no `||`, `;`, pipe), "
                            f"so that its failure fails the step: {step.get('run')!r}")
        if "set +e" in str(step.get("run", "")):
            problems.append(f"{where}: `set +e` lets a failing build pass")
        if _truthy(step.get("continue-on-error")) or _truthy(job.get("continue-on-error")):
            problems.append(f"{where}: continue-on-error lets a failing build pass")
        shell = step.get("shell") or ((job.get("defaults") or {}).get("run") or {}).get("shell") \
            or ((workflow.get("defaults") or {}).get("run") or {}).get("shell")
        if shell not in (None, "bash"):
            problems.append(f"{where}: shell {shell!r}; bash stops at the first failing command")
        before = _steps(job)[:_steps(job).index(step)]
        if not any(_uses(s, "actions/checkout") for s in before):
            problems.append(f"{where}: no actions/checkout before it")
        pythons = [str((s.get("with") or {}).get("python-version")) for s in before if _uses(s, "actions/setup-python")]
        if pythons != [PYTHON]:
            problems.append(f"{where}: Python must be set up once as {PYTHON} before it (setup-python: {pythons})")
        env = _env(workflow, job, step)
        indexes = f"{env.get('PIP_EXTRA_INDEX_URL', '')} {env.get('PIP_INDEX_URL', '')}".split()
        if CPU_INDEX not in indexes:
            problems.append(f"{where}: PIP_EXTRA_INDEX_URL does not name {CPU_INDEX}: on GitHub's Linux "
                            "runners pip would take PyPI's CUDA build of torch==2.13.0")
    return problems


def pages_problems(workflow: dict) -> list[str]:
    """Problems with the workflow that deploys the book to GitHub Pages."""
    problems = []
    triggers = _triggers(workflow)
    branches = ((triggers.get("push") or {}) if "push" in triggers else {}).get("branches")
    if "push" not in triggers or branches != ["main"]:
        problems.append(f"must run on pushes to main (push: {triggers.get('push')!r})")
    if "workflow_dispatch" not in triggers:
        problems.append("must run by hand too (workflow_dispatch)")
    concurrency = workflow.get("concurrency")
    if not concurrency or (isinstance(concurrency, dict) and not concurrency.get("group")):
        problems.append("no concurrency group: two deployments could overlap")
    elif isinstance(concurrency, dict) and _truthy(concurrency.get("cancel-in-progress")):
        problems.append("cancel-in-progress: a deployment would be cancelled half-way")

    problems += _make_problems(workflow, "book")
    builds = _jobs_running(workflow, "make book")
    jobs = workflow.get("jobs") or {}
    uploads = [(name, step) for name, job in jobs.items() for step in _steps(job)
               if _uses(step, "actions/upload-pages-artifact")]
    if not uploads:
        problems.append("no actions/upload-pages-artifact step")
    for name, step in uploads:
        path = str((step.get("with") or {}).get("path", "")).removeprefix("./").rstrip("/")
        if path != HTML:
            problems.append(f"the Pages artifact is {path!r}, not the book's HTML {HTML!r}")
        build = next((job for job_name, job, _ in builds if job_name == name), None)
        if build is None:
            problems.append(f"the Pages artifact is uploaded from job {name!r}, which does not run `make book`")
        elif _steps(build).index(step) < min(_steps(build).index(s) for n, _, s in builds if n == name):
            problems.append("the Pages artifact is uploaded before `make book` runs")

    deploys = {name: job for name, job in jobs.items() if any(_uses(s, "actions/deploy-pages") for s in _steps(job))}
    if not deploys:
        problems.append("no actions/deploy-pages step")
    if not any(_uses(s, "actions/configure-pages") for job in jobs.values() for s in _steps(job)):
        problems.append("no actions/configure-pages step")
    for name, job in deploys.items():
        needs = job.get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        if not any(upload_job in needs or upload_job == name for upload_job, _ in uploads):
            problems.append(f"deploy job {name!r} does not wait for the job that uploads the artifact (needs: {needs})")
        environment = job.get("environment")
        env_name = environment.get("name") if isinstance(environment, dict) else environment
        if env_name != "github-pages":
            problems.append(f"deploy job {name!r} is not in the github-pages environment ({env_name!r})")
        deploy_ids = [s.get("id") for s in _steps(job) if _uses(s, "actions/deploy-pages")]
        url = environment.get("url", "") if isinstance(environment, dict) else ""
        if not any(i and f"steps.{i}.outputs.page_url" in url for i in deploy_ids):
            problems.append(f"deploy job {name!r}: the environment's url is not deploy-pages' page_url ({url!r})")
        permissions = _permissions(workflow, job)
        for scope in ("pages", "id-token"):
            if _grants(permissions, scope) != "write":
                problems.append(f"deploy job {name!r} needs permissions {scope}: write (has {permissions!r})")
    for name, job, _ in builds:
        permissions = _permissions(workflow, job)
        if permissions is None or permissions == "write-all" or (
                isinstance(permissions, dict) and "write" in permissions.values()):
            problems.append(f"build job {name!r} runs the notebooks with a write token ({permissions!r}); "
                            "only the deploy job needs pages and id-token")
    return problems


def pull_request_problems(workflow: dict) -> list[str]:
    """Problems with the workflow that checks pull requests."""
    problems = []
    if "pull_request" not in _triggers(workflow):
        problems.append(f"must run on pull_request (on: {workflow.get('on')!r})")
    problems += _make_problems(workflow, "book")
    problems += _make_problems(workflow, "test")
    for name, job in (workflow.get("jobs") or {}).items():
        permissions = _permissions(workflow, job)
        for scope in ("pages", "id-token", "contents"):
            if _grants(permissions, scope) == "write":
                problems.append(f"job {name!r}: a pull-request check needs no {scope}: write")
        if any(_uses(s, "actions/deploy-pages") for s in _steps(job)):
            problems.append(f"job {name!r} deploys to Pages from a pull request")
    return problems


# ---- the tests ------------------------------------------------------------------------------------

def test_the_pages_and_pull_request_workflows_exist():
    assert PAGES in _workflow_files() and PULL_REQUEST in _workflow_files(), _workflow_files()


@pytest.mark.parametrize("path", _workflow_files(), ids=lambda p: p.name)
@pytest.mark.parametrize("schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"])
def test_every_workflow_matches_githubs_schema_offline(path, schema):
    """schemastore's workflow schema as check-jsonschema vendors it; and every job has a timeout."""
    result = _check_jsonschema(schema, path)
    assert result.returncode == 0, f"{path.name} against {schema}:\n{result.stdout}{result.stderr}"
    assert "validation done" in result.stdout


@pytest.mark.parametrize("breakage", [
    "jobs:\n  build:\n    steps:\n      - run: make book\n",  # no runs-on
    "jobs:\n  build:\n    runs-on: ubuntu-24.04\n    permisions: {}\n    steps:\n      - run: make book\n",  # a typo
    "jobs:\n  build:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v6\n        run: make\n",
], ids=["no-runs-on", "misspelt-key", "uses-and-run"])
def test_the_schema_check_rejects_a_broken_workflow(tmp_path, breakage):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: [push]\n" + breakage)
    result = _check_jsonschema("vendor.github-workflows", broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schema validation errors" in result.stdout + result.stderr


def test_the_schema_check_cannot_reach_the_network():
    """The guard around check-jsonschema holds: a schema that would have to be downloaded fails,
    so the checks above passed on the vendored schema alone."""
    command = [sys.executable, "-c", OFFLINE_CHECK_JSONSCHEMA, "--no-cache",
               "--schemafile", "https://json.schemastore.org/github-workflow.json", str(PAGES)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "network access refused" in result.stdout + result.stderr


def test_the_pages_workflow_builds_the_book_and_deploys_it():
    assert pages_problems(_load(PAGES)) == []


def test_the_pull_request_workflow_builds_the_book_and_runs_the_tests():
    assert pull_request_problems(_load(PULL_REQUEST)) == []


def test_the_pages_artifact_is_where_make_book_writes_the_html():
    from hydrolib.book.build import build_book
    from hydrolib.book.chapters import REPO_ROOT

    output = Path(inspect.signature(build_book).parameters["output"].default)
    assert (output / "_build" / "html").relative_to(REPO_ROOT).as_posix() == HTML


def test_a_sphinx_warning_fails_make_book(monkeypatch, tmp_path):
    """What makes the workflows' book step fail on a warning: render_book runs jupyter-book with -W
    and raises on its failure, the command line lets the error through (exit 1), and the Makefile's
    recipes do not ignore errors."""
    from hydrolib import cli
    from hydrolib.book import build, render
    from hydrolib.book.chapters import BookBuildError

    commands = []

    def jupyter_book(command, **kwargs):
        commands.append(command)
        return subprocess.CompletedProcess(command, 1, "book/api.md:3: WARNING: undefined label: 'nowhere'\n", "")

    monkeypatch.setattr(render.subprocess, "run", jupyter_book)
    with pytest.raises(BookBuildError, match="undefined label"):
        render.render_book(tmp_path / "staging", tmp_path)
    assert "-W" in commands[0] and "build" in commands[0]

    def failing_build(*args, **kwargs):
        raise BookBuildError("jupyter-book build failed")

    monkeypatch.setattr(build, "build_book", failing_build)
    assert cli.main(["book"]) == 1  # the command line exits 1 on it, so `make book` fails

    makefile = (ROOT / "Makefile").read_text()
    for target in ("book", "test"):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M).group(1).splitlines()
        assert recipe and all(not line.lstrip("\t").startswith("-") and "|| true" not in line for line in recipe)


# Broken copies of the workflows: each check must reject every one.
Breakage = Callable[[dict], object]


def _step(workflow: dict, match: Callable[[dict], bool]) -> dict:
    return next(s for job in workflow["jobs"].values() for s in _steps(job) if match(s))


def _job(workflow: dict, match: Callable[[dict], bool]) -> dict:
    return next(job for job in workflow["jobs"].values() if any(match(s) for s in _steps(job)))


def _make(target: str) -> Callable[[dict], bool]:
    return lambda step: _runs(step, f"make {target}")


def _action(action: str) -> Callable[[dict], bool]:
    return lambda step: _uses(step, action)


def _drop_step(workflow: dict, match: Callable[[dict], bool]) -> None:
    job = _job(workflow, match)
    job["steps"] = [s for s in _steps(job) if not match(s)]


def _python(version: str) -> Breakage:
    return lambda wf: [s["with"].update({"python-version": version})
                       for job in wf["jobs"].values() for s in _steps(job) if _uses(s, "actions/setup-python")]


COMMON_BREAKAGES: dict[str, Breakage] = {
    "book-failure-ignored": lambda wf: _step(wf, _make("book")).update(run="make book || true"),
    "book-continues-on-error": lambda wf: _step(wf, _make("book")).update({"continue-on-error": True}),
    "book-step-gone": lambda wf: _drop_step(wf, _make("book")),
    "torch-from-pypi": lambda wf: [scope.pop("PIP_EXTRA_INDEX_URL", None) for scope in
                                   (wf.get("env") or {}, *((job.get("env") or {}) for job in wf["jobs"].values()))],
    "python-3.12": _python("3.12"),
    "no-checkout": lambda wf: [job.update(steps=[s for s in _steps(job) if not _uses(s, "actions/checkout")])
                               for job in wf["jobs"].values()],
}
PAGES_BREAKAGES: dict[str, Breakage] = {
    **COMMON_BREAKAGES,
    "not-on-main": lambda wf: wf["on"]["push"].update(branches=["develop"]),
    "no-workflow-dispatch": lambda wf: wf["on"].pop("workflow_dispatch"),
    "no-concurrency": lambda wf: wf.pop("concurrency"),
    "cancels-deployments": lambda wf: wf["concurrency"].update({"cancel-in-progress": True}),
    "no-pages-write": lambda wf: _job(wf, _action("actions/deploy-pages"))["permissions"].pop("pages"),
    "no-id-token-write": lambda wf: _job(wf, _action("actions/deploy-pages"))["permissions"].update(
        {"id-token": "read"}),
    "write-token-in-build": lambda wf: _job(wf, _make("book")).update(permissions={"contents": "write"}),
    "other-environment": lambda wf: _job(wf, _action("actions/deploy-pages"))["environment"].update(name="prod"),
    "no-deploy-pages": lambda wf: _drop_step(wf, _action("actions/deploy-pages")),
    "no-configure-pages": lambda wf: _drop_step(wf, _action("actions/configure-pages")),
    "no-upload": lambda wf: _drop_step(wf, _action("actions/upload-pages-artifact")),
    "wrong-artifact-path": lambda wf: _step(wf, _action("actions/upload-pages-artifact"))["with"].update(
        path="_build/html"),
    "make-quick-book": lambda wf: _step(wf, _make("book")).update(run="make book PROFILE=quick"),
}
PULL_REQUEST_BREAKAGES: dict[str, Breakage] = {
    **COMMON_BREAKAGES,
    "on-push-only": lambda wf: wf.update(on={"push": {"branches": ["main"]}}),
    "no-tests": lambda wf: _drop_step(wf, _make("test")),
    "tests-ignored": lambda wf: _step(wf, _make("test")).update(run="make test; true"),
    "deploys": lambda wf: _job(wf, _make("book")).update(permissions={"pages": "write", "id-token": "write"}),
}


@pytest.mark.parametrize("name", PAGES_BREAKAGES)
def test_the_pages_checks_reject_a_broken_workflow(name):
    workflow = copy.deepcopy(_load(PAGES))
    PAGES_BREAKAGES[name](workflow)
    assert workflow != _load(PAGES), f"breakage {name!r} changed nothing"
    assert pages_problems(workflow), f"breakage {name!r} went unnoticed"


@pytest.mark.parametrize("name", PULL_REQUEST_BREAKAGES)
def test_the_pull_request_checks_reject_a_broken_workflow(name):
    workflow = copy.deepcopy(_load(PULL_REQUEST))
    PULL_REQUEST_BREAKAGES[name](workflow)
    assert workflow != _load(PULL_REQUEST), f"breakage {name!r} changed nothing"
    assert pull_request_problems(workflow), f"breakage {name!r} went unnoticed"
