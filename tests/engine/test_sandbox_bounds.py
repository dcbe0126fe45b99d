"""Sandboxed code is bounded in time and memory, single long built-in calls included.

The time limit's tracer fires on lines of Python only; ``sum(range(10**9))`` or ``'x' * 10**9`` is
one call into C that it never interrupts, holding the GIL (the whole server stops) or taking the
memory. Each such call is refused before it runs: at upload when the source shows it, at run time
when the size comes from data. Elapsed time and RSS growth are measured around each hostile case:
they are the safety property itself (a bound), not a performance figure.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import psutil
import pytest
from sqlalchemy import func, select

from engine.bpmn.scaffold import Script, UserTask, build
from engine.bpmn.validation import validate_bpmn
from engine.db.tables import OpenTask, ProcessInstance, SpecVersion
from engine.errors import InvalidWorkflow, ScriptError, ScriptLimitExceeded, ScriptTimeout
from engine.sandbox import MAX_MEMORY_GROWTH, RestrictedEnvironment, compile_expression
from engine.specs import deployed_version
from tests.engine.conftest import LIAISON, EngineEnv

# --- at upload: what the source shows is refused, naming the element -----------------------------

SEEN_AT_UPLOAD = {
    "sum_range": "total = sum(range(10**9))",
    "len_repeat": "size = len('x' * 10**9)",
    "list_repeat": "zeros = [0] * 10**9",
    "repeat_first": "s = 10**9 * 'x'",
    "power": "big = 2 ** 10 ** 10",
    "pow": "big = pow(10, 10**9)",
    "pow_mod": "r = pow(3, 2 ** 10000, 7)",
    "shift": "big = 1 << 10**10",
    "ljust": "s = 'x'.ljust(10**9)",
    "center": "s = '-'.center(10**9)",
    "expandtabs": "s = '\\t'.expandtabs(10**9)",
    "replace": "s = ('a' * 1000).replace('', 'b' * 1000)",
    "join": "s = ','.join(['a' * 1000] * 1000)",
    "to_bytes": "b = (1).to_bytes(10**9, 'big')",
    "format_width": "s = f'{1:>{10**9}}'",
    "percent_width": "s = '%1000000000d' % 1",
    "concatenation": "s = 'a' * 600000 + 'b' * 600000",
}


def with_script(script: str, key: str = "hostile") -> str:
    return build(key, [Script("evil", script), UserTask("next", "下一步")], agency="'th-amr'")


@pytest.mark.parametrize("script", SEEN_AT_UPLOAD.values(), ids=SEEN_AT_UPLOAD.keys())
def test_upload_refuses_a_script_whose_size_shows_in_the_source(env: EngineEnv, script: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidWorkflow) as error:
        env.deploy(with_script(script))
    assert time.perf_counter() - started < 1.0
    [issue] = error.value.issues
    assert issue.element_id == "evil"
    assert "script expression rejected" in issue.message and "Line 1" in issue.message
    assert "过大" in issue.message  # the bound, said in Chinese (with the English reason)
    with env.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SpecVersion)) == 0


def test_upload_refuses_a_huge_literal_in_an_expression_naming_its_element() -> None:
    xml = build("hostile_agency", [UserTask("t")], agency="'th-amr' + 'x' * 10**9")
    with pytest.raises(InvalidWorkflow) as error:
        validate_bpmn(xml)
    assert [(i.element_id, "agency expression rejected" in i.message) for i in error.value.issues] == [
        ("hostile_agency", True)]


@pytest.mark.parametrize("script", [
    "try:\n    x = 1\nexcept:\n    pass",  # a bare except would catch the time limit
    "try:\n    x = 1\nfinally:\n    y = 2",  # finally would run code after the time limit
    "e = BaseException",
], ids=["bare_except", "finally", "base_exception"])
def test_upload_refuses_what_could_outlive_the_time_limit(script: str) -> None:
    with pytest.raises(InvalidWorkflow) as error:
        validate_bpmn(with_script(script))
    assert [i.element_id for i in error.value.issues] == ["evil"]


# --- at run time: sizes from data are refused quickly, without the memory ---------------------------

N = 10**9
# s and u: equal strings, distinct objects (comparing them walks both); t differs from s in its last character
DATA: dict[str, Any] = {"n": N, "k": 100_000, "s": "a" * 600_000, "u": "a" * 600_000, "t": "a" * 599_999 + "b",
                        "big": 2**16000}

REFUSED_AT_RUN_TIME = {
    "sum_range": "sum(range(n))",
    "repeat": "len('x' * n)",
    "repeat_bytes": "len(b'x' * n)",
    "list_repeat": "[0] * n",
    "tuple_repeat": "(0,) * n",
    "power": "2 ** n",
    "pow": "pow(2, n)",
    "pow_mod": "pow(3, 2 ** (k // 10), 2 ** (k // 10) - 1)",
    "shift": "1 << n",
    "round": "round(5, -n)",
    "int_division": "int('f' * 10**6, 16) // int('f' * 500000, 16)",
    "ljust": "'x'.ljust(n)",
    "rjust": "'x'.rjust(n)",
    "center": "'x'.center(n)",
    "zfill": "'1'.zfill(n)",
    "expandtabs": "'\\t'.expandtabs(n)",
    "replace": "s.replace('', s)",
    "join": "','.join([s] * 1000)",
    "translate": "s.translate({97: s})",
    "strip": "(s + s[:300000]).strip('b' * k + 'a')",
    "to_bytes": "n.to_bytes(n, 'big')",
    "fstring_width": "f'{1:>{n}}'",
    "fstring_total": "f'" + "{s}" * 1000 + "'",
    "percent_star": "'%*d' % (n, 1)",
    "percent_total": "'%s' * 1000 % ((s,) * 1000)",
    "str_of_shared": "str([s] * 1000)",
    "repr_of_shared": "repr({'a': [s] * 1000})",
    "fstring_of_shared": "f'{[s] * 1000}'",
    "max_of_shared": "max([s, u] * 50000)",
    "sorted_shared": "sorted([s, u] * 50000)",
    "in_shared": "t in [s] * 100000",
    "count_shared": "([s] * 100000).count(t)",
    "compare_shared": "[s] * 100000 == [u] * 100000",
    "set_of_tuples": "len(set([tuple(range(k))] * 10000))",
    "map_over_shared": "list(map(str.upper, [s] * 1000))",
    "sum_of_big_ints": "sum([big] * 1000000)",
}


class _Memory:
    """How much this process's RSS grew since creation: the larger of the growth seen now and the
    growth of the process's peak RSS (which also catches memory taken and freed meanwhile)."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.rss = int(self.process.memory_info().rss)
        self.peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    def growth(self) -> int:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return max(int(self.process.memory_info().rss) - self.rss, peak - max(self.peak, self.rss))


def _run(source: str, is_script: bool = False, time_limit: float = 0.5) -> tuple[BaseException | None, float, int]:
    """Run hostile code; return its error, the elapsed time and how much the RSS grew."""
    env = RestrictedEnvironment(time_limit=time_limit)
    memory, started = _Memory(), time.perf_counter()
    error: BaseException | None = None
    try:
        if is_script:
            env.execute(source, dict(DATA))
        else:
            env.evaluate(source, dict(DATA))
    except ScriptError as exc:
        error = exc
    return error, time.perf_counter() - started, memory.growth()


@pytest.mark.parametrize("expression", REFUSED_AT_RUN_TIME.values(), ids=REFUSED_AT_RUN_TIME.keys())
def test_a_long_single_built_in_call_is_refused_quickly_and_without_the_memory(expression: str) -> None:
    compile_expression(expression)  # nothing in the source shows the size: only data does
    error, elapsed, growth = _run(expression)
    assert isinstance(error, ScriptLimitExceeded) and not isinstance(error, ScriptTimeout), error  # before it ran
    assert "/" in str(error) and any(word in str(error) for word in ("过大", "过多", "超时"))
    assert elapsed < 1.0, f"{elapsed:.2f}s"
    assert growth < 100 * 2**20, f"RSS grew {growth / 2**20:.0f} MB"


STOPPED_SCRIPTS = {
    # the time limit's tracer stops Python loops; a script catching the stop must not go on
    "catches_the_timeout": "n = 0\nwhile True:\n    try:\n        while True:\n            n += 1\n"
                           "    except Exception:\n        pass",
    "doubles_a_string": "x = s\nfor _ in range(20):\n    x = x + x",
    "catches_the_refusal": "n = 0\nwhile True:\n    try:\n        s = 'x' * (10 ** 9 + n)\n"
                           "    except Exception:\n        n += 1",
    # memory: each step is small, together they are not
    "keeps_allocating": "keep = []\nwhile True:\n    keep.append('x' * 100000)",
    "keeps_literals": f"keep = [[{', '.join(['0'] * 1000)}] for _ in range(10**6)]",
    "copies_in_a_loop": "row = list(range(10**6))\nkeep = [list(row) for _ in range(100)]",
    # sharing makes data exponentially big at no memory cost; C walks every copy
    "hashes_shared": "t = (1,)\nfor _ in range(64):\n    t = (t, t)\nd = {t: 1}",
    "compares_shared": "a = [1]\nb = [1]\nfor _ in range(64):\n    a = [a, a]\n    b = [b, b]\nsame = a == b",
    "prints_shared": "x = ['abc']\nfor _ in range(64):\n    x = [x, x]\ntext = str(x)",
    "sorts_by_shared_keys": "a = [1]\nb = [1]\nfor _ in range(64):\n    a = [a, a]\n    b = [b, b]\n"
                            "order = sorted([0, 1], key=lambda i: (a, b)[i])",
    "leaves_shared": "x = ['abc']\nfor _ in range(64):\n    x = [x, x]",  # the engine would serialise it
    "leaves_a_cycle": "x = []\nx.append(x)",
}


@pytest.mark.parametrize("script", STOPPED_SCRIPTS.values(), ids=STOPPED_SCRIPTS.keys())
def test_a_hostile_script_is_stopped_quickly_and_within_the_memory_budget(script: str) -> None:
    error, elapsed, growth = _run(script, is_script=True, time_limit=0.3)
    assert isinstance(error, ScriptLimitExceeded), error
    assert elapsed < 1.0, f"{elapsed:.2f}s"
    assert growth < 100 * 2**20, f"RSS grew {growth / 2**20:.0f} MB"


def test_an_error_too_big_to_print_leaves_the_sandbox_with_a_short_message() -> None:
    """The engine prints a script's error into the 409 answer and the log, outside the sandbox."""
    started = time.perf_counter()
    with pytest.raises(ValueError) as error:
        RestrictedEnvironment().execute("x = ['abc']\nfor _ in range(64):\n    x = [x, x]\nraise ValueError(x)", {})
    assert str(error.value) == "数据过大，未显示 / too large to show"
    assert time.perf_counter() - started < 1.0


def test_the_memory_budget_names_itself() -> None:
    error, _elapsed, _growth = _run("keep = []\nwhile True:\n    keep.append('x' * 100000)", is_script=True)
    assert isinstance(error, ScriptLimitExceeded) and not isinstance(error, ScriptTimeout)
    assert f"{MAX_MEMORY_GROWTH // 2**20} MiB" in str(error) and "内存" in str(error)


def test_a_refused_script_leaves_the_task_data_as_it_was() -> None:
    data = {"n": 1}
    with pytest.raises(ScriptLimitExceeded):
        RestrictedEnvironment().execute("n = 2\nx = ['abc']\nfor _ in range(64):\n    x = [x, x]", data)
    assert data == {"n": 1}


# --- ordinary code is unchanged ---------------------------------------------------------------------

ORDINARY: dict[str, Any] = {
    "'受理' + '-' + name": "受理-张三", "'-' * 10": "-" * 10, "3 * 'ab'": "ababab", "[1, 2] * 2": [1, 2, 1, 2],
    "sum(range(100))": 4950, "sum([0.5, 0.25])": 0.75, "sum([[1], [2]], [])": [1, 2],
    "[x * 2 for x in items]": [2, 4, 6], "{x: x * x for x in items}": {1: 1, 2: 4, 3: 9},
    "{x for x in items} | {9}": {1, 2, 3, 9}, "[*items, *items]": [1, 2, 3, 1, 2, 3],
    "{**d, 'z': 1}": {"k": "v", "z": 1},
    "f'{name}: {n:>5} {items!r} {1.5:.2f}'": "张三:     3 [1, 2, 3] 1.50", "f'{d}'": "{'k': 'v'}",
    "'%s=%d' % ('a', 3)": "a=3", "'%(k)s' % d": "v", "10 % 3": 1, "2 ** 10": 1024, "2 ** -1": 0.5,
    "pow(2, 10, 1000)": 24, "1 << 3": 8, "n - 1": 2, "-n": -3, "{1, 2} - {1}": {2}, "d.keys() & {'k'}": {"k"},
    "n in items": True, "name not in d": True, "(1, 2) in {(1, 2): 3}": True, "'a' in 'abc'": True,
    "items == [1, 2, 3]": True, "items < [1, 2, 4]": True, "1 < n < 5": True, "rows[0] == rows[1]": False,
    "sorted(items, reverse=True)": [3, 2, 1], "max(items)": 3, "min(3, 1, 2)": 1,
    "max(rows, key=len)": {"a": 2, "b": 3},
    "isinstance(name, str) and isinstance(items, list) and isinstance(d, dict)": True,
    "isinstance(n, (str, int)) and issubclass(bool, int)": True,
    "str(items)": "[1, 2, 3]", "repr(name)": "'张三'", "int('42')": 42, "list(range(3))": [0, 1, 2],
    "dict(a=1)": {"a": 1}, "set([1, 1])": {1}, "tuple(items)": (1, 2, 3), "frozenset([1])": frozenset({1}),
    "', '.join(str(i) for i in items)": "1, 2, 3", "str.join('-', ['a', 'b'])": "a-b", "'x'.ljust(3, '.')": "x..",
    "'a,b'.split(',')": ["a", "b"], "'ab'.replace('a', 'xy')": "xyb", "'a\\tb'.expandtabs(4)": "a   b",
    "d.get('k')": "v", "dict.fromkeys(['a'], 0)": {"a": 0}, "int.from_bytes(b'\\x01\\x00', 'big')": 256,
    "(5).to_bytes(2, 'big')": b"\x00\x05", "round(1234, -2)": 1200, "divmod(7, 2)": (3, 1),
    "items.count(2)": 1, "items.index(3)": 2, "str(b'ab', 'ascii')": "ab",
    "list(zip(items, 'abc'))": [(1, "a"), (2, "b"), (3, "c")], "list(enumerate('ab'))": [(0, "a"), (1, "b")],
    "list(map(str, items))": ["1", "2", "3"], "list(filter(None, [0, 1]))": [1], "list(reversed(items))": [3, 2, 1],
    "(lambda x: x + 1)(n)": 4, "'x' * 999999 == 'x' * 999999": True,
}


@pytest.mark.parametrize("expression", list(ORDINARY))
def test_ordinary_expressions_still_work(expression: str) -> None:
    data = {"name": "张三", "n": 3, "items": [1, 2, 3], "d": {"k": "v"}, "rows": [{"a": 1}, {"a": 2, "b": 3}]}
    result = RestrictedEnvironment().evaluate(expression, data)
    assert result == ORDINARY[expression] and type(result) is type(ORDINARY[expression])


def test_ordinary_scripts_still_work() -> None:
    data: dict[str, Any] = {"d": {"k": "v"}, "items": [1, 2, 3], "rows": [{"a": 1}, {"a": 2}, {"a": 1}]}
    RestrictedEnvironment().execute(
        "total = 0\nfor i in range(10):\n    total += i\n"
        "label = d['k'].upper() + '-' * 3\nitems.append(4)\nitems += [5]\n"
        "seen = set()\nseen.add((1, 2))\nseen |= {3}\n"
        "counts = {}\nfor r in rows:\n    counts[r['a']] = counts.get(r['a'], 0) + 1\n"
        "def double(x):\n    return x * 2\ndoubled = [double(x) for x in items]\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    caught = True\n"
        "text = f'{total}/{label}'\nnotes = []\nfor i in range(3):\n    notes.append('第' + str(i + 1) + '条')\n",
        data)
    names = ("total", "label", "items", "seen", "counts", "doubled", "caught", "text", "notes")
    assert {k: data[k] for k in names} == {
        "total": 45, "label": "V---", "items": [1, 2, 3, 4, 5], "seen": {(1, 2), 3}, "counts": {1: 2, 2: 1},
        "doubled": [2, 4, 6, 8, 10], "caught": True, "text": "45/V---", "notes": ["第1条", "第2条", "第3条"]}


# --- in the engine: a size from form data gives a clear error and stores nothing ----------------------

SIZE_FORM = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
SIZED_BY_DATA = build("sized_by_data", [
    UserTask("ask", "填写", form=SIZE_FORM), Script("evil", "padding = 'x' * n"), UserTask("next", "下一步"),
], agency="'th-amr'")


def test_a_size_from_form_data_fails_the_completion_and_stores_nothing(env: EngineEnv) -> None:
    env.deploy(SIZED_BY_DATA)  # nothing in the source shows the size: it passes validation
    with env.uow() as uow:
        record, _opened = env.runner.start(uow.session, deployed_version(uow.session, "sized_by_data"), {}, LIAISON)
        uow.commit()
    with env.uow() as uow:
        [ask] = uow.session.scalars(select(OpenTask).where(OpenTask.instance_id == record.id)).all()

    memory, started = _Memory(), time.perf_counter()
    with env.uow() as uow, pytest.raises(ScriptLimitExceeded) as error:
        env.runner.complete_task(uow.session, ask.id, {"n": 10**9}, LIAISON)
    assert time.perf_counter() - started < 1.0
    assert memory.growth() < 100 * 2**20
    assert str(error.value).startswith("evil: ") and "过大" in str(error.value)
    with env.uow() as uow:
        instance = uow.session.get(ProcessInstance, record.id)
        assert instance is not None and instance.version == 1
        assert [t.task_name for t in uow.session.scalars(select(OpenTask))] == ["ask"]

    with env.uow() as uow:  # the same workflow with an ordinary size goes on
        result = env.runner.complete_task(uow.session, ask.id, {"n": 10}, LIAISON)
        uow.commit()
    assert [t.task_name for t in result.next_tasks] == ["next"]


LOOPS = {
    "cardinality_from_data": '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>n</bpmn:loopCardinality>'
                             '</bpmn:multiInstanceLoopCharacteristics>',
    "huge_cardinality": '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>1000000000'
                        '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>',
    "input_collection": '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>'
                        '</bpmn:multiInstanceLoopCharacteristics>',
    "loop_without_maximum": '<bpmn:standardLoopCharacteristics><bpmn:loopCondition>True</bpmn:loopCondition>'
                            '</bpmn:standardLoopCharacteristics>',
}


def with_loop(characteristics: str) -> str:
    xml = build("looping", [UserTask("work", "办理")], agency="'th-amr'")
    return xml.replace("</bpmn:extensionElements></bpmn:userTask>",
                       f"</bpmn:extensionElements>{characteristics}</bpmn:userTask>", 1)


@pytest.mark.parametrize("characteristics", LOOPS.values(), ids=LOOPS.keys())
def test_a_loop_whose_size_is_not_a_small_literal_is_refused_at_upload(characteristics: str) -> None:
    """The engine creates a loop's instances in one step, outside the sandbox: its size must be bounded."""
    with pytest.raises(InvalidWorkflow) as error:
        validate_bpmn(with_loop(characteristics))
    assert [issue.element_id for issue in error.value.issues] == ["work"]
    assert "100" in error.value.issues[0].message


def test_a_small_literal_loop_is_accepted() -> None:
    validate_bpmn(with_loop('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3'
                            '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'))
