/* The process diagram of a complaint page: draws the BPMN diagram with bpmn-js's viewer and marks where
   the process stands (bpmn-js and diagram-kit.js are loaded before this file) — the path taken
   (cf-completed), the open tasks and waiting events (cf-current), tasks whose clock is stopped
   (cf-suspended) — with a badge on each running timer giving its time limit (调解期限：2027年1月18日).

   Every element with data-diagram-url gets one; the URL answers the diagram JSON of
   GET /api/v1/complaints/{id}/diagram (same origin, the page's session cookie). The box says what went
   wrong in Chinese, and data-diagram-state tells "loading", "ready" or "error". Without JavaScript the box
   keeps its own message; everything else on the page works without this file. */
(function () {
  "use strict";

  var MARKERS = [["completed", "cf-completed"], ["current", "cf-current"], ["suspended", "cf-suspended"]];
  var kit = window.cfDiagramKit;
  var READABLE = 0.85; // the zoom at which the labels read well: a large diagram opens there, on where it stands

  /* The date of an instant written in China's time (2027-01-18T23:59:59+08:00) as 2027年1月18日. */
  function chineseDate(iso) {
    var match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return match ? Number(match[1]) + "年" + Number(match[2]) + "月" + Number(match[3]) + "日" : "";
  }

  /* Show where the process stands: the whole diagram when it is small enough to read, else the open
     steps at a readable zoom, centred (全图 shows the whole again). */
  function focus(canvas, registry, ids) {
    canvas.zoom("fit-viewport", "auto");
    var shapes = ids.map(function (id) { return registry.get(id); })
      .filter(function (shape) { return shape && !shape.waypoints; });
    if (canvas.zoom() >= READABLE || shapes.length === 0) {
      return;
    }
    var left = Math.min.apply(null, shapes.map(function (s) { return s.x; }));
    var top = Math.min.apply(null, shapes.map(function (s) { return s.y; }));
    var right = Math.max.apply(null, shapes.map(function (s) { return s.x + s.width; }));
    var bottom = Math.max.apply(null, shapes.map(function (s) { return s.y + s.height; }));
    var size = canvas.getSize();
    var width = size.width / READABLE;
    var height = size.height / READABLE;
    canvas.viewbox({ x: (left + right - width) / 2, y: (top + bottom - height) / 2, width: width, height: height });
  }

  function has(list, id) {
    return list.indexOf(id) !== -1;
  }

  function mark(viewer, state) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    MARKERS.forEach(function (pair) {
      (state[pair[0]] || []).forEach(function (id) {
        if (registry.get(id)) {
          canvas.addMarker(id, pair[1]);
        }
      });
    });
    // a sequence or message flow from a step passed to a step reached is on the path taken
    registry.filter(function (element) { return element.waypoints && element.source && element.target; })
      .forEach(function (flow) {
        if (has(state.completed, flow.source.id) &&
            (has(state.completed, flow.target.id) || has(state.current, flow.target.id))) {
          canvas.addMarker(flow.id, "cf-completed");
        }
      });
    (state.timers || []).forEach(function (timer) {
      if (!registry.get(timer.element_id)) {
        return;
      }
      var badge = document.createElement("div");
      badge.className = "cf-timer-badge";
      badge.textContent = timer.label + "：" + chineseDate(timer.due_at);
      overlays.add(timer.element_id, "cf-timer", { position: { top: -92, left: -40 }, html: badge, scale: { min: 1 } });
      canvas.addMarker(timer.element_id, "cf-timer");
    });
  }

  function draw(box) {
    if (kit.viewerMissing(box)) {
      return;
    }
    kit.say(box, "正在加载流程图……", "loading");
    kit.fetchJson(box.dataset.diagramUrl)
      .then(function (state) {
        var canvasBox = document.createElement("div");
        canvasBox.className = "diagram-canvas";
        box.replaceChildren(canvasBox);
        var viewer = new window.BpmnJS({ container: canvasBox });
        return viewer.importXML(state.bpmn_xml).then(function () {
          var canvas = viewer.get("canvas");
          mark(viewer, state);
          focus(canvas, viewer.get("elementRegistry"), state.current || []);
          box.prepend(kit.zoomControls(canvas));
          box.dataset.diagramState = "ready";
        });
      })
      .catch(function (error) { kit.fail(box, error); });
  }

  function start() {
    document.querySelectorAll("[data-diagram-url]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
