"""@pypi / @conda (steps) and @pypi_base / @conda_base (flows), with Metaflow's arguments.

    @pypi_base(packages={"requests": "2.32.3"}, python="3.11")
    class MyFlow(FlowSpec):
        @pypi(packages={"tqdm": "4.66.4"})
        @step
        def fetch(self): ...

They only record what was asked; the environments are built when a run starts
(environments/build.py) and each task of the step runs in its one (environments/launch.py).
"""

from __future__ import annotations

from typing import Any

from core_runtime.decorators import DecoratorError, _decorator_factory


def _packages(deco: str, packages: Any) -> dict[str, str]:
    if packages is None:
        return {}
    if not isinstance(packages, dict) or not all(isinstance(k, str) and k for k in packages):
        raise DecoratorError(f"@{deco}(packages={packages!r}): expected a dict of package name -> version")
    return {k: "" if v is None else str(v) for k, v in packages.items()}


def _python(deco: str, python: Any) -> str | None:
    if python is None or python == "":
        return None
    text = str(python).strip()
    if not text.replace(".", "").isdigit():
        raise DecoratorError(f"@{deco}(python={python!r}): expected a version such as '3.11' or '3.12.1'")
    return text


def _pypi(packages: Any = None, python: Any = None, disabled: Any = None) -> dict[str, Any]:
    return {"packages": _packages("pypi", packages), "python": _python("pypi", python), "disabled": disabled}


def _conda(packages: Any = None, libraries: Any = None, python: Any = None,
           disabled: Any = None) -> dict[str, Any]:
    # ``libraries=`` is the older name; ``packages=`` wins where both name a package.
    merged = {**_packages("conda", libraries), **_packages("conda", packages)}
    return {"packages": merged, "python": _python("conda", python), "disabled": disabled}


pypi = _decorator_factory("pypi", _pypi)
conda = _decorator_factory("conda", _conda)


def _flow_decorator(kind: str, build: Any) -> Any:
    def decorator(cls: Any = None, **kwargs: Any) -> Any:
        attrs = build(**kwargs)

        def apply(klass: type) -> type:
            base: dict[str, Any] = dict(klass.__dict__.get("_fs_environment_base", {}))
            if kind in base:
                raise DecoratorError(f"@{kind}_base is applied twice to flow {klass.__name__}")
            base[kind] = attrs
            klass._fs_environment_base = base  # type: ignore[attr-defined]
            return klass

        return apply(cls) if isinstance(cls, type) else apply

    decorator.__name__ = f"{kind}_base"
    return decorator


pypi_base = _flow_decorator("pypi", _pypi)
conda_base = _flow_decorator("conda", _conda)
