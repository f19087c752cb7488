"""The pyvis network graphs of cerebros.viz, checked in the HTML and in a headless browser."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from browser import BROWSER_FLAGS, require_browser
from cerebros.config import WiringConfig
from cerebros.spec import NetworkSpec
from cerebros.viz import (GATED_COLOR, plan_graph, plan_graph_data, plan_graph_from_project,
                          vis_network_resources)
from cerebros.wiring import WiringPlan, plan_wiring


@pytest.fixture(scope="module")
def plan() -> WiringPlan:
    # Gating every second lateral connection gives plain and gated laterals, and the small
    # levels make repeated draws of the same source likely.
    config = WiringConfig(p_lateral_connection=0.9, num_lateral_connection_tries_per_unit=3,
                          gate_after_n_lateral_connections=2)
    return plan_wiring(NetworkSpec(((5, 3), (4, 3, 2, 2), (2, 2), (1,))), config,
                       np.random.default_rng(0))


def n_units(plan: WiringPlan, inputs: bool) -> int:
    return sum(len(level) for level in (plan.widths[:1] if inputs else plan.widths[1:]))


def graph_data(page: str) -> tuple[list[dict], list[dict]]:
    nodes = re.search(r"nodes = new vis\.DataSet\((\[.*?\])\);", page).group(1)
    edges = re.search(r"edges = new vis\.DataSet\((\[.*?\])\);", page).group(1)
    return json.loads(nodes), json.loads(edges)


@pytest.fixture(scope="module")
def page(plan, tmp_path_factory) -> tuple[Path, list[dict], list[dict]]:
    path = plan_graph(plan.to_dict(), tmp_path_factory.mktemp("graph") / "net.html",
                      title="trial <7>")
    nodes, edges = graph_data(path.read_text(encoding="utf-8"))
    return path, nodes, edges


def test_one_node_per_input_and_two_per_other_unit(plan, page):
    _, nodes, _ = page
    shapes = Counter(node["shape"] for node in nodes)
    assert len(nodes) == n_units(plan, inputs=True) + 2 * n_units(plan, inputs=False)
    assert shapes == {"triangle": 2, "square": 7, "ellipse": 6, "box": 1}
    final = [node for node in nodes if node["shape"] == "box"]
    assert final[0]["label"].startswith("final") and final[0]["color"] == "#d62728"
    assert all(n["color"] == "#2ca02c" for n in nodes if n["shape"] == "triangle")


def test_concat_nodes_report_their_fan_in_and_sit_between_levels(plan, page):
    _, nodes, _ = page
    by_id = {node["id"]: node for node in nodes}
    for (level, unit), inputs in plan.inputs_by_unit().items():
        concat = by_id[f"cat_{level}_{unit}"]
        assert concat["label"] == f"cat {level}_{unit}"
        assert f": {len(inputs)} inputs" in concat["title"]
        assert concat["level"] == 2 * level - 1
        assert by_id[f"unit_{level}_{unit}"]["level"] == 2 * level


def test_repeated_draws_collapse_into_one_edge_per_source(plan, page):
    _, _, edges = page
    draws = Counter((c.source, c.target, c.kind, c.gated) for c in plan.connections)
    into_concat = [e for e in edges if e["to"].startswith("cat_")]
    assert len(into_concat) == len(draws) < len(plan.connections)
    assert len(edges) == len(draws) + n_units(plan, inputs=False)
    (source, target, _, _), count = draws.most_common(1)[0]
    assert count > 1
    widest = [e for e in into_concat
              if e["from"] == f"unit_{source[0]}_{source[1]}"
              and e["to"] == f"cat_{target[0]}_{target[1]}"]
    assert any(e.get("label", "").endswith(f"×{count}") for e in widest)
    assert max(e["width"] for e in widest) > 1


def test_lateral_edges_are_dashed_and_gated_ones_marked(plan, page):
    _, _, edges = page
    gated_groups = {(c.source, c.target) for c in plan.connections if c.gated}
    plain_lateral = {(c.source, c.target) for c in plan.connections
                     if c.kind == "lateral" and not c.gated}
    gated = [e for e in edges if e.get("label", "").startswith("gated")]
    assert gated_groups and plain_lateral
    assert len(gated) == len(gated_groups)
    assert all(e["color"] == GATED_COLOR and e["dashes"] for e in gated)
    # curved apart from the plain lateral edge a pair of units may also have
    assert all(e["smooth"]["type"] == "curvedCW" for e in gated)
    lateral = [e for e in edges if e.get("dashes") and e not in gated]
    assert len(lateral) == len(plain_lateral)
    assert all(e["color"] != GATED_COLOR and "smooth" not in e for e in lateral)
    assert not any(e.get("dashes") for e in edges if e not in gated and e not in lateral)


def test_page_is_self_contained_and_titled(page):
    path, _, _ = page
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?(https?:)?//", text, re.IGNORECASE)
    outside_comments = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    assert not re.search(r"<(script|link)\b[^>]*\b(src|href)\s*=", outside_comments,
                         re.IGNORECASE)
    assert "vis.Network" in text and "DataSet" in text and len(text) > 200_000
    assert "<title>trial &lt;7&gt;</title>" in text
    assert '"hierarchical": {"enabled": true' in text
    assert [p.name for p in path.parent.iterdir()] == ["net.html"]


def test_graph_data_is_the_data_of_the_drawn_page(plan, page):
    _, nodes, edges = page
    data = plan_graph_data(plan.to_dict())
    assert json.loads(json.dumps(data["nodes"])) == nodes
    assert json.loads(json.dumps(data["edges"])) == edges
    assert data["options"]["layout"]["hierarchical"]["enabled"] is True
    with pytest.raises(ValueError, match="plan: expected a plan dict"):
        plan_graph_data([1, 2])
    script, style = vis_network_resources()
    assert "sourceMappingURL" not in script and "Network" in script and len(script) > 100_000
    assert ".vis-network" in style and not re.search(r"url\((?!\"?data:)", style)


def test_graph_from_project_writes_into_model_graphs(plan, tmp_path):
    stem = "tr_0000000000000003_subtrial_0000000000000001"
    (tmp_path / "model_architectures").mkdir()
    (tmp_path / "model_architectures" / f"{stem}.json").write_text(
        json.dumps({**plan.to_dict(), "name": stem}))
    (tmp_path / "model_graphs").mkdir()
    (tmp_path / "model_graphs" / f"{stem}.html").write_text("old")
    path = plan_graph_from_project(tmp_path, 3, 1)
    assert path == tmp_path / "model_graphs" / f"{stem}.html"
    nodes, _ = graph_data(path.read_text(encoding="utf-8"))
    assert len(nodes) == n_units(plan, inputs=True) + 2 * n_units(plan, inputs=False) == 16
    other = plan_graph_from_project(tmp_path, 3, subtrial=1, path=tmp_path / "x" / "g.html")
    assert other.is_file()
    with pytest.raises(ValueError, match="trial=4, subtrial=0"):
        plan_graph_from_project(tmp_path, 4)


@pytest.mark.parametrize("plan_data, path, match", [
    ({"levels": []}, "g.html", "plan"),
    ([1, 2], "g.html", "plan: expected a plan dict"),
    (None, "g.png", "path: expected a file name ending in '.html'"),
])
def test_bad_input_is_rejected(plan, tmp_path, plan_data, path, match):
    data = plan.to_dict() if plan_data is None else plan_data
    with pytest.raises(ValueError, match=match):
        plan_graph(data, tmp_path / path)
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------- headless browser

PROBE = """<pre id="cerebros-probe">pending</pre>
<script>
setTimeout(function () {
  var out = {nodes: network.body.data.nodes.length, edges: network.body.data.edges.length};
  var pos = network.getPositions();
  out.placed = Object.keys(pos).filter(function (k) {
    return isFinite(pos[k].x) && isFinite(pos[k].y); }).length;
  var canvas = document.querySelector('#mynetwork canvas');
  out.pixels = {green: 0, red: 0, orange: 0, ink: 0};
  if (canvas) {
    var px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (var i = 0; i < px.length; i += 4) {
      var r = px[i], g = px[i + 1], b = px[i + 2];
      if (px[i + 3] < 128) continue;
      if (r < 240 || g < 240 || b < 240) out.pixels.ink++;
      if (g > 140 && r < 80 && b < 80) out.pixels.green++;
      if (r > 190 && g < 70 && b < 70) out.pixels.red++;
      if (r > 230 && g > 100 && g < 150 && b < 40) out.pixels.orange++;
    }
  }
  document.getElementById('cerebros-probe').textContent = JSON.stringify(out);
  document.title = 'nodes=' + out.nodes;
}, 300);
</script>
"""


def test_page_draws_every_node_in_headless_chromium(plan, page, tmp_path):
    browser = require_browser()
    path, nodes, edges = page
    probed = tmp_path / "probed.html"
    probed.write_text(path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1),
                      encoding="utf-8")
    command = [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
               "--window-size=1200,900", "--virtual-time-budget=5000", "--dump-dom",
               probed.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    dom = done.stdout
    found = re.search(r'<pre id="cerebros-probe">([^<]*)</pre>', dom)
    assert found and found.group(1) != "pending", (
        f"the probe did not run (exit {done.returncode}); stderr tail:\n{done.stderr[-2000:]}")
    result = json.loads(found.group(1))
    expected = n_units(plan, inputs=True) + 2 * n_units(plan, inputs=False)
    assert re.search(r"<canvas\b", dom)
    assert f"<title>nodes={expected}</title>" in dom
    assert result["nodes"] == result["placed"] == len(nodes) == expected
    assert result["edges"] == len(edges)
    # Every colour the graph uses reaches the canvas: inputs, the final unit, gated edges.
    assert result["pixels"]["green"] > 200
    assert result["pixels"]["red"] > 200
    assert result["pixels"]["orange"] > 50
    assert result["pixels"]["ink"] > 10_000


@pytest.mark.parametrize("ci, outcome", [("1", "1 failed"), ("", "1 skipped")])
def test_the_browser_test_skips_only_outside_ci(tmp_path, ci, outcome):
    """With no browser on PATH the browser test fails when CI is set (CI installs Chromium,
    so it must run there) and skips only outside CI."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    # Lazy imports: collecting this file then needs no TensorFlow.
    env.update(PATH=str(tmp_path), CEREBROS_LAZY_IMPORT="1", **({"CI": ci} if ci else {}))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "-n", "0",
         f"{__file__}::test_page_draws_every_node_in_headless_chromium"],
        cwd=Path(__file__).parent.parent, env=env, capture_output=True, text=True, timeout=300)
    assert outcome in done.stdout, done.stdout[-3000:]
    assert "no headless browser found on PATH" in done.stdout
