/* The difference between two versions of a workflow, on their diagrams: draws each box with
   data-diff-url using bpmn-js's viewer and diagram-kit.js (both loaded before this file). The box
   with data-diff-side="to" shows the newer version with its added elements (cf-added) and changed ones
   (cf-changed); the box with data-diff-side="from" shows the older version with the elements removed
   since (cf-removed). The URL answers {from: {bpmn_xml, removed}, to: {bpmn_xml, added, changed}} on the
   same origin, with the page's session cookie; it is fetched once for both boxes.

   The box says what went wrong in Chinese, and data-diagram-state tells "loading", "ready" or "error".
   Without JavaScript the box keeps its own message; the table of changes on the page says it all. */
(function () {
  "use strict";

  var kit = window.cfDiagramKit;
  var MARKS = { to: [["added", "cf-added"], ["changed", "cf-changed"]], from: [["removed", "cf-removed"]] };
  var answers = {};

  function load(url) {  // one fetch for both boxes
    if (!answers[url]) {
      answers[url] = kit.fetchJson(url);
    }
    return answers[url];
  }

  function draw(box) {
    if (kit.viewerMissing(box)) {
      return;
    }
    var side = box.dataset.diffSide === "from" ? "from" : "to";
    kit.say(box, "正在加载流程图……", "loading");
    load(box.dataset.diffUrl)
      .then(function (answer) {
        var version = answer[side];
        var canvasBox = document.createElement("div");
        canvasBox.className = "diagram-canvas";
        box.replaceChildren(canvasBox);
        var viewer = new window.BpmnJS({ container: canvasBox });
        return viewer.importXML(version.bpmn_xml).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          MARKS[side].forEach(function (pair) {
            (version[pair[0]] || []).forEach(function (id) {
              if (registry.get(id)) {
                canvas.addMarker(id, pair[1]);
              }
            });
          });
          canvas.zoom("fit-viewport", "auto");
          box.prepend(kit.zoomControls(canvas));
          box.dataset.diagramState = "ready";
        });
      })
      .catch(function (error) { kit.fail(box, error); });
  }

  function start() {
    document.querySelectorAll("[data-diff-url]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
