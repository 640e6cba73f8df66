"""The CRM's use cases keep one shape: services go through repositories, the facade passes commands.

Services and the facade never touch the session or SQL (queries and the flushing rule live in
``crm/repository``); facade methods take typed arguments (one command per mutating use case), never
``**fields``; every mutating facade method passes its command to the unit of work, so the idempotency
digest covers all of it.
"""

import ast
import inspect
from pathlib import Path

from promptsales.domain_core.crm import commands
from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.shared.commands import Command

CRM = Path(__file__).resolve().parents[2] / "domain_core" / "crm"
NO_PERSISTENCE = [*sorted((CRM / "service").glob("*.py")), CRM / "facade.py"]


def test_services_and_the_facade_use_no_session_and_no_sql() -> None:
    offences = []
    for path in NO_PERSISTENCE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                offences += [
                    f"{path.name}: imports {m}" for m in modules if m.split(".")[0] in ("sqlalchemy", "sqlmodel")
                ]
            if isinstance(node, ast.Attribute) and node.attr == "session":
                offences.append(f"{path.name}:{node.lineno}: uses .session")
    assert not offences, offences


def test_facade_methods_take_no_free_form_keyword_arguments() -> None:
    for name, method in inspect.getmembers(CrmFacade, inspect.isfunction):
        kinds = {p.kind for p in inspect.signature(method).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, f"CrmFacade.{name} takes **kwargs"


def test_every_command_has_a_facade_method_that_takes_it() -> None:
    taken = {
        parameter.annotation
        for _, method in inspect.getmembers(CrmFacade, inspect.isfunction)
        for parameter in inspect.signature(method, eval_str=True).parameters.values()
    }
    defined = {
        c
        for c in vars(commands).values()
        # Leaves only: a base that gathers shared fields (ContactFields) is no use case of its own.
        if isinstance(c, type) and issubclass(c, Command) and c is not Command and not c.__subclasses__()
    }
    assert defined <= taken, f"commands no facade method takes: {sorted(c.__name__ for c in defined - taken)}"


def test_mutating_facade_methods_hand_their_command_to_the_unit_of_work() -> None:
    for node in ast.walk(ast.parse(inspect.getsource(CrmFacade))):
        if not isinstance(node, ast.AsyncFunctionDef):
            continue
        takes_command = any(arg.arg == "command" for arg in node.args.args)
        if not takes_command:
            continue
        calls = [
            (c.func.attr, c) for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
        ]
        via_run = any(
            name == "_run" and any(isinstance(a, ast.Name) and a.id == "command" for a in c.args) for name, c in calls
        )
        via_uow = any(
            name in ("mutate", "mutate_paid")
            and any(
                k.arg == "arguments" and isinstance(k.value, ast.Name) and k.value.id == "command" for k in c.keywords
            )
            for name, c in calls
        )
        assert via_run or via_uow, f"CrmFacade.{node.name} does not pass its command to the unit of work"
