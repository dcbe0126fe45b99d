/* What every diagram box of the pages shares (the complaint's process, a version diff, an instance):
   a message in the box in Chinese with its state ("loading", "ready", "error" in data-diagram-state),
   the zoom buttons, and fetching the box's JSON from this origin with the page's session cookie.
   Loaded after bpmn-js's viewer and before the script that draws the box (diagram.js, workflow-diff.js). */
(function () {
  "use strict";

  var ZOOM_STEP = 1.25;

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

  /* The box's JSON; an error whose message is Chinese is meant for the reader. */
  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
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

  /* The box's message after a failure: the error's own words when they are for people, else a general one. */
  function fail(box, error) {
    var known = error && /[\u4e00-\u9fff]/.test(error.message);
    say(box, known ? error.message : "流程图无法显示，请刷新页面重试。", "error");
  }

  function viewerMissing(box) {
    if (typeof window.BpmnJS === "function") {
      return false;
    }
    say(box, "流程图组件未安装，无法显示流程图。", "error");
    return true;
  }

  window.cfDiagramKit = { say: say, zoomControls: zoomControls, fetchJson: fetchJson, fail: fail,
                          viewerMissing: viewerMissing };
}());
