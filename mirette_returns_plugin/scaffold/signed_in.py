"""How the shop knows who is signed in: Flask-Login, a function of its own, or ``g.user``."""

from __future__ import annotations

import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from flask import Flask

#: Words in a function's name that say it returns the signed-in person.
CURRENT_WORDS = ("current", "signed_in", "logged_in", "login", "authenticated", "who")


@dataclass(frozen=True)
class SignedIn:
    #: ``from ... import ...`` lines the generated file needs for it.
    imports: tuple[str, ...]
    #: The ``UserMap.current`` value, as Python source.
    source: str
    why: str
    unsure: bool


def find(app: Flask, user_model: type | None) -> list[SignedIn]:
    """Every way found, likeliest first; ``g.user`` last, as a guess."""
    found = []
    manager = getattr(app, "login_manager", None)
    if manager is not None:
        loader = getattr(manager, "_user_callback", None)
        said = f" (its user_loader is {loader.__module__}.{loader.__qualname__})" if loader else ""
        found.append(SignedIn(("from flask_login import current_user",),
                              "lambda: current_user if current_user.is_authenticated else None",
                              f"the app uses Flask-Login{said}", False))
    if user_model is not None:
        for module, name in _shop_functions_returning(app, user_model):
            found.append(SignedIn((f"from {module} import {name}",), name,
                                  f"{module}.{name}() takes no argument and returns the signed-in "
                                  f"{user_model.__name__}",
                                  manager is not None))
    for module, attribute in _g_attributes(app):
        found.append(SignedIn(("from flask import g",), f"lambda: g.get({attribute!r})",
                              f"{module} sets g.{attribute}: check it is set before the plugin's pages run", True))
    if not any(way.source == 'lambda: g.get("user")' or way.source == "lambda: g.get('user')" for way in found):
        found.append(SignedIn(("from flask import g",), "lambda: g.get('user')",
                              "nothing else was found: many shops keep the signed-in user in g.user", True))
    return found


def _shop_modules(app: Flask) -> list[tuple[str, ModuleType, Path]]:
    """The modules loaded from the shop's own folder (the plugin's own only when the shop lives in it)."""
    root = Path(app.root_path).resolve()
    own = Path(__file__).resolve().parent.parent
    found = []
    for module_name, module in sorted(sys.modules.items(), key=lambda item: item[0]):
        path = getattr(module, "__file__", None)
        if not path:
            continue
        path = Path(path).resolve()
        if path.is_relative_to(root) and not (path.is_relative_to(own) and not root.is_relative_to(own)):
            found.append((module_name, module, path))
    return found


_G_ASSIGNMENT = re.compile(r"\bg\.(\w*(?:user|member|customer|account|client)\w*)\s*=[^=]")


def _g_attributes(app: Flask) -> list[tuple[str, str]]:
    """``g.<something user-like> = ...`` in the shop's own modules."""
    found = []
    for module_name, _module, path in _shop_modules(app):
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for attribute in dict.fromkeys(_G_ASSIGNMENT.findall(source)):
            found.append((module_name, attribute))
    return found


def _shop_functions_returning(app: Flask, user_model: type) -> list[tuple[str, str]]:
    """Public functions of the shop's own modules, without parameters, annotated to return the user model."""
    pattern = re.compile(rf"\b{re.escape(user_model.__name__)}\b")
    # Unannotated, the name must say both: current_customer() for a Customer model.
    model_words = {word.lower() for word in re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", user_model.__name__)} | {"user"}
    found = []
    for module_name, module, _path in _shop_modules(app):
        for name, function in list(vars(module).items()):
            if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != module_name:
                continue
            if not any(word in name.lower() for word in CURRENT_WORDS):
                continue
            try:
                signature = inspect.signature(function)
            except (TypeError, ValueError):
                continue
            required = [p for p in signature.parameters.values() if p.default is p.empty
                        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            annotated = signature.return_annotation is not signature.empty
            if required:
                continue
            if (annotated and pattern.search(str(signature.return_annotation))) or \
                    (not annotated and set(name.lower().split("_")) & model_words):
                found.append((module_name, name))
    return found
