"""The script sandbox: every BPMN expression and script runs here, never in plain ``eval``.

Anyone who can upload BPMN could otherwise run code on the server: SpiffWorkflow's default
environment ``eval``s every expression, and swapping its builtins is no sandbox (the
``().__class__.__base__.__subclasses__()`` escape still works).
Code is compiled by RestrictedPython (no imports, no dunder attributes, guarded item/attribute
access), sees only an allow-list of builtins and product helpers, and is stopped after a time limit.
Compiled code is cached by source text, so a condition evaluated a million times compiles once.

Bounds. A tracer checks the clock on every line of sandboxed Python, but one built-in call
(``sum(range(10**9))``, ``'x' * 10**9``, ``2 ** 10**10``, ``str(big_nested_list)``) runs in C: the
tracer never fires and, holding the GIL, the call stops the whole server. So nothing reachable from
a script may do more than a bounded amount of work, or allocate more than a bounded object, in one
C call; every way of asking for more goes through a guard that measures first:

- the operators ``+ - * ** << % & | ^``, comparisons and ``in``, f-strings, ``*x``/``**x`` in
  displays, and dict/set keys are rewritten at compile time into calls of guards
  (``_BoundedTransformer``); comparisons with a literal (``decision == 'accept'``) stay as they are;
- the builtins that build or walk data are guarded stand-ins (``isinstance(x, str)`` still works);
  ``sorted``/``min``/``max``/``list.sort`` measure the keys they will compare, too;
- methods of built-in objects are wrapped by ``_getattr_``: ``'x'.ljust(10**9)``, ``sep.join(…)``,
  ``.replace``, ``.expandtabs``, ``.to_bytes`` … are measured before they run;
- every guarded built-in and method also checks the clock, so a C loop that calls them
  (``map(sum, …)``) stops too;
- the process' resident memory may grow by ``MAX_MEMORY_GROWTH`` per evaluation (many small
  allocations in a Python loop add up even when each one is small);
- what an expression returns and what a script leaves in the task data is measured as well: the
  engine serialises it afterwards, outside the sandbox; so are the arguments of an error leaving
  the sandbox, which the engine prints.

What the source alone shows (``'x' * 10**9``, ``range(10**9)``, ``2 ** 10**10``) is refused when it
is compiled, i.e. at upload, naming the line. A bound that stops code raises ``_Stop`` inside the
sandbox, which a script's ``except Exception`` cannot catch (bare ``except:``, ``finally`` and the
``BaseException`` names are refused at compile time), and ``ScriptLimitExceeded`` outside it.
"""

from __future__ import annotations

import ast
import gc
import math
import operator
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from itertools import chain
from types import (
    BuiltinFunctionType,
    ClassMethodDescriptorType,
    CodeType,
    FrameType,
    MethodDescriptorType,
    MethodWrapperType,
    WrapperDescriptorType,
)
from typing import Any, NoReturn, Protocol, cast

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.clock import SHANGHAI
from engine.errors import ScriptError, ScriptLimitExceeded, ScriptTimeout

SCRIPT_FILENAME = "<bpmn-script>"
DEFAULT_TIME_LIMIT = 0.5  # seconds per expression or script, of the evaluating thread's own CPU time


def _script_clock() -> float:
    """The time a script is charged: the CPU time of the thread running it. Time the thread waits — for
    the GIL while other requests run, for the machine under load — is not the script's doing, and a
    script on a busy server must not time out for it; a loop still runs out of time."""
    return time.thread_time()

HELPER_NAMES = ("now", "due", "notify_complainant", "notify_business", "file_case", "close_case")

# --- the bounds -------------------------------------------------------------------------------

MAX_SIZE = 1_000_000
"""Longest str/bytes, and most elements of a list, tuple or range, that one sandboxed operation may
create (``'x' * n``, ``+``, padding, ``join``, ``replace``, ``range(n)``, ``to_bytes``, formatting).
Scripts handle a complaint's fields, never megabytes; an object this size is a few MB at most, so
no single C call can take the server's memory."""

MAX_WORK = 2_000_000
"""Most units (a character, an element, 64 bits of an int) one built-in call may walk when it
compares, hashes, sorts, sums or prints nested data. A list can hold the same big string a million
times at the cost of one pointer each, and comparing, hashing or printing it walks every copy in C
where no clock is checked; at this bound such a call takes tens of ms (twice ``MAX_SIZE``, so that
anything one operation may build can still be walked)."""

MAX_STORED = 8_000_000
"""Most units an expression may return or a script may leave in the task data: the engine
serialises and stores it afterwards, outside the sandbox, where data shared many times over (or
referring to itself) would be written out copy by copy. Well above what forms bring (a request body
is at most 1 MiB), so legitimate data accumulated over many tasks passes."""

MAX_SCAN = 1_000_000_000
"""Most character comparisons of one search whose cost is the product of two lengths:
``s.strip(chars)`` compares each stripped character with every character of ``chars``. memchr
speed makes this bound about 40 ms."""

MAX_INT_BITS = 16_384
"""Largest int, in bits (about 4,900 decimal digits), that ``*``, ``**``, ``<<``, ``int()`` and
``int.from_bytes`` may produce. JSON input is already limited to 4,300 digits; ints this size
multiply and divide in well under a millisecond, while ``2 ** 10**10`` would need 1.2 GB."""

MAX_POWMOD_BITS = 2_048
"""Largest exponent and modulus of ``pow(a, b, m)``: its cost grows with bits(b) · bits(m)²; at
2,048 bits one call takes about 30 ms, at 4,096 bits already 260 ms."""

MAX_NESTING = 100
"""Deepest nesting of lists, tuples, sets and dicts the guards measure (form data is shallow; the
measuring itself must not recurse without end)."""

MAX_MEMORY_GROWTH = 50 * 2**20
"""How much the process' resident memory may grow while one expression or script runs. A Python
loop that keeps what it allocates (each piece within the bounds above) is bounded by the time limit
but can still reach gigabytes before it; the clock checks also read the RSS and stop it here. The
RSS is the whole process's: this margin also absorbs what concurrent requests allocate meanwhile."""

MEMORY_CHECK_INTERVAL = 0.002
"""Seconds between two RSS readings of one evaluation. A reading costs about 2 µs; an expression that
finishes sooner (nearly all do) reads none, so the hot path pays nothing for the memory bound."""


class _Stop(BaseException):
    """Carries a ``ScriptError`` out of sandboxed code.

    A ``BaseException`` so that a script's ``except Exception`` cannot swallow a bound and go on;
    the code that runs the sandbox turns it back into the ``ScriptError`` it carries."""

    def __init__(self, error: ScriptError) -> None:
        super().__init__(str(error))
        self.error = error


def _refuse(message: str) -> NoReturn:
    raise _Stop(ScriptLimitExceeded(message))


def _amount(n: int) -> str:
    """A count for a message; astronomically large ones as a power of two (formatting a huge int is
    itself slow and limited)."""
    return f"{n:,}" if n < 10**18 else f"~2^{n.bit_length()}"


def _check_size(n: int, what: str) -> None:
    if n > MAX_SIZE:
        _refuse(f"结果过大 / {what} would make {_amount(n)} items or characters (limit {MAX_SIZE:,})")


def _check_bits(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        _refuse(f"整数过大 / {what} would make an int of about {_amount(bits)} bits (limit {MAX_INT_BITS:,})")


# --- time and memory of one evaluation ---------------------------------------------------------

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_statm_lock = threading.Lock()
_statm: tuple[int, int] | None = None  # (pid, fd of /proc/self/statm, or -1 where there is none)


def _resident_bytes() -> int | None:
    """This process's RSS from ``/proc/self/statm`` (kept open: a read is ~2 µs); None off Linux."""
    global _statm
    pid = os.getpid()
    current = _statm
    if current is None or current[0] != pid:  # first use, or a forked child
        with _statm_lock:
            try:
                current = (pid, os.open("/proc/self/statm", os.O_RDONLY))
            except OSError:
                current = (pid, -1)
            _statm = current
    if current[1] < 0:
        return None
    try:
        return int(os.pread(current[1], 64, 0).split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


def _collection_is_not_the_scripts(phase: str, info: dict[str, int]) -> None:
    """The garbage collector may run a full collection of the whole server's heap while a script runs (it
    starts wherever an allocation crosses its threshold): that time is not the script's work, so the
    script's deadline moves by it. The script's own allocations stay bounded by the memory limit."""
    limits = getattr(sys.gettrace(), "__self__", None)
    if type(limits) is not _Limits:
        return
    if phase == "start":
        limits.collecting_since = _script_clock()
    elif limits.collecting_since is not None:
        limits.deadline += _script_clock() - limits.collecting_since
        limits.collecting_since = None


gc.callbacks.append(_collection_is_not_the_scripts)


class _Limits:
    """The clock and memory budget of one evaluation, checked by the tracer on every line of
    sandboxed Python and by every guard (which also run inside C loops, where no line event fires)."""

    __slots__ = ("collecting_since", "deadline", "limit", "memory_baseline", "next_memory_check")

    def __init__(self, limit: float) -> None:
        now = _script_clock()
        self.limit = limit
        self.deadline = now + limit
        self.next_memory_check = now + MEMORY_CHECK_INTERVAL
        self.memory_baseline: int | None = None
        self.collecting_since: float | None = None

    def check(self) -> None:
        now = _script_clock()
        if now > self.deadline:
            raise _Stop(ScriptTimeout(f"脚本运行超时 / script ran longer than {self.limit:.1f}s"))
        if now >= self.next_memory_check:
            self._check_memory(now)

    def check_guarded(self) -> None:
        """A guard's check: the first one also reads the memory baseline (a guard is about to build
        or walk something sizeable, so the 2 µs are worth it; plain conditions call no guard)."""
        if self.memory_baseline is None:
            self._check_memory(_script_clock())
        self.check()

    def _check_memory(self, now: float) -> None:
        """The first reading is the baseline: at the first guard, or after ``MEMORY_CHECK_INTERVAL``
        of plain Python. Reading at the start would cost every evaluation; what the lazy baseline
        misses is at most a few ms of allocation by plain Python."""
        self.next_memory_check = now + MEMORY_CHECK_INTERVAL
        rss = _resident_bytes()
        if rss is None:
            return
        if self.memory_baseline is None:
            self.memory_baseline = rss
        elif rss - self.memory_baseline > MAX_MEMORY_GROWTH:
            raise _Stop(ScriptLimitExceeded(
                f"脚本占用内存过多 / the script grew the server's memory by more than "
                f"{MAX_MEMORY_GROWTH // 2**20} MiB"))

    def local_trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event != "exception":  # a bound already stopping the code must not turn into a timeout
            self.check()
        return self.local_trace

    def global_trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        """Trace only frames of compiled scripts: the engine's own code runs at full speed."""
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            return self.local_trace(frame, event, arg)
        return None


def _tick() -> None:
    """Check the running evaluation's clock and memory (guards call this; C loops call guards).

    The evaluation's limits are found through this thread's trace function, which ``_run_limited``
    sets to their method: per thread, and cheaper than a thread-local on every evaluation."""
    limits = getattr(sys.gettrace(), "__self__", None)
    if type(limits) is _Limits:
        limits.check_guarded()


def _run_limited(code: CodeType, namespace: dict[str, Any], limit: float) -> Any:
    limits = _Limits(limit)
    previous = sys.gettrace()
    sys.settrace(limits.global_trace)
    try:
        return eval(code, namespace)
    except _Stop as stop:
        stopped = stop.error
    except Exception as exc:
        _bound_messages(exc)
        raise
    finally:
        sys.settrace(previous)
    raise stopped  # outside the handler, so that root_cause() finds the ScriptError, not the _Stop


def _bound_messages(exc: BaseException) -> None:
    """An error leaving the sandbox is printed by the engine (into the answer and the log), and a
    script chooses its arguments (``raise ValueError(data)``): too big to print, they are replaced."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        try:
            _weight(current.args, MAX_SIZE, "error message")
        except _Stop:
            current.args = ("数据过大，未显示 / too large to show",)
        current = current.__cause__ or current.__context__


# --- measuring data ------------------------------------------------------------------------------

_DictKeys: type = type({}.keys())
_DictValues: type = type({}.values())
_DictItems: type = type({}.items())
_INTS = frozenset({int, bool})
_TEXTS = frozenset({str, bytes, bytearray})
_SEQUENCES = frozenset({str, bytes, bytearray, list, tuple})
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict, _DictKeys, _DictValues, _DictItems})
_HASHED = frozenset({set, frozenset, dict, _DictKeys, _DictItems})  # lookups hash the needle only
_SIZED = _CONTAINERS | _TEXTS | {range}
_SCALARS = frozenset({type(None), bool, float, complex})
_IN_PROGRESS = -1


def _range_weight(r: range) -> int:
    try:
        n = len(r)
    except OverflowError:
        return sys.maxsize
    return n * (1 + (max(abs(r.start), abs(r.stop)).bit_length() >> 6))


def _weight(obj: Any, limit: int, what: str, refuse_cycles: bool = False) -> int:
    """How much walking ``obj`` costs (characters, elements, 64-bit words of ints), counting data
    shared by several places once per place, as comparing, hashing, printing or serialising it
    would; refuses beyond ``limit``. Shared containers are measured once (memo by id), so the cost
    of measuring is the number of distinct containers' elements, not the (possibly exponential)
    weight."""
    kind = type(obj)
    if kind in _TEXTS:
        return 1 + len(obj)
    if kind is int:
        return 1 + (int(obj).bit_length() >> 6)
    if kind is range:
        weight = 1 + _range_weight(obj)
        if weight > limit:
            _refuse(f"数据过大 / {what} would walk more than {limit:,} items")
        return weight
    if kind not in _CONTAINERS:
        return 1
    return _weigh(obj, limit, what, {}, 0, refuse_cycles)


def _weigh(obj: Any, limit: int, what: str, memo: dict[int, int], depth: int, refuse_cycles: bool) -> int:
    key = id(obj)
    known = memo.get(key)
    if known is not None:
        if known == _IN_PROGRESS:
            if refuse_cycles:
                _refuse(f"数据含循环引用 / {what} refers to itself and cannot be stored")
            return 1
        return known
    if depth >= MAX_NESTING:
        _refuse(f"数据嵌套过深 / {what} is nested deeper than {MAX_NESTING} levels")
    kind = type(obj)
    if kind in (_DictKeys, _DictValues, _DictItems):
        obj = obj.mapping  # measure the dict itself: its tuples of items are made on the fly
        kind = dict
    items = chain(obj, obj.values()) if kind is dict else obj
    memo[key] = _IN_PROGRESS
    total = 1 + len(obj)
    for item in items:
        item_kind = type(item)
        if item_kind is int:
            total += item.bit_length() >> 6
        elif item_kind is str:
            total += len(item)
        elif item_kind in _CONTAINERS:
            total += _weigh(item, limit, what, memo, depth + 1, refuse_cycles)
        elif item_kind not in _SCALARS:
            total += _weight(item, limit, what)
        if total > limit:
            _refuse(f"数据过大 / {what} would walk more than {limit:,} items")
    if total > limit:
        _refuse(f"数据过大 / {what} would walk more than {limit:,} items")
    memo[key] = total
    return total


def _materialize(iterable: Any) -> Any:
    """Sized containers as they are; anything else (a generator, map, zip …) as a list, so that it
    can be measured before a C loop hashes or compares its items."""
    return iterable if type(iterable) in _SIZED else list(iterable)


def _check_stored(value: Any, what: str) -> None:
    """Refuse data the engine could not serialise in bounded time (too big, or referring to itself)."""
    try:
        _weight(value, MAX_STORED, what, refuse_cycles=True)
    except _Stop as stop:
        stopped = stop.error
    else:
        return
    raise stopped


def _check_task_data(data: dict[str, Any]) -> None:
    """``_check_stored`` for what a script leaves, run after every script: the top level walked here
    without its keys (variable names), which halves the cost for the usual flat task data."""
    memo: dict[int, int] = {}
    total = 0
    try:
        for value in data.values():
            kind = type(value)
            if kind is str:
                total += len(value)
            elif kind in _CONTAINERS:
                total += _weigh(value, MAX_STORED, "task data", memo, 1, True)
            elif kind not in _SCALARS:
                total += _weight(value, MAX_STORED, "task data")
        if total > MAX_STORED:
            _refuse(f"数据过大 / task data would walk more than {MAX_STORED:,} items")
    except _Stop as stop:
        stopped = stop.error
    else:
        return
    raise stopped


# --- operator guards (the transformer rewrites the operators into calls of these) ---------------


def _add(a: Any, b: Any) -> Any:
    if type(a) in _SEQUENCES and type(b) in _SEQUENCES:
        _check_size(len(a) + len(b), "'+'")
    return a + b


def _iadd(a: Any, b: Any) -> Any:
    if type(a) in _SEQUENCES and type(b) in _SIZED:
        _check_size(len(a) + len(b), "'+='")
    a += b
    return a


def _repetition(a: Any, b: Any, what: str) -> None:
    kind_a, kind_b = type(a), type(b)
    if kind_a in _INTS and kind_b in _INTS:
        if a and b:
            _check_bits(a.bit_length() + b.bit_length(), what)
    elif kind_a in _SEQUENCES and kind_b in _INTS:
        _check_size(len(a) * b, what)
    elif kind_b in _SEQUENCES and kind_a in _INTS:
        _check_size(len(b) * a, what)


def _mul(a: Any, b: Any) -> Any:
    _repetition(a, b, "'*'")
    return a * b


def _imul(a: Any, b: Any) -> Any:
    _repetition(a, b, "'*='")
    a *= b
    return a


def _pow(base: Any, exp: Any, mod: Any = None) -> Any:
    """``**`` and ``pow()``: an int result is estimated from bits(base) · exp before it is computed."""
    if type(base) in _INTS and type(exp) in _INTS:
        if mod is None:
            if exp > 0 and base not in (0, 1, -1):
                if exp > MAX_INT_BITS:
                    _check_bits(exp, "'**'")
                _check_bits(int(exp * math.log2(abs(base))) + 1, "'**'")
        elif type(mod) in _INTS:
            bits = max(abs(exp).bit_length(), abs(mod).bit_length())
            if bits > MAX_POWMOD_BITS:
                _refuse(f"整数过大 / pow(a, b, m) with a {_amount(bits)}-bit exponent or modulus "
                        f"(limit {MAX_POWMOD_BITS:,} bits)")
    _tick()
    return pow(base, exp) if mod is None else pow(base, exp, mod)


def _lshift(a: Any, b: Any) -> Any:
    if type(a) in _INTS and type(b) in _INTS and a and b > 0:
        _check_bits(b if b > MAX_INT_BITS else a.bit_length() + b, "'<<'")
    return a << b


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.S)
_SPEC_NUMBER = re.compile(r"\d+")


def _spec_number(digits: str) -> int:
    return int(digits) if len(digits) <= 18 else 10**18  # no int() of a 10,000-digit width


def _check_percent(fmt: str | bytes | bytearray, args: Any, static: bool = False) -> None:
    """``fmt % args``: widths and precisions, and each conversion's share of the arguments' text."""
    text = fmt if isinstance(fmt, str) else bytes(fmt).decode("latin-1")
    estimate, conversions, starred = len(text), 0, False
    for width, precision, conversion in _PERCENT.findall(text):
        if conversion == "%":
            continue
        conversions += 1
        starred = starred or "*" in (width, precision)
        for number in (width, precision):
            if number and number != "*":
                estimate += _spec_number(number)
    _check_size(estimate, "'%' formatting")
    if static or not conversions:
        return
    if starred:  # widths taken from the arguments
        for value in args if type(args) is tuple else (args,):
            if type(value) in _INTS:
                _check_size(value, "'%' formatting")
    arguments = _weight(args, MAX_SIZE, "'%' formatting")
    _check_size(estimate + conversions * arguments, "'%' formatting")


def _mod(a: Any, b: Any) -> Any:
    if type(a) in _TEXTS:
        _check_percent(a, b)
    return a % b


def _set_operands(a: Any, b: Any, what: str) -> None:
    """``&``, ``|``, ``^``, ``-`` with a set or dict view hash the other operand's items."""
    for operand in (a, b):
        kind = type(operand)
        if (kind in _CONTAINERS and kind not in _HASHED) or kind is _DictItems:  # items views rehash pairs
            _weight(operand, MAX_WORK, what)


def _set_op(op: Callable[[Any, Any], Any], what: str) -> Callable[[Any, Any], Any]:
    def guard(a: Any, b: Any) -> Any:
        if type(a) not in _INTS:
            _set_operands(a, b, what)
        return op(a, b)
    return guard


_sub = _set_op(operator.sub, "'-'")
_and = _set_op(operator.and_, "'&'")
_or = _set_op(operator.or_, "'|'")
_xor = _set_op(operator.xor, "'^'")


def _compared(x: Any) -> Any:
    """An operand of ``==``, ``<`` … that is not a literal: comparing containers walks them."""
    if type(x) in _CONTAINERS:
        _weight(x, MAX_WORK, "comparison")
    return x


def _contains(x: Any, container: Any) -> bool:
    """``x in container``, refused where the C loop would walk more than ``MAX_WORK``."""
    kind = type(container)
    if kind in _TEXTS or kind is range:
        return x in container
    needle = _weight(x, MAX_WORK, "'in'")
    if kind in _HASHED:
        return x in container
    if kind in _CONTAINERS:
        if len(container) * needle > MAX_WORK:
            _weight(container, MAX_WORK, "'in'")
        return x in container
    for item in container:  # an iterator: compare one item at a time, with the clock
        _tick()
        if item is x or item == x:
            return True
    return False


def _key(k: Any) -> Any:
    """A dict key or set element: hashing a tuple walks it."""
    if type(k) is tuple or type(k) is frozenset:
        _weight(k, MAX_WORK, "key")
    return k


def _keys(iterable: Any) -> Any:
    """``{*iterable}``: every item is hashed."""
    items = _materialize(iterable)
    _weight(items, MAX_WORK, "set")
    return items


def _starred(value: Any) -> Any:
    """``[*x]``, ``{**x}``: a copy per occurrence; check the clock and memory between copies."""
    _tick()
    return value


def _check_spec(spec: str) -> None:
    for digits in _SPEC_NUMBER.findall(spec):
        _check_size(_spec_number(digits), "format width")


def _fvalue(value: Any, conversion: int, spec: str) -> str:
    """One ``{value!conversion:spec}`` of an f-string."""
    if type(value) in _CONTAINERS:
        _weight(value, MAX_SIZE, "f-string")
    if conversion == ord("s"):
        value = str(value)
    elif conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("a"):
        value = ascii(value)
    if spec:
        _check_spec(spec)
    return format(value, spec)


def _fstring(*parts: str) -> str:
    _check_size(sum(map(len, parts)), "f-string")
    return "".join(parts)


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": _iadd, "-=": _set_op(operator.isub, "'-='"), "*=": _imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": _mod, "|=": _set_op(operator.ior, "'|='"),
    "&=": _set_op(operator.iand, "'&='"),
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    if op not in _INPLACE:
        raise ScriptError(f"脚本中不允许使用运算符 {op} / operator {op} is not allowed in scripts")
    return _INPLACE[op](x, y)


def _guarded_getitem(obj: Any, key: Any) -> Any:
    if type(key) is tuple:
        _key(key)
    return obj[key]


# --- built-ins -------------------------------------------------------------------------------------


class _StandIn(type):
    """Metaclass of the sandbox's stand-ins for built-in types: calling one builds a real object
    through a guard, while ``isinstance``/``issubclass`` and class attributes (``str.join``,
    ``dict.fromkeys``) answer as the type itself, so scripts see no difference."""

    _real: type
    _build: Callable[..., Any]

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(getattr(sub, "_real", sub), cls._real)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._build(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._real, name)

    def __repr__(cls) -> str:
        return repr(cls._real)


def _stand_in(real: type, build: Callable[..., Any]) -> type:
    return _StandIn(real.__name__, (), {"_real": real, "_build": staticmethod(build)})


def _build_str(*args: Any, **kwargs: Any) -> str:
    _tick()
    if len(args) == 1 and not kwargs and type(args[0]) in _CONTAINERS:
        _weight(args[0], MAX_SIZE, "str()")
    return str(*args, **kwargs)  # decoding (str(b, 'utf-8')) is no longer than the bytes


def _repr(obj: Any) -> str:
    _tick()
    if type(obj) in _CONTAINERS:
        _weight(obj, MAX_SIZE, "repr()")
    return repr(obj)


def _build_int(*args: Any, **kwargs: Any) -> int:
    _tick()
    if args and type(args[0]) in _TEXTS and len(args[0]) > MAX_INT_BITS + 64:
        _check_bits(len(args[0]), "int()")  # parsing decimal text is quadratic
    result = int(*args, **kwargs)
    _check_bits(result.bit_length(), "int()")
    return result


def _build_range(*args: Any) -> range:
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = sys.maxsize
    _check_size(n, "range()")
    return r


def _build_list(*args: Any) -> list[Any]:
    _tick()
    return list(*args)


def _build_tuple(*args: Any) -> tuple[Any, ...]:
    _tick()
    return tuple(*args)


def _build_set(*args: Any) -> set[Any]:
    _tick()
    return set(*(_keys(a) for a in args))


def _build_frozenset(*args: Any) -> frozenset[Any]:
    _tick()
    return frozenset(*(_keys(a) for a in args))


def _build_dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    _tick()
    if args and type(args[0]) is not dict:
        args = (_keys(args[0]), *args[1:])
    return dict(*args, **kwargs)


def _walking(real: type, what: str) -> Callable[..., Any]:
    """``map``, ``filter``, ``zip``, ``enumerate``, ``reversed``: their C loops call a function on, or
    hand on, each item of a container, so the container is measured first."""
    def build(*args: Any, **kwargs: Any) -> Any:
        _tick()
        for arg in args:
            if type(arg) in _CONTAINERS:
                _weight(arg, MAX_WORK, what)
        return real(*args, **kwargs)
    return build


def _sum(iterable: Any, /, start: Any = 0) -> Any:
    _tick()
    items = _materialize(iterable)
    if type(start) in (list, tuple):  # concatenation: linear here, quadratic in sum()
        if not all(type(item) is type(start) for item in items):
            return sum(items, start)  # the same TypeError as sum()
        _check_size(len(start) + sum(map(len, items)), "sum()")
        return type(start)(chain(start, *items))
    _weight(items, MAX_WORK, "sum()")
    return sum(items, start)


def _keys_of(items: Any, key: Any, what: str) -> list[Any]:
    """The key of each item, computed once as ``sorted``/``min``/``max`` do, and measured: with a key
    function, C compares the keys, not the items."""
    keys = [key(item) for item in items]
    _weight(keys, MAX_WORK, what)
    return keys


def _extreme(real: Callable[..., Any], what: str) -> Callable[..., Any]:
    """``min``/``max``: compare every item (or every key)."""
    def guard(*args: Any, key: Any = None, **kwargs: Any) -> Any:
        _tick()
        items = _materialize(args[0]) if len(args) == 1 else args
        _weight(items, MAX_WORK, what)
        if key is None:
            return real(items, **kwargs) if len(args) == 1 else real(*args, **kwargs)
        items = list(items)
        keys = _keys_of(items, key, what)
        if not items:
            return real(items, **kwargs)  # default=, or the same error as the built-in
        return items[real(range(len(items)), key=keys.__getitem__)]  # the first extreme, as the built-in
    return guard


def _sorted(iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list[Any]:
    _tick()
    items = list(iterable)
    _weight(items, MAX_WORK, "sorted()")
    if key is None:
        items.sort(reverse=reverse)
        return items
    keys = _keys_of(items, key, "sorted()")
    return [items[i] for i in sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)]  # stable


def _divmod(a: Any, b: Any) -> Any:
    _tick()
    return divmod(a, b)


def _round(number: Any, ndigits: Any = None) -> Any:
    if type(number) in _INTS and type(ndigits) in _INTS and ndigits < -MAX_INT_BITS:
        _check_bits(-ndigits, "round()")  # computes 10 ** -ndigits
    return round(number, ndigits)


# Exceptions that are not ``Exception``s: a script catching them could catch the sandbox's stop.
_UNCATCHABLE = frozenset({"BaseException", "KeyboardInterrupt", "SystemExit", "GeneratorExit"})

_ALLOWED_BUILTINS: dict[str, Any] = {
    name: value for name, value in safe_builtins.items()
    if name not in {"setattr", "delattr", "__build_class__", "id", "hash", "_getattr_", *_UNCATCHABLE}
}
_ALLOWED_BUILTINS.update({
    "str": _stand_in(str, _build_str),
    "int": _stand_in(int, _build_int), "range": _stand_in(range, _build_range),
    "list": _stand_in(list, _build_list), "tuple": _stand_in(tuple, _build_tuple),
    "set": _stand_in(set, _build_set), "frozenset": _stand_in(frozenset, _build_frozenset),
    "dict": _stand_in(dict, _build_dict),
    "map": _stand_in(map, _walking(map, "map()")), "filter": _stand_in(filter, _walking(filter, "filter()")),
    "zip": _stand_in(zip, _walking(zip, "zip()")),
    "enumerate": _stand_in(enumerate, _walking(enumerate, "enumerate()")),
    "reversed": _stand_in(reversed, _walking(reversed, "reversed()")),
    "repr": _repr, "pow": _pow, "divmod": _divmod, "round": _round, "sum": _sum,
    "min": _extreme(min, "min()"), "max": _extreme(max, "max()"), "sorted": _sorted,
    "any": any, "all": all,
})


# --- methods of built-in objects -------------------------------------------------------------------

_MethodCheck = Callable[[Any, tuple[Any, ...], dict[str, Any], str], tuple[Any, ...]]


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _check_width(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    width = _arg(args, kwargs, 0, "width")
    if type(width) in _INTS:
        _check_size(width, f".{name}()")
    return args


def _check_expandtabs(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    tabsize = _arg(args, kwargs, 0, "tabsize", 8)
    if type(self) in _TEXTS and type(tabsize) in _INTS and tabsize > 1:
        tabs = self.count("\t" if type(self) is str else b"\t")
        _check_size(len(self) + tabs * tabsize, ".expandtabs()")
    return args


def _check_replace(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    if type(self) not in _TEXTS or len(args) < 2 or type(args[0]) not in _TEXTS or type(args[1]) not in _TEXTS:
        return args
    old, new = args[0], args[1]
    if len(new) > len(old):
        try:
            n = self.count(old) if old else len(self) + 1
        except TypeError:
            return args  # str.replace(bytes, …): replace() reports it
        count = _arg(args, kwargs, 2, "count", -1)
        if type(count) in _INTS and count >= 0:
            n = min(n, count)
        _check_size(len(self) + n * (len(new) - len(old)), ".replace()")
    return args


def _check_join(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    if type(self) not in _TEXTS or len(args) != 1:
        return args
    items = _materialize(args[0])
    try:
        total = sum(map(len, items))
    except TypeError:
        return (items,)  # an item that is no string: join() reports it
    _check_size(total + len(self) * max(len(items) - 1, 0), ".join()")
    return (items,)


def _check_translate(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    table = _arg(args, kwargs, 0, "table")
    if type(self) is str and type(table) in (dict, list, tuple):
        values = table.values() if type(table) is dict else table
        longest = max((len(v) for v in values if type(v) is str), default=1)
        _check_size(len(self) * max(longest, 1), ".translate()")
    return args


def _check_to_bytes(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    length = _arg(args, kwargs, 0, "length", 1)
    if type(length) in _INTS:
        _check_size(length, ".to_bytes()")
    return args


def _check_extend(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    if type(self) is list and len(args) == 1 and type(args[0]) in _SIZED:
        _check_size(len(self) + len(args[0]), ".extend()")
    return args


def _check_strip(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    chars = _arg(args, kwargs, 0, "chars")
    if type(self) in _TEXTS and type(chars) in _TEXTS and len(self) * len(chars) > MAX_SCAN:
        _refuse(f"数据过大 / .{name}() of {len(self):,} characters by {len(chars):,} would compare more than "
                f"{MAX_SCAN:,} characters")
    return args


def _check_search(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    """``list.count/index/remove``, ``set.remove``: compare (or hash) the needle with the items."""
    if args and type(self) in _CONTAINERS:
        needle = _weight(args[0], MAX_WORK, f".{name}()")
        if type(self) not in _HASHED and len(self) * needle > MAX_WORK:
            _weight(self, MAX_WORK, f".{name}()")
    return args


def _check_sort(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    if type(self) is list:
        _weight(self, MAX_WORK, ".sort()")
        if kwargs.get("key") is not None:  # sort() calls the key function once more itself
            _keys_of(self, kwargs["key"], ".sort()")
    return args


def _check_key_arg(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    if args and (type(self) in _CONTAINERS or type(self) is _StandIn):
        _key(args[0])
    return args


def _check_keys_args(self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: str) -> tuple[Any, ...]:
    """``set.update/union/…``, ``dict.update/fromkeys``: every item of every argument is hashed."""
    if type(self) not in _CONTAINERS and type(self) is not _StandIn:
        return args
    count = 1 if name in ("fromkeys", "update") else len(args)  # fromkeys(keys, value), update(other)
    return (*(a if type(a) in _HASHED and type(a) is not _DictItems else _keys(a) for a in args[:count]),
            *args[count:])


_METHOD_CHECKS: dict[str, _MethodCheck] = {
    **dict.fromkeys(("ljust", "rjust", "center", "zfill"), _check_width),
    "expandtabs": _check_expandtabs, "replace": _check_replace, "join": _check_join,
    "translate": _check_translate, "to_bytes": _check_to_bytes, "extend": _check_extend,
    **dict.fromkeys(("strip", "lstrip", "rstrip"), _check_strip),
    **dict.fromkeys(("count", "index", "remove"), _check_search),
    "sort": _check_sort,
    **dict.fromkeys(("get", "pop", "setdefault", "add", "discard"), _check_key_arg),
    **dict.fromkeys(("update", "fromkeys", "union", "intersection", "difference", "symmetric_difference",
                     "intersection_update", "difference_update", "symmetric_difference_update", "issubset",
                     "issuperset", "isdisjoint"), _check_keys_args),
}

_NATIVE_METHODS = frozenset({BuiltinFunctionType, MethodDescriptorType, ClassMethodDescriptorType,
                             WrapperDescriptorType, MethodWrapperType})
_UNBOUND_METHODS = frozenset({MethodDescriptorType, ClassMethodDescriptorType, WrapperDescriptorType})


def _check_result(result: Any, receiver: Any, what: str) -> Any:
    """After a method: a result beyond the bounds is refused unless it is no bigger than the object
    the method was called on (``text.strip()`` of a long text from a form is not an amplification)."""
    kind = type(result)
    if kind in _SEQUENCES and len(result) > MAX_SIZE:
        if type(receiver) not in _SIZED or len(result) > len(receiver):
            _check_size(len(result), what)
    elif kind is int:
        _check_bits(result.bit_length(), what)
    return result


def _guarded_method(method: Any, name: str, owner: Any, unbound: bool) -> Callable[..., Any]:
    check = _METHOD_CHECKS.get(name)
    what = f".{name}()"

    def call(*args: Any, **kwargs: Any) -> Any:
        _tick()
        receiver = args[0] if unbound and args else owner
        if check is not None:
            if not unbound:
                args = check(owner, args, kwargs, name)
            elif args:
                args = (args[0], *check(args[0], args[1:], kwargs, name))
        return _check_result(method(*args, **kwargs), receiver, what)

    return call


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    """RestrictedPython's ``safer_getattr``; methods implemented in C come back wrapped in a guard."""
    value = safer_getattr(obj, name, default)  # type: ignore[no-untyped-call]  # RestrictedPython leaves it unannotated
    kind = type(value)
    if kind in _NATIVE_METHODS:
        return _guarded_method(value, name, obj, kind in _UNBOUND_METHODS)
    return value


_GUARDS: dict[str, Any] = {
    "_getattr_": _guarded_getattr,
    "_getitem_": _guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
}
# The transformer's guards live among the builtins, so that the namespace built for every evaluation
# stays small. Task data cannot replace one with something that skips the bound: script names
# starting with "_" are refused at compile time, and data (JSON) holds no callables, so a data key of
# the same name could only make the operator fail.
_OPERATOR_GUARDS: dict[str, Any] = {
    "_add_": _add, "_sub_": _sub, "_mul_": _mul, "_pow_": _pow, "_lshift_": _lshift, "_mod_": _mod,
    "_and_": _and, "_or_": _or, "_xor_": _xor,
    "_cmp_": _compared, "_in_": _contains, "_key_": _key, "_keys_": _keys, "_star_": _starred,
    "_fvalue_": _fvalue, "_fstring_": _fstring,
}
_ALLOWED_BUILTINS.update(_OPERATOR_GUARDS)
_RESERVED = frozenset(_GUARDS) | {"__builtins__", *HELPER_NAMES}


# --- compiling ---------------------------------------------------------------------------------------

_BINOP_GUARDS: dict[type[ast.operator], str] = {
    ast.Add: "_add_", ast.Sub: "_sub_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_",
    ast.Mod: "_mod_", ast.BitAnd: "_and_", ast.BitOr: "_or_", ast.BitXor: "_xor_",
}


def _call(guard: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(guard, ast.Load()), args=args, keywords=[])
    ast.copy_location(call, like)
    ast.copy_location(call.func, like)
    return call


def _is_literal(node: ast.AST) -> bool:
    """A literal number, string, bytes, None …: comparing with one costs at most its own length."""
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand)
    return isinstance(node, ast.Constant)


class _BoundedTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: operators, comparisons, f-strings, starred items and keys
    become calls of the guards above (names starting with ``_``, which scripts cannot write)."""

    def visit_Module(self, node: ast.Module) -> Any:
        result: Any = super().visit_Module(node)
        return ast.fix_missing_locations(result)

    def visit_Expression(self, node: ast.Expression) -> Any:
        result: Any = super().visit_Expression(node)
        return ast.fix_missing_locations(result)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = cast(ast.BinOp, super().visit_BinOp(node))
        guard = _BINOP_GUARDS.get(type(node.op))
        return node if guard is None else _call(guard, [node.left, node.right], node)

    def visit_Compare(self, node: ast.Compare) -> Any:
        node = cast(ast.Compare, super().visit_Compare(node))
        if len(node.ops) == 1:
            op, left, right = node.ops[0], node.left, node.comparators[0]
            if isinstance(op, ast.In | ast.NotIn):
                call = _call("_in_", [left, right], node)
                return ast.copy_location(ast.UnaryOp(ast.Not(), call), node) if isinstance(op, ast.NotIn) else call
            if isinstance(op, ast.Is | ast.IsNot) or _is_literal(left) or _is_literal(right):
                return node
        node.left = self._compared(node.left)
        node.comparators = [self._compared(c) for c in node.comparators]
        return node

    @staticmethod
    def _compared(operand: ast.expr) -> ast.expr:
        return operand if _is_literal(operand) else _call("_cmp_", [operand], operand)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        node = cast(ast.JoinedStr, super().visit_JoinedStr(node))
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = value.format_spec or ast.copy_location(ast.Constant(""), value)
                conversion = ast.copy_location(ast.Constant(value.conversion), value)
                parts.append(_call("_fvalue_", [value.value, conversion, spec], value))
            else:
                parts.append(value)
        return _call("_fstring_", parts, node)

    def visit_Starred(self, node: ast.Starred) -> Any:
        node = cast(ast.Starred, super().visit_Starred(node))
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_star_", [node.value], node)
        return node

    def _hashed(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Starred):
            node.value = _call("_keys_", [node.value], node)
            return node
        return node if _is_literal(node) else _call("_key_", [node], node)

    def visit_Set(self, node: ast.Set) -> Any:
        node = cast(ast.Set, super().visit_Set(node))
        node.elts = [self._hashed(e) for e in node.elts]
        return node

    def visit_Dict(self, node: ast.Dict) -> Any:
        node = cast(ast.Dict, super().visit_Dict(node))
        for i, key in enumerate(node.keys):
            if key is None:  # {**mapping}
                node.values[i] = _call("_star_", [node.values[i]], node.values[i])
            else:
                node.keys[i] = self._hashed(key)
        return node

    def visit_SetComp(self, node: ast.SetComp) -> Any:
        node = cast(ast.SetComp, super().visit_SetComp(node))
        node.elt = self._hashed(node.elt)
        return node

    def visit_DictComp(self, node: ast.DictComp) -> Any:
        node = cast(ast.DictComp, super().visit_DictComp(node))
        node.key = self._hashed(node.key)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        result = super().visit_Subscript(node)
        if isinstance(result, ast.Subscript) and not isinstance(result.slice, ast.Slice):  # d[k] = v, del d[k]
            result.slice = self._hashed(result.slice)
        return result


# Names that do not exist in the sandbox anyway; refusing them at upload tells the admin at once
# instead of at 2 a.m. when the script first runs.
FORBIDDEN_NAMES = frozenset({
    "open", "getattr", "setattr", "delattr", "globals", "locals", "vars", "eval", "exec", "compile",
    "__import__", "type", "input", "breakpoint", "help", "memoryview", "object", "super", "dir",
    "classmethod", "staticmethod", "property", "exit", "quit", *_UNCATCHABLE,
})
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro"})

_UNKNOWN: Any = object()
_STATIC_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: _add, ast.Mult: _mul, ast.Pow: _pow, ast.LShift: _lshift, ast.Mod: _mod,
    ast.Sub: operator.sub, ast.FloorDiv: operator.floordiv, ast.RShift: operator.rshift,
}
_STATIC_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert,
}
_STATIC_CALLS: dict[str, Callable[..., Any]] = {"range": _build_range, "pow": _pow}


class _StaticLimits:
    """Refuse at compile time — at upload — what the guards would refuse at run time when every
    operand is a literal: ``'x' * 10**9``, ``range(10**9)``, ``2 ** 10**10``, ``'x'.ljust(10**9)``,
    ``f'{x:>{10**9}}'``, ``'%1000000000d' % x``. Values are computed with the guards themselves (so
    at most ``MAX_SIZE`` items each), bottom-up, each node once, and dropped as soon as the parent
    has its own (a file repeating ``[0] * 999999`` must not hold them all); anything that is not a
    literal is left to run time."""

    def evaluate(self, node: ast.AST) -> Any:
        """The node's value if the source alone determines it, else ``_UNKNOWN``; every descendant
        is evaluated (and so checked) exactly once."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp) and type(node.op) in _STATIC_UNARY:
            operand = self.evaluate(node.operand)
            return _UNKNOWN if operand is _UNKNOWN else self.guarded(node, _STATIC_UNARY[type(node.op)], operand)
        if isinstance(node, ast.Tuple | ast.List) and isinstance(node.ctx, ast.Load):
            items = [self.evaluate(e) for e in node.elts]
            if any(item is _UNKNOWN for item in items) or any(isinstance(e, ast.Starred) for e in node.elts):
                return _UNKNOWN
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.BinOp):
            left, right = self.evaluate(node.left), self.evaluate(node.right)
            if left is not _UNKNOWN and right is not _UNKNOWN and type(node.op) in _STATIC_BINOPS:
                return self.guarded(node, _STATIC_BINOPS[type(node.op)], left, right)
            if isinstance(node.op, ast.Mod) and type(left) in _TEXTS:
                self.guarded(node, _check_percent, left, None, True)
            return _UNKNOWN
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.FormattedValue):
            value = self.evaluate(node.value)
            spec = self.evaluate(node.format_spec) if node.format_spec is not None else ""
            if spec is not _UNKNOWN:
                self.guarded(node, _check_spec, spec)
            if value is _UNKNOWN or spec is _UNKNOWN:
                return _UNKNOWN
            return self.guarded(node, _fvalue, value, node.conversion, spec)
        if isinstance(node, ast.JoinedStr):
            parts = [self.evaluate(v) for v in node.values]
            return _UNKNOWN if any(p is _UNKNOWN for p in parts) else self.guarded(node, _fstring, *parts)
        for child in ast.iter_child_nodes(node):
            self.evaluate(child)
        return _UNKNOWN

    def call(self, node: ast.Call) -> Any:
        func = node.func
        receiver = self.evaluate(func.value) if isinstance(func, ast.Attribute) else self.evaluate(func)
        args = [self.evaluate(a) for a in node.args]
        for keyword in node.keywords:
            self.evaluate(keyword.value)
        if node.keywords or any(arg is _UNKNOWN for arg in args):
            return _UNKNOWN
        if isinstance(func, ast.Name) and func.id in _STATIC_CALLS:
            return self.guarded(node, _STATIC_CALLS[func.id], *args)
        if isinstance(func, ast.Attribute) and func.attr in _METHOD_CHECKS and receiver is not _UNKNOWN:
            self.guarded(node, _METHOD_CHECKS[func.attr], receiver, tuple(args), {}, func.attr)
        return _UNKNOWN

    @staticmethod
    def guarded(node: ast.AST, guard: Callable[..., Any], *args: Any) -> Any:
        try:
            return guard(*args)
        except _Stop as stop:
            message = f"Line {getattr(node, 'lineno', '?')}: {stop.error}"
        except Exception:  # e.g. 1 // 0: an error at run time, not a bound
            return _UNKNOWN
        raise ScriptLimitExceeded(message)


def _refused(node: ast.AST, chinese: str, english: str) -> ScriptError:
    line = getattr(node, "lineno", "?")
    return ScriptError(f"第 {line} 行：{chinese} / Line {line}: {english}")


def _check_tree(source: str, mode: str) -> None:
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError:
        return  # RestrictedPython reports syntax errors with line numbers
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise _refused(node, "脚本中不允许 import", "import is not allowed in scripts")
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            raise _refused(node, f"脚本中不能使用 {node.id}", f"{node.id!r} is not available in scripts")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            raise _refused(node, f"脚本中不允许访问 .{node.attr}", f".{node.attr} is not allowed in scripts")
        # Both would run script code after the time limit stopped it, and a bare except would catch the stop.
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            raise _refused(node, "脚本中的 except 须写明异常类型，如 except Exception:",
                           "a bare 'except:' is not allowed in scripts; name the exceptions, e.g. 'except Exception:'")
        if isinstance(node, ast.Try) and node.finalbody:
            raise _refused(node, "脚本中不允许 finally", "'finally' is not allowed in scripts")
    _StaticLimits().evaluate(tree)


def _compile(source: str, mode: str) -> CodeType:
    try:
        _check_tree(source, mode)
        compile_restricted = compile_restricted_eval if mode == "eval" else compile_restricted_exec
        result = compile_restricted(source, SCRIPT_FILENAME, policy=_BoundedTransformer)
    except RecursionError:  # the compilers walk the syntax tree recursively
        raise ScriptError("表达式嵌套过深 / the code is nested too deeply") from None
    if result.errors or result.code is None:
        what, what_zh = ("expression", "表达式") if mode == "eval" else ("script", "脚本")
        raise ScriptError("; ".join(result.errors) or f"无法编译{what_zh} / could not compile {what}")
    return result.code


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile an expression in restricted mode; raises ``ScriptError`` with the compiler's reasons."""
    return _compile(source.strip(), "eval")


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    return _compile(source, "exec")


# --- running ---------------------------------------------------------------------------------------------


class ScriptServices(Protocol):
    """What a running transition offers to BPMN scripts (the product's side of the helpers)."""

    def now(self) -> datetime: ...

    def due(self, rule: str, start: str | datetime, received_at: str | None) -> datetime: ...

    def notify_complainant(self, template: str, context: Mapping[str, Any]) -> None: ...

    def notify_business(self, template: str, context: Mapping[str, Any]) -> None: ...

    def file_case(self, data: Mapping[str, Any]) -> str: ...

    def close_case(self, data: Mapping[str, Any], decision: str) -> None: ...


_current_services: ContextVar[ScriptServices | None] = ContextVar("script_services", default=None)


def bind_services(services: ScriptServices | None) -> Any:
    """Make ``services`` the helpers' backend for this thread/context; returns a reset token."""
    return _current_services.set(services)


def reset_services(token: Any) -> None:
    _current_services.reset(token)


def _services() -> ScriptServices:
    services = _current_services.get()
    if services is None:
        raise ScriptError("产品函数只能在流程流转时使用 / product helpers are only available while a transition runs")
    return services


@contextmanager
def _off_the_script_clock() -> Iterator[None]:
    """Run a product helper on the product's time, not the script's: the helpers are the product's own
    code (a notice written to the outbox, a case filed, a deadline computed) and wait on the database, so
    a slow database must not make a two-line script time out. The script's own work stays bounded."""
    limits = getattr(sys.gettrace(), "__self__", None)
    started = _script_clock()
    try:
        yield
    finally:
        if type(limits) is _Limits:
            limits.deadline += _script_clock() - started


def _helpers(context: Mapping[str, Any]) -> dict[str, Any]:
    """Product helpers bound to the data of the task being evaluated."""

    def now() -> str:
        return _services().now().astimezone(SHANGHAI).isoformat()

    def due(rule: str, start: str | datetime) -> str:
        with _off_the_script_clock():
            deadline = _services().due(rule, start, context.get("received_at"))
        return deadline.isoformat()

    def notify_complainant(template: str, **extra: Any) -> None:
        with _off_the_script_clock():
            _services().notify_complainant(template, {**context, **extra})

    def notify_business(template: str, **extra: Any) -> None:
        with _off_the_script_clock():
            _services().notify_business(template, {**context, **extra})

    def file_case() -> str:
        with _off_the_script_clock():
            return _services().file_case(context)

    def close_case(decision: str) -> None:
        with _off_the_script_clock():
            _services().close_case(context, decision)

    return {"now": now, "due": due, "notify_complainant": notify_complainant, "notify_business": notify_business,
            "file_case": file_case, "close_case": close_case}


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment backed by RestrictedPython."""

    def __init__(self, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        super().__init__({})
        self.time_limit = time_limit

    def _namespace(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        namespace: dict[str, Any] = dict(context)
        namespace.update(external or {})
        namespace.update(_helpers(context))
        namespace.update(_GUARDS)
        namespace["__builtins__"] = _ALLOWED_BUILTINS
        return namespace

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        code = compile_expression(expression)
        result = _run_limited(code, self._namespace(context, external_context), self.time_limit)
        if type(result) in _CONTAINERS:
            _check_stored(result, "expression result")
        return result

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        clashes = set(HELPER_NAMES) & set(context)
        if clashes:
            raise ScriptError(f"任务数据使用了保留的函数名 {sorted(clashes)} / task data uses reserved helper names: "
                              f"{sorted(clashes)}")
        code = compile_script(script)
        namespace = self._namespace(context, external_context)
        _run_limited(code, namespace, self.time_limit)
        helper_ids = {k: id(v) for k, v in _helpers({}).items()}
        results = {key: value for key, value in namespace.items()
                   if not (key in _RESERVED or key in helper_ids or callable(value) or key.startswith("_"))}
        _check_task_data(results)
        for key in list(context):
            if key not in namespace:
                del context[key]
        context.update(results)
        return True

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ScriptError("不支持服务任务 / service tasks are not supported")


def make_script_engine(time_limit: float = DEFAULT_TIME_LIMIT) -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment(time_limit))


def root_cause(exc: BaseException) -> BaseException:
    """SpiffWorkflow wraps script errors; the real cause sits in ``__context__``/``__cause__``."""
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "exception", None) or current.__cause__ or current.__context__
        if inner is None:
            break
        current = inner
    return current
