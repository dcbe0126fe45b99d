/* The task page, progressively: a field required only for some answers (its wrapper carries
   data-conditions, e.g. 理由 when 审查结论 is 不予受理 or 转送) stays hidden — and is not posted — until
   one of its conditions holds; a field that came back with an error is always shown. After a refused
   submission the error summary takes the focus, so that a screen reader reads it first.
   Without this script every field is shown with its condition in words, and the form works the same. */
(function () {
  "use strict";

  const summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }

  const form = document.getElementById("task-form");
  if (!form) {
    return;
  }
  const groups = Array.from(form.querySelectorAll("[data-conditions]")).map(function (group) {
    let conditions = [];
    try {
      conditions = JSON.parse(group.dataset.conditions || "[]");
    } catch (error) {
      conditions = [];
    }
    return { element: group, conditions: conditions };
  });
  if (groups.length === 0) {
    return;
  }

  /* The answer a field holds now: the checked radio's value, the select's or the text's; none when the
     field is itself hidden. */
  function answer(name) {
    const control = form.elements.namedItem(name);
    if (!control) {
      return null;
    }
    const first = control instanceof RadioNodeList ? control[0] : control;
    if (first && first.disabled) {
      return null;
    }
    if (control instanceof RadioNodeList) {
      return control.value;
    }
    if (control.type === "radio" || control.type === "checkbox") {
      return control.checked ? control.value : "";
    }
    return control.value;
  }

  function update() {
    // twice: a condition may test a field that is itself conditional
    for (let pass = 0; pass < 2; pass += 1) {
      groups.forEach(function (group) {
        const holds = group.conditions.some(function (condition) {
          return condition.values.indexOf(answer(condition.field)) !== -1;
        });
        const shown = holds || group.element.classList.contains("has-error");
        group.element.hidden = !shown;
        group.element.querySelectorAll("input, select, textarea").forEach(function (control) {
          control.disabled = !shown;
        });
      });
    }
  }

  form.addEventListener("change", update);
  update();
})();
