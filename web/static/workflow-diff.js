/* The difference between two versions of a workflow, on their diagrams: draws each box with
   data-diff-url using bpmn-js's viewer (from /static/vendor/bpmn-js, loaded before this file). The box
   with data-diff-side="to" shows the newer version with its added elements (cf-added) and changed ones
   (cf-changed); the box with data-diff-side="from" shows the older version with the elements removed
   since (cf-removed). The URL answers {from: {bpmn_xml, removed}, to: {bpmn_xml, added, changed}} on the
   same origin, with the page's session cookie; it is fetched once for both boxes.

   The box says what went wrong in Chinese, and data-diagram-state tells "loading", "ready" or "error".
   Without JavaScript the box keeps its own message; the table of changes on the page says it all. */
(function () {
  "use strict";

  var ZOOM_STEP = 1.25;
  var MARKS = { to: [["added", "cf-added"], ["changed", "cf-changed"]], from: [["removed", "cf-removed"]] };
  var answers = {};

  function say(box, text, state) {
    var message = document.createElement("p");
    message.className = "diagram-message";
    message.textContent = text;
    box.replaceChildren(message);
    box.dataset.diagramState = state;
  }

  function button(label, title, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.title = title;
    element.addEventListener("click", onClick);
    return element;
  }

  function zoomControls(canvas) {
    var bar = document.createElement("div");
    bar.className = "diagram-zoom";
    bar.append(
      button("＋", "放大", function () { canvas.zoom(canvas.zoom() * ZOOM_STEP); }),
      button("－", "缩小", function () { canvas.zoom(canvas.zoom() / ZOOM_STEP); }),
      button("全图", "显示整个流程图", function () { canvas.zoom("fit-viewport", "auto"); })
    );
    return bar;
  }

  function load(url) {
    if (!answers[url]) {
      answers[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401) {
            throw new Error("登录已过期，请重新登录后查看流程图。");
          }
          if (!response.ok) {
            throw new Error("流程图加载失败，请刷新页面重试。");
          }
          return response.json();
        });
    }
    return answers[url];
  }

  function draw(box) {
    if (typeof window.BpmnJS !== "function") {
      say(box, "流程图组件未安装，无法显示流程图。", "error");
      return;
    }
    var side = box.dataset.diffSide === "from" ? "from" : "to";
    say(box, "正在加载流程图……", "loading");
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
          box.prepend(zoomControls(canvas));
          box.dataset.diagramState = "ready";
        });
      })
      .catch(function (error) {
        var known = error && /[\u4e00-\u9fff]/.test(error.message);
        say(box, known ? error.message : "流程图无法显示，请刷新页面重试。", "error");
      });
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
