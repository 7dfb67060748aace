"""The grader's seal: runs in the student's kernel, before any of the student's code.

Not imported by the grader: tools/grade.py sends this file's text to the kernel, which
executes it in a private namespace (its own copy of the builtins, taken before any
student code ran) and calls `install(seal_path, globals())`. From then on:

- each exercise is run by an audit event, `sys.audit("course.exercise", "1.2")`: the
  hook (an audit hook cannot be removed, and nothing in the student's namespace refers
  to it) runs the answer, then the official check, in a thread of its own, so that the
  student's code never has the seal's frames, and their variables, on its stack;
- the check runs on a copy of the namespace in which every name it reads that no
  answer defines has the value it had before the answer ran, every module is a frozen
  view of that module as it was when the seal was installed, and the builtins are the
  seal's own copy: a student who replaces json.dumps, torch.allclose, a builtin or a
  helper of the check changes nothing the check sees;
- each outcome is written to the seal's record file with an HMAC keyed by a secret the
  grader generated; the key was read from a file that is deleted at once. The grader
  accepts only records that carry a valid HMAC, one per exercise;
- what the seal cannot undo, it reports: a builtin or a module's function replaced, a
  name the check relies on changed by an earlier answer, a class of torch or numpy
  changed, a function's code swapped, the use of gc's object lists, ctypes,
  sys._current_frames, sys.settrace/setprofile, another audit hook or /proc/*/mem while
  student code runs. Any of these turns the exercise into "review".

What it cannot see is stated in book/instructors.md ("What the grader protects").
"""

import _hashlib
import builtins as _builtins_module
import json as _json
import os as _os
import queue as _queue
import sys as _sys
import threading as _threading
import types as _types

_HMAC = _hashlib.hmac_digest
_WRITE = _os.write
_MODULE_TYPE = _types.ModuleType
_FLAG_EVENTS = frozenset(
    (
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys._current_frames",
        "sys.settrace",
        "sys.setprofile",
        "sys.addaudithook",
        "cpython.PyInterpreterState_Clear",
    )
)
_WATCHED_CLASS_MODULES = ("torch", "numpy", "builtins", "json", "math")
_METADATA = frozenset(("__module__", "__doc__", "__qualname__", "__name__"))
# swapped by ipykernel itself around every cell (it forwards input() to the notebook)
_VOLATILE = frozenset(("input", "raw_input", "getpass"))

_state = {}


def install(path, namespace):
    """Read the seal (key, exercises), delete it, snapshot, install the hook."""
    with open(path) as handle:
        seal = _json.load(handle)
    _os.unlink(path)
    _state["key"] = bytes.fromhex(seal["key"])
    _state["fd"] = _os.open(seal["records"], _os.O_WRONLY | _os.O_APPEND)
    _state["exercises"] = seal["exercises"]
    _state["ns"] = namespace
    _state["transform"] = namespace["get_ipython"]().transform_cell
    _state["builtins"] = tuple(
        (name, value)
        for name, value in vars(_builtins_module).items()
        if not name.startswith("_") and name not in _VOLATILE
    )
    _state["pristine_builtins"] = dict(vars(_builtins_module))
    modules = {}
    for name, module in list(_sys.modules.items()):
        if isinstance(module, _MODULE_TYPE) and name.split(".")[0] in (
            "torch",
            "torchvision",
            "numpy",
            "json",
            "math",
            "copy",
            "random",
            "sklearn",
            "scipy",
        ):
            modules[name] = dict(vars(module))
    for value in namespace.values():
        if isinstance(value, _MODULE_TYPE) and value.__name__ not in modules:
            modules[value.__name__] = dict(vars(value))
    _state["modules"] = modules
    _state["flags"] = []
    _state["in_run"] = [0]
    _state["touched"] = set()
    _state["after_last_run"] = {}
    _sys.addaudithook(_hook)


def _flag(what):
    if len(_state["flags"]) < 20 and what not in _state["flags"]:
        _state["flags"].append(what)


def _hook(event, args):
    if event == "course.exercise":
        _run(args[0])
        return
    if not _state["in_run"][0]:
        return
    try:
        if event in _FLAG_EVENTS:
            _flag(f"the hand-in used {event}")
        elif event.startswith("ctypes.") and event not in (
            "ctypes.dlopen",
            "ctypes.dlsym",
        ):
            _flag(f"the hand-in used {event}")
        elif event == "open":
            path = args[0]
            if (
                isinstance(path, str)
                and path.startswith("/proc/")
                and (path.endswith("/mem"))
            ):
                _flag(f"the hand-in opened {path}")
        elif event == "object.__setattr__":
            target, name = args[0], args[1]
            if name == "__code__":
                _flag("the hand-in replaced a function's __code__")
            elif (
                isinstance(target, type)
                and name not in _METADATA
                and str(getattr(target, "__module__", "")).split(".")[0]
                in _WATCHED_CLASS_MODULES
            ):
                _flag(f"the hand-in changed {target.__qualname__}.{name}")
    except Exception:
        pass


class _Frozen:
    """A module as it was when the seal was installed (new attributes: live)."""

    __slots__ = ("_module", "_snapshot")

    def __init__(self, module, snapshot):
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_snapshot", snapshot)

    def __getattr__(self, name):
        snapshot = object.__getattribute__(self, "_snapshot")
        if name in snapshot:
            value = snapshot[name]
        else:
            value = getattr(object.__getattribute__(self, "_module"), name)
        return _frozen(value)

    def __repr__(self):
        return repr(object.__getattribute__(self, "_module"))


def _frozen(value):
    if isinstance(value, _MODULE_TYPE):
        snapshot = _state["modules"].get(value.__name__)
        if snapshot is not None:
            return _Frozen(value, snapshot)
    return value


def _identity(value):
    return (value, getattr(value, "__code__", None))


def _tampering():
    """Builtins and module functions replaced since the seal was installed."""
    problems = []
    live = vars(_builtins_module)
    for name, value in _state["builtins"]:
        if live.get(name) is not value:
            problems.append(f"the builtin {name} was replaced")
    for module_name, snapshot in _state["modules"].items():
        module = _sys.modules.get(module_name)
        if module is None:
            continue
        current = vars(module)
        for name, value in snapshot.items():
            if name in _VOLATILE:
                continue
            if (callable(value) or isinstance(value, type)) and current.get(
                name
            ) is not value:
                problems.append(f"{module_name}.{name} was replaced")
                break
    return problems[:5]


def _attempt(spec, exercise_id, before, results):
    """In a thread of its own: the answer, then the check on a sealed namespace."""
    outcome = ("error", "the check did not finish")
    answer_error = None
    try:
        ns = _state["ns"]
        try:
            code = compile(
                _state["transform"](spec["answer"]),
                f"<answer to exercise {exercise_id}>",
                "exec",
            )
            exec(code, ns)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            answer_error = f"{type(error).__name__}: {error}"
        sealed = dict(ns)
        for name in spec["protected"]:
            if name in before:
                sealed[name] = before[name][0]
            else:
                sealed.pop(name, None)
        for name, value in list(sealed.items()):
            sealed[name] = _frozen(value)
        sealed["__builtins__"] = _state["pristine_builtins"]
        given = dict(sealed)
        try:
            exec(
                compile(spec["check"], f"<check of exercise {exercise_id}>", "exec"),
                sealed,
            )
        except (AssertionError, NotImplementedError) as error:
            outcome = ("fail", f"{type(error).__name__}: {error}")
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            outcome = ("error", f"{type(error).__name__}: {error}")
        else:
            outcome = ("pass", "")
        if answer_error and outcome[0] != "pass":
            outcome = ("answer-error", answer_error)
        # what the check itself defined stays defined, as when it runs in a notebook
        for name, value in sealed.items():
            if given.get(name, given) is not value:
                ns[name] = value
    finally:
        results.put(outcome)


def _run(exercise_id):
    spec = _state["exercises"].get(exercise_id)
    if spec is None:
        return
    ns = _state["ns"]
    # names an earlier answer changed stay suspect until a lesson cell sets them again
    touched = _state["touched"]
    last = _state["after_last_run"]
    for name in list(touched):
        if name in ns and name in last and ns[name] is not last[name]:
            touched.discard(name)
    problems = [
        f"an earlier answer changed {name}, which this check uses"
        for name in spec["protected"]
        if name in touched
    ]
    before = {name: _identity(ns[name]) for name in spec["protected"] if name in ns}
    names_before = dict(ns)
    results = _queue.SimpleQueue()
    _state["in_run"][0] += 1
    try:
        worker = _threading.Thread(
            target=_attempt,
            args=(spec, exercise_id, before, results),
            daemon=True,
        )
        try:
            worker.start()
        except RuntimeError:  # no thread left (a fork bomb took them): run it here
            _attempt(spec, exercise_id, before, results)
        else:
            worker.join()
    finally:
        _state["in_run"][0] -= 1
    outcomes = []
    while not results.empty():
        outcomes.append(results.get())
    problems += list(_state["flags"]) + _tampering()
    if len(outcomes) != 1:
        problems.append(f"{len(outcomes)} outcomes were recorded instead of one")
    status, message = outcomes[0] if outcomes else ("error", "no outcome")
    if not (isinstance(status, str) and isinstance(message, str)):
        status, message = "error", "no outcome"
    if problems:
        said = status if status == "pass" else f"{status}: {message}"
        message = "; ".join(problems) + f" (the check itself said: {said})"
        status = "review"
    for name, value in ns.items():
        if names_before.get(name, touched) is not value:
            touched.add(name)
    _state["after_last_run"] = dict(ns)
    _record(exercise_id, status, message)


def _record(exercise_id, status, message):
    body = repr((exercise_id, status, message))
    mac = _HMAC(_state["key"], body.encode(), "sha256").hex()
    _WRITE(_state["fd"], f"{mac} {body}\n".encode())
