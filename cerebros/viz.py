"""Interactive HTML pictures of wiring plans, drawn with pyvis (vis-network).

Every input unit is a green triangle.  Every other unit is drawn as two nodes: a grey square
"concatenation" node that gathers the unit's inputs, feeding the unit itself (a blue ellipse
for a dense unit, a red box for a final unit).  Edges run from each distinct source unit to the
concatenation node; repeated draws of the same source are collapsed into one edge whose width
and label show the count.  Lateral edges are dashed cyan, gated lateral edges dashed orange,
labelled "gated" and curved apart from plain lateral ones.  Levels are laid out top to bottom.

The written page is self-contained: the vis-network script and style sheet are inlined, so it
opens without a network connection.
"""

from __future__ import annotations

import copy
import html
import json
import logging
import os
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import pyvis
from pyvis.network import Network

from cerebros.project import ARCHITECTURES_DIR, GRAPHS_DIR, trial_stem, write_bytes_atomic
from cerebros.wiring import WiringPlan

__all__ = ["plan_graph", "plan_graph_from_project", "plan_graph_data", "vis_network_resources"]

logger = logging.getLogger(__name__)

INPUT_COLOR = "#2ca02c"
CONCAT_COLOR = "#9e9e9e"
DENSE_COLOR = "#1f77b4"
FINAL_COLOR = "#d62728"
VERTICAL_COLOR = "#555555"
LATERAL_COLOR = "#17becf"
GATED_COLOR = "#ff7f0e"

_LAYOUT_OPTIONS: dict[str, Any] = {
    "layout": {"hierarchical": {"enabled": True, "direction": "UD", "sortMethod": "directed",
                                "levelSeparation": 110, "nodeSpacing": 150}},
    "physics": {"enabled": False},
    "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
              "smooth": {"enabled": True, "type": "cubicBezier", "forceDirection": "vertical"},
              "font": {"size": 11, "background": "white", "strokeWidth": 0}},
    "nodes": {"font": {"size": 13}},
    "interaction": {"hover": True},
}

# Remote <script src=...> and <link href=...> tags that pyvis's template adds unconditionally
# (bootstrap); the graph does not need them, and they would fail offline.
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>",
                            re.IGNORECASE)
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.IGNORECASE)
_EMPTY_HEADING = re.compile(r"<center>\s*<h1>\s*</h1>\s*</center>", re.IGNORECASE)
# The vis-network build that pyvis ships (and inlines with cdn_resources="in_line").
_VIS_DIR = Path(pyvis.__file__).parent / "templates" / "lib"
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def _unit_node_id(level: int, unit: int) -> str:
    return f"unit_{level}_{unit}"


def _concat_node_id(level: int, unit: int) -> str:
    return f"cat_{level}_{unit}"


def _add_unit_nodes(net: Network, plan: WiringPlan) -> None:
    fan_in = Counter(c.target for c in plan.connections)
    distinct = Counter(target for _, target in {(c.source, c.target) for c in plan.connections})
    for level, unit in plan.units():
        width = plan.widths[level][unit]
        kind = plan.kind(level)
        if kind == "input":
            net.add_node(_unit_node_id(level, unit), label=f"input {level}_{unit}\n({width})",
                         title=f"input unit {level}_{unit}: {width} features",
                         shape="triangle", color=INPUT_COLOR, level=0)
            continue
        n_in = fan_in[(level, unit)]
        net.add_node(_concat_node_id(level, unit), label=f"cat {level}_{unit}",
                     title=(f"concatenation into unit {level}_{unit}: {n_in} inputs "
                            f"({distinct[(level, unit)]} distinct sources)"),
                     shape="square", size=12, color=CONCAT_COLOR, level=2 * level - 1)
        shape, color = ("box", FINAL_COLOR) if kind == "final" else ("ellipse", DENSE_COLOR)
        net.add_node(_unit_node_id(level, unit), label=f"{kind} {level}_{unit}\n({width})",
                     title=f"{kind} unit {level}_{unit}: {width} neurons",
                     shape=shape, color=color, font={"color": "white"}, level=2 * level)
        net.add_edge(_concat_node_id(level, unit), _unit_node_id(level, unit),
                     color=CONCAT_COLOR, width=1)


def _edge_style(kind: str, gated: bool, count: int) -> dict[str, Any]:
    times = f"×{count}" if count > 1 else ""
    if gated:
        # Curved the other way than plain laterals, so a gated and a plain lateral edge
        # between the same units never hide each other.
        return {"color": GATED_COLOR, "dashes": True, "label": f"gated {times}".strip(),
                "title": f"gated lateral connection, drawn {count} time(s)",
                "smooth": {"enabled": True, "type": "curvedCW", "roundness": 0.35}}
    style: dict[str, Any] = {"title": f"{kind} connection, drawn {count} time(s)"}
    if times:
        style["label"] = times
    if kind == "lateral":
        style.update(color=LATERAL_COLOR, dashes=True)
    else:
        style.update(color=VERTICAL_COLOR)
    return style


def _add_connection_edges(net: Network, plan: WiringPlan) -> None:
    draws = Counter((c.source, c.target, c.kind, c.gated) for c in plan.connections)
    for (source, target, kind, gated), count in draws.items():
        width = min(1 + 1.5 * (count - 1), 8) + (1 if gated else 0)
        net.add_edge(_unit_node_id(*source), _concat_node_id(*target), width=width,
                     **_edge_style(kind, gated, count))


def _wiring(plan: Any) -> WiringPlan:
    if not isinstance(plan, Mapping):
        raise ValueError(f"plan: expected a plan dict (WiringPlan.to_dict()), got "
                         f"{type(plan).__name__}.")
    return WiringPlan.from_dict(plan)


def _build_network(plan: WiringPlan) -> Network:
    net = Network(height="800px", width="100%", directed=True, cdn_resources="in_line")
    _add_unit_nodes(net, plan)
    _add_connection_edges(net, plan)
    net.options = copy.deepcopy(_LAYOUT_OPTIONS)
    return net


def plan_graph_data(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The nodes, edges and vis-network options of the drawing of a wiring plan.

    This is the data :func:`plan_graph` draws, for pages that hold several networks and
    share one vis-network script (see :func:`vis_network_resources`):
    ``new vis.Network(container, {nodes: new vis.DataSet(data.nodes), edges: new
    vis.DataSet(data.edges)}, data.options)``.

    Parameters
    ----------
    plan : mapping
        A plan dict as written by ``WiringPlan.to_dict()`` (extra keys are ignored).

    Returns
    -------
    dict
        ``{"nodes": [...], "edges": [...], "options": {...}}``, JSON-serializable.

    Raises
    ------
    ValueError
        If ``plan`` is not a valid plan dict.
    """
    net = _build_network(_wiring(plan))
    return {"nodes": net.nodes, "edges": net.edges, "options": copy.deepcopy(net.options)}


@lru_cache(maxsize=1)
def vis_network_resources() -> tuple[str, str]:
    """The vis-network script and style sheet bundled with the installed pyvis.

    Returns
    -------
    tuple of (str, str)
        The JavaScript (``vis-network.min.js``, its source-map comment removed, so a page
        inlining it asks for no other file) and the CSS (``vis-network.css``, whose images
        are ``data:`` URIs).

    Raises
    ------
    FileNotFoundError
        If the installed pyvis has no bundled vis-network.
    """
    found = sorted(_VIS_DIR.glob("vis-*/vis-network.min.js"),
                   key=lambda p: tuple(int(n) for n in re.findall(r"\d+", p.parent.name)))
    if not found:
        raise FileNotFoundError(f"no vis-network.min.js under {_VIS_DIR}; reinstall pyvis "
                                "(pip install 'pyvis>=0.3.2').")
    script = _SOURCE_MAP.sub("", found[-1].read_text(encoding="utf-8"))
    style = (found[-1].parent / "vis-network.css").read_text(encoding="utf-8")
    return script, style


def _standalone_html(net: Network, title: str) -> str:
    page = net.generate_html()
    page = _REMOTE_SCRIPT.sub("", page)
    page = _REMOTE_LINK.sub("", page)
    page = _EMPTY_HEADING.sub("", page)
    escaped = html.escape(title)
    page = page.replace('<meta charset="utf-8">',
                        f'<meta charset="utf-8">\n        <title>{escaped}</title>', 1)
    page = page.replace("<body>", f"<body>\n        <h2 style=\"font-family: sans-serif; "
                        f"text-align: center\">{escaped}</h2>", 1)
    return page


def plan_graph(plan: Mapping[str, Any], path: str | os.PathLike[str],
               title: str | None = None) -> Path:
    """Write an interactive, self-contained HTML picture of a wiring plan.

    Parameters
    ----------
    plan : mapping
        A plan dict as written by ``WiringPlan.to_dict()`` (extra keys are ignored).
    path : str or path-like
        Where to write the page; must end in ``.html``.  Parent folders are created, and the
        file is replaced atomically.
    title : str, optional
        Heading of the page; defaults to the plan's ``"name"`` key, or "Cerebros network".

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If ``plan`` is not a valid plan dict or ``path`` does not end in ``.html``.
    """
    path = Path(path)
    if path.suffix.lower() != ".html":
        raise ValueError(f"path: expected a file name ending in '.html', got {str(path)!r}.")
    wiring = _wiring(plan)
    heading = title if title is not None else str(plan.get("name", "Cerebros network"))
    page = _standalone_html(_build_network(wiring), heading)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, page.encode("utf-8"))
    logger.info("wrote network graph %s (%d units, %d connections)", path,
                sum(len(level) for level in wiring.widths), len(wiring.connections))
    return path


def plan_graph_from_project(project_dir: str | os.PathLike[str], trial: int, subtrial: int = 0,
                            path: str | os.PathLike[str] | None = None) -> Path:
    """Draw the saved plan of one trial of a search.

    Parameters
    ----------
    project_dir : str or path-like
        The search's project folder.
    trial, subtrial : int
        Which trial's plan to draw, read from
        ``model_architectures/tr_<trial:016d>_subtrial_<subtrial:016d>.json``.
    path : str or path-like, optional
        Where to write the page; defaults to ``model_graphs/<same stem>.html`` in
        ``project_dir``.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If the plan file does not exist or does not hold a valid plan.
    """
    project = Path(project_dir)
    stem = trial_stem(trial, subtrial)
    source = project / ARCHITECTURES_DIR / f"{stem}.json"
    if not source.is_file():
        raise ValueError(f"trial: no saved plan for trial={trial}, subtrial={subtrial} "
                         f"(looked for {source}).")
    try:
        plan = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{source} is not valid JSON ({error}).") from None
    target = Path(path) if path is not None else project / GRAPHS_DIR / f"{stem}.html"
    return plan_graph(plan, target, title=f"trial {trial}, subtrial {subtrial}")
