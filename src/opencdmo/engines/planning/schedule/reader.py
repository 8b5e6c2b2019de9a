"""Reader of the ``opencdmo-schedule/1`` instance format (``docs/planning_schedule_format.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.schedule.problem import (
    Changeover,
    Downtime,
    ObjectiveKind,
    ObjectiveTerm,
    PreviousAssignment,
    Resource,
    ResourceUse,
    ScheduleBatch,
    ScheduleProblem,
    ScheduleProduct,
    ScheduleSuite,
    SuiteOption,
)

SCHEDULE_FORMAT = "opencdmo-schedule/1"
_TOP_KEYS = ("format", "id", "horizon_h", "suites", "products", "batches")
_OPTIONAL_KEYS = ("changeovers", "objective", "rescheduling", "resources")
_INFO_KEYS = ("title", "description", "money_unit", "provenance")


def read_schedule(path: Path | str) -> ScheduleProblem:
    """Read an ``opencdmo-schedule/1`` file.

    Parameters
    ----------
    path
        The instance file.

    Returns
    -------
    ScheduleProblem
        The validated problem.

    Raises
    ------
    InstanceError
        Naming the file, the JSON path and the reason, for any malformed or inconsistent field.
    """
    return parse_schedule(jf.load_document(path), source=str(path))


def parse_schedule(document: dict[str, Any], source: str | None = None) -> ScheduleProblem:
    """Build a :class:`ScheduleProblem` from a parsed ``opencdmo-schedule/1`` document.

    Parameters
    ----------
    document
        The parsed JSON object.
    source
        File name for error messages.

    Returns
    -------
    ScheduleProblem
        The validated problem.
    """
    try:
        return _parse(document)
    except InstanceError as error:
        raise error.within("", source) from None


def _optional_int(item: dict[str, Any], key: str, path: str, default: int | None) -> int | None:
    if key not in item or item[key] is None:
        return default
    return jf.integer(item[key], f"{path}.{key}")


def _parse(document: dict[str, Any]) -> ScheduleProblem:
    jf.format_tag(document, SCHEDULE_FORMAT)
    jf.keys(document, "", _TOP_KEYS, (*_OPTIONAL_KEYS, *_INFO_KEYS))
    suites = jf.array(document["suites"], "suites", 1)
    products = jf.array(document["products"], "products", 1)
    batches = jf.array(document["batches"], "batches", 1)
    changeovers = jf.array(document.get("changeovers", []), "changeovers")
    extra: dict[str, Any] = {}
    if "objective" in document:
        extra["objective"] = _objective(document["objective"], "objective")
    if "resources" in document:
        extra["resources"] = tuple(
            _resource(item, f"resources[{n}]")
            for n, item in enumerate(jf.array(document["resources"], "resources"))
        )
    if "rescheduling" in document:
        block = jf.obj(document["rescheduling"], "rescheduling")
        jf.keys(block, "rescheduling", (), ("move_cost_per_h", "suite_change_cost"))
        for key in ("move_cost_per_h", "suite_change_cost"):
            if key in block:
                extra[key] = jf.real(block[key], f"rescheduling.{key}")
    return jf.construct(
        ScheduleProblem,
        "",
        id=jf.string(document["id"], "id"),
        horizon_h=jf.integer(document["horizon_h"], "horizon_h"),
        suites=tuple(_suite(item, f"suites[{n}]") for n, item in enumerate(suites)),
        products=tuple(_product(item, f"products[{n}]") for n, item in enumerate(products)),
        batches=tuple(_batch(item, f"batches[{n}]") for n, item in enumerate(batches)),
        changeovers=tuple(
            _changeover(item, f"changeovers[{n}]") for n, item in enumerate(changeovers)
        ),
        **extra,
    )


def _suite(value: Any, path: str) -> ScheduleSuite:
    item = jf.obj(value, path)
    jf.keys(item, path, ("name",), ("site", "downtimes"))
    windows = []
    for n, raw in enumerate(jf.array(item.get("downtimes", []), f"{path}.downtimes")):
        window_path = f"{path}.downtimes[{n}]"
        window = jf.obj(raw, window_path)
        jf.keys(window, window_path, ("start_h", "end_h"), ("reason",))
        windows.append(
            jf.construct(
                Downtime,
                window_path,
                start_h=jf.integer(window["start_h"], f"{window_path}.start_h"),
                end_h=jf.integer(window["end_h"], f"{window_path}.end_h"),
                reason=jf.string(window.get("reason", "maintenance"), f"{window_path}.reason"),
            )
        )
    return jf.construct(
        ScheduleSuite,
        path,
        name=jf.string(item["name"], f"{path}.name"),
        site=jf.string(item.get("site", ""), f"{path}.site"),
        downtimes=tuple(windows),
    )


def _resource(value: Any, path: str) -> Resource:
    item = jf.obj(value, path)
    jf.keys(item, path, ("name", "capacity"))
    return jf.construct(
        Resource,
        path,
        name=jf.string(item["name"], f"{path}.name"),
        capacity=jf.integer(item["capacity"], f"{path}.capacity"),
    )


def _use(value: Any, path: str) -> ResourceUse:
    item = jf.obj(value, path)
    jf.keys(item, path, ("resource",), ("amount", "duration_h"))
    return jf.construct(
        ResourceUse,
        path,
        resource=jf.string(item["resource"], f"{path}.resource"),
        amount=_optional_int(item, "amount", path, 1),
        duration_h=_optional_int(item, "duration_h", path, None),
    )


def _product(value: Any, path: str) -> ScheduleProduct:
    item = jf.obj(value, path)
    jf.keys(item, path, ("name",), ("campaign_min_batches", "campaign_max_batches"))
    return jf.construct(
        ScheduleProduct,
        path,
        name=jf.string(item["name"], f"{path}.name"),
        campaign_min_batches=_optional_int(item, "campaign_min_batches", path, 1),
        campaign_max_batches=_optional_int(item, "campaign_max_batches", path, None),
    )


def _changeover(value: Any, path: str) -> Changeover:
    item = jf.obj(value, path)
    jf.keys(item, path, ("from_product", "to_product", "duration_h"), ("cost", "suite"))
    suite = item.get("suite")
    return jf.construct(
        Changeover,
        path,
        from_product=jf.string(item["from_product"], f"{path}.from_product"),
        to_product=jf.string(item["to_product"], f"{path}.to_product"),
        duration_h=jf.integer(item["duration_h"], f"{path}.duration_h"),
        cost=jf.real(item.get("cost", 0.0), f"{path}.cost"),
        suite=None if suite is None else jf.string(suite, f"{path}.suite"),
    )


_BATCH_OPTIONAL = (
    "release_h",
    "due_h",
    "deadline_h",
    "tardiness_weight",
    "upstream",
    "min_gap_h",
    "max_hold_h",
    "previous",
    "frozen",
    "uses",
)


def _batch(value: Any, path: str) -> ScheduleBatch:
    item = jf.obj(value, path)
    jf.keys(item, path, ("id", "product", "options"), _BATCH_OPTIONAL)
    options = []
    for n, raw in enumerate(jf.array(item["options"], f"{path}.options", 1)):
        option_path = f"{path}.options[{n}]"
        option = jf.obj(raw, option_path)
        jf.keys(option, option_path, ("suite", "duration_h"), ("max_duration_h",))
        options.append(
            jf.construct(
                SuiteOption,
                option_path,
                suite=jf.string(option["suite"], f"{option_path}.suite"),
                duration_h=jf.integer(option["duration_h"], f"{option_path}.duration_h"),
                max_duration_h=_optional_int(option, "max_duration_h", option_path, None),
            )
        )
    previous = None
    if item.get("previous") is not None:
        previous_path = f"{path}.previous"
        block = jf.obj(item["previous"], previous_path)
        jf.keys(block, previous_path, ("suite", "start_h"))
        previous = jf.construct(
            PreviousAssignment,
            previous_path,
            suite=jf.string(block["suite"], f"{previous_path}.suite"),
            start_h=jf.integer(block["start_h"], f"{previous_path}.start_h"),
        )
    upstream = item.get("upstream")
    return jf.construct(
        ScheduleBatch,
        path,
        id=jf.string(item["id"], f"{path}.id"),
        product=jf.string(item["product"], f"{path}.product"),
        options=tuple(options),
        release_h=_optional_int(item, "release_h", path, 0),
        due_h=_optional_int(item, "due_h", path, None),
        deadline_h=_optional_int(item, "deadline_h", path, None),
        tardiness_weight=jf.real(item.get("tardiness_weight", 1.0), f"{path}.tardiness_weight"),
        upstream=None if upstream is None else jf.string(upstream, f"{path}.upstream"),
        min_gap_h=_optional_int(item, "min_gap_h", path, 0),
        max_hold_h=_optional_int(item, "max_hold_h", path, None),
        previous=previous,
        frozen=jf.boolean(item.get("frozen", False), f"{path}.frozen"),
        uses=tuple(
            _use(raw, f"{path}.uses[{n}]")
            for n, raw in enumerate(jf.array(item.get("uses", []), f"{path}.uses"))
        ),
    )


def _objective(value: Any, path: str) -> tuple[tuple[ObjectiveTerm, ...], ...]:
    block = jf.obj(value, path)
    jf.keys(block, path, ("levels",))
    levels = []
    for n, raw_level in enumerate(jf.array(block["levels"], f"{path}.levels", 1)):
        level_path = f"{path}.levels[{n}]"
        terms = []
        for k, raw in enumerate(jf.array(raw_level, level_path, 1)):
            term_path = f"{level_path}[{k}]"
            term = jf.obj(raw, term_path)
            jf.keys(term, term_path, ("kind",), ("weight",))
            kind = jf.string(term["kind"], f"{term_path}.kind")
            if kind not in {k.value for k in ObjectiveKind}:
                known = ", ".join(k.value for k in ObjectiveKind)
                raise InstanceError(
                    f"{term_path}.kind", f"unknown objective {kind!r}; known: {known}"
                )
            terms.append(
                jf.construct(
                    ObjectiveTerm,
                    term_path,
                    kind=ObjectiveKind(kind),
                    weight=jf.real(term.get("weight", 1.0), f"{term_path}.weight"),
                )
            )
        levels.append(tuple(terms))
    return tuple(levels)
