/* The BPMN editor page (/admin/workflows/{key}/versions/{n}): bpmn-js's modeler (from
   /static/vendor/bpmn-js, loaded before this file) over the version's XML, and a properties panel for the
   product's extensions, read and written through the modeler's own services (modeling, moddle), so that
   every change can be undone and the exported XML keeps whatever the panel does not touch:

   - a pool (participant or process): 办理机构表达式, the `agency` spiffworkflow property of its process;
   - a lane: 办理角色 (liaison / supervisor / enforcement / business), written as the lane's name;
   - a user task: 期限规则 (`deadline`), 期限起算 (`deadline_from`) and its form (`form`, a JSON Schema) in a
     form editor: fields with key, 中文标题, type, 必填, options and 条件必填 — no JSON typed by hand;
   - a timer: the deadline rule in its timeDate, due("RULE", start).

   The page is one form (web/templates/_editor_toolbar.html): before it is sent, the hidden textarea gets
   the modeler's XML. 校验 asks the server for the errors as JSON and pins a badge on each element named;
   保存为新版本 sends the form as is (the server answers with the new version's page, or this page with the
   errors). Data comes from data-* attributes and same-origin URLs only: the page's policy forbids inline
   script and style. */
(function () {
  "use strict";

  var ROLES = [["liaison", "联络员"], ["supervisor", "负责人"], ["enforcement", "执法人员"], ["business", "经营者"]];
  var FIELD_TYPES = [["text", "单行文本"], ["textarea", "多行文本"], ["boolean", "是否"], ["choice", "单选"]];
  var READABLE = 0.75; // below this zoom the labels cannot be read: a problem's element is shown at 100%
  var LONG_TEXT = 200; // as web/form_fields.py: a text allowing more characters is a textarea
  var SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema";
  var KEY_PATTERN = /^[a-z][a-z0-9_]{0,49}$/;
  var DUE = /^\s*due\(\s*"([^"]*)"\s*,\s*([\s\S]*?)\s*\)\s*$/;
  var TYPE_NAMES = {
    "bpmn:UserTask": "人工任务", "bpmn:ScriptTask": "脚本任务", "bpmn:ServiceTask": "服务任务", "bpmn:Task": "任务",
    "bpmn:Lane": "泳道", "bpmn:Participant": "泳池", "bpmn:Process": "流程", "bpmn:Collaboration": "协作流程",
    "bpmn:BoundaryEvent": "边界事件", "bpmn:StartEvent": "开始事件", "bpmn:EndEvent": "结束事件",
    "bpmn:IntermediateCatchEvent": "中间捕获事件", "bpmn:IntermediateThrowEvent": "中间抛出事件",
    "bpmn:ExclusiveGateway": "排他网关", "bpmn:ParallelGateway": "并行网关", "bpmn:InclusiveGateway": "包容网关",
    "bpmn:EventBasedGateway": "事件网关", "bpmn:SequenceFlow": "顺序流", "bpmn:MessageFlow": "消息流",
    "bpmn:SubProcess": "子流程", "bpmn:CallActivity": "调用活动", "bpmn:TextAnnotation": "注释"
  };

  /* ------------------------------------------------------------------ the form schema, as fields */

  function clone(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function sameKeys(object, keys) {
    var own = Object.keys(object).sort();
    return own.length === keys.length && keys.slice().sort().every(function (key, i) { return own[i] === key; });
  }

  function fieldType(prop) {
    if (!isObject(prop)) {
      return "other";
    }
    if (prop.type === "boolean" && prop.oneOf === undefined && prop.enum === undefined) {
      return "boolean";
    }
    if (prop.type !== "string" || prop.enum !== undefined) {
      return "other";
    }
    if (prop.oneOf !== undefined) {
      var options = Array.isArray(prop.oneOf) && prop.oneOf.every(function (o) {
        return isObject(o) && typeof o.const === "string";
      });
      return options ? "choice" : "other";
    }
    return typeof prop.maxLength === "number" && prop.maxLength <= LONG_TEXT ? "text" : "textarea";
  }

  /* An allOf entry `{if: {properties: {X: {const|enum}}, required: [X]}, then: {required: [...]}}` is a
     condition (the fields of then.required are required when X has one of the values); anything else
     is kept as it is. */
  function conditionBlock(entry, properties) {
    if (!isObject(entry) || !sameKeys(entry, ["if", "then"]) || !isObject(entry.if) || !isObject(entry.then)) {
      return null;
    }
    var test = entry.if;
    var keys = Object.keys(test);
    if (!isObject(test.properties) || keys.some(function (k) { return k !== "properties" && k !== "required"; })) {
      return null;
    }
    var names = Object.keys(test.properties);
    if (names.length !== 1) {
      return null;
    }
    var field = names[0];
    var check = test.properties[field];
    var form;
    var values;
    if (isObject(check) && sameKeys(check, ["const"])) {
      form = "const";
      values = [check.const];
    } else if (isObject(check) && sameKeys(check, ["enum"]) && Array.isArray(check.enum) && check.enum.length) {
      form = "enum";
      values = check.enum.slice();
    } else {
      return null;
    }
    var ifRequired = test.required !== undefined;
    if (ifRequired && !(Array.isArray(test.required) && test.required.length === 1 && test.required[0] === field)) {
      return null;
    }
    var targets = entry.then.required;
    if (!sameKeys(entry.then, ["required"]) || !Array.isArray(targets) ||
        !targets.every(function (t) { return typeof t === "string" && properties[t] !== undefined; })) {
      return null;
    }
    if (!values.every(function (v) { return typeof v === "string" || typeof v === "boolean"; })) {
      return null;
    }
    return { kind: "condition", field: field, values: values, form: form, ifRequired: ifRequired,
             ifFirst: keys[0] === "properties", targets: targets.slice() };
  }

  function parseForm(schema) {
    var original = isObject(schema) ? clone(schema) : {};
    var properties = isObject(original.properties) ? original.properties : {};
    var required = Array.isArray(original.required) ? original.required.slice() : [];
    var fields = Object.keys(properties).map(function (key) {
      return { key: key, prop: clone(properties[key]), required: required.indexOf(key) !== -1, conditions: [] };
    });
    var byKey = {};
    fields.forEach(function (f) { byKey[f.key] = f; });
    var blocks = (Array.isArray(original.allOf) ? original.allOf : []).map(function (entry) {
      var block = conditionBlock(entry, properties);
      if (!block) {
        return { kind: "raw", value: clone(entry) };
      }
      block.targets.forEach(function (target) {
        byKey[target].conditions.push({ field: block.field, values: block.values.slice() });
      });
      return block;
    });
    return { schema: original, fields: fields, required: required, blocks: blocks };
  }

  function valueKey(values) {
    return JSON.stringify(values.map(function (v) { return JSON.stringify(v); }).sort());
  }

  function conditionEntry(field, values, form, ifRequired, ifFirst, targets) {
    var check = form === "const" && values.length === 1 ? { const: values[0] } : { enum: values.slice() };
    var test = {};
    var properties = {};
    properties[field] = check;
    if (ifFirst || !ifRequired) {
      test.properties = properties;
      if (ifRequired) {
        test.required = [field];
      }
    } else {
      test.required = [field];
      test.properties = properties;
    }
    return { "if": test, then: { required: targets } };
  }

  function writeForm(model) {
    var properties = {};
    model.fields.forEach(function (f) { properties[f.key] = f.prop; });
    var wanted = model.fields.filter(function (f) { return f.required; }).map(function (f) { return f.key; });
    var required = model.required.filter(function (key) { return wanted.indexOf(key) !== -1; });
    wanted.forEach(function (key) {
      if (required.indexOf(key) === -1) {
        required.push(key);
      }
    });
    var pending = [];
    model.fields.forEach(function (f) {
      f.conditions.forEach(function (c) {
        if (c.field && c.values.length) {
          pending.push({ field: c.field, values: c.values, target: f.key, used: false });
        }
      });
    });
    function take(field, values, target) {
      var found = null;
      pending.forEach(function (p) {
        if (!found && !p.used && p.field === field && valueKey(p.values) === valueKey(values) &&
            (target === undefined || p.target === target)) {
          found = p;
        }
      });
      if (found) {
        found.used = true;
      }
      return found;
    }
    var allOf = [];
    model.blocks.forEach(function (block) {
      if (block.kind === "raw") {
        allOf.push(block.value);
        return;
      }
      var targets = [];
      block.targets.forEach(function (target) {
        if (take(block.field, block.values, target)) {
          targets.push(target);
        }
      });
      var more;
      while ((more = take(block.field, block.values))) {
        targets.push(more.target);
      }
      if (targets.length) {
        allOf.push(conditionEntry(block.field, block.values, block.form, block.ifRequired, block.ifFirst, targets));
      }
    });
    pending.forEach(function (p) {
      if (p.used) {
        return;
      }
      p.used = true;
      var targets = [p.target];
      var more;
      while ((more = take(p.field, p.values))) {
        targets.push(more.target);
      }
      allOf.push(conditionEntry(p.field, p.values, "const", true, true, targets));
    });
    var out = {};
    var had = model.schema;
    Object.keys(had).forEach(function (key) {
      if (key === "properties") {
        out.properties = properties;
      } else if (key === "required") {
        if (required.length || (Array.isArray(had.required) && had.required.length === 0)) {
          out.required = required;
        }
      } else if (key === "allOf") {
        if (allOf.length || (Array.isArray(had.allOf) && had.allOf.length === 0)) {
          out.allOf = allOf;
        }
      } else {
        out[key] = had[key];
      }
    });
    if (out.$schema === undefined && Object.keys(had).length === 0) {
      out = { $schema: SCHEMA_URI, title: model.title || "", type: "object" };
      out.properties = properties;
    }
    if (out.properties === undefined) {
      out.properties = properties;
    }
    if (out.required === undefined && required.length) {
      out.required = required;
    }
    if (had.additionalProperties === undefined) {
      out.additionalProperties = false;
    }
    if (out.allOf === undefined && allOf.length) {
      out.allOf = allOf;
    }
    return out;
  }

  /* A field's new type: only the keywords that make the type change; the rest (titles, x-not-own-agency on
     a text) stays. */
  function retype(field, type) {
    var prop = field.prop;
    if (type === "boolean") {
      ["oneOf", "minLength", "maxLength", "x-not-own-agency"].forEach(function (k) { delete prop[k]; });
      prop.type = "boolean";
    } else if (type === "choice") {
      ["minLength", "maxLength", "x-not-own-agency"].forEach(function (k) { delete prop[k]; });
      prop.type = "string";
      prop.oneOf = [{ const: "option_1", title: "选项一" }];
    } else {
      delete prop.oneOf;
      prop.type = "string";
      if (prop.minLength === undefined) {
        prop.minLength = 1;
      }
      if (type === "text" && (typeof prop.maxLength !== "number" || prop.maxLength > LONG_TEXT)) {
        prop.maxLength = LONG_TEXT;
      }
      if (type === "textarea" && (typeof prop.maxLength !== "number" || prop.maxLength <= LONG_TEXT)) {
        prop.maxLength = 2000;
      }
    }
  }

  /* The values a condition may test: a choice's options, or 是/否. */
  function choicesOf(field) {
    var type = fieldType(field.prop);
    if (type === "boolean") {
      return [[true, "是"], [false, "否"]];
    }
    if (type === "choice") {
      return field.prop.oneOf.map(function (o) { return [o.const, o.title || o.const]; });
    }
    return null;
  }

  window.complaintflowForms = { parse: parseForm, write: writeForm, fieldType: fieldType };

  /* ------------------------------------------------------------------ small DOM helpers */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) {
        return;
      }
      if (name === "text") {
        node.textContent = value;
      } else if (name === "className") {
        node.className = value;
      } else if (name.slice(0, 2) === "on") {
        node.addEventListener(name.slice(2), value);
      } else if (value === true) {
        node.setAttribute(name, "");
      } else {
        node.setAttribute(name, String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.append(child);
      }
    });
    return node;
  }

  var uid = 0;
  function nextId(prefix) {
    uid += 1;
    return prefix + "-" + uid;
  }

  function labelled(label, control, hint) {
    var id = control.id || nextId("editor-control");
    control.id = id;
    return el("div", { className: "editor-field" }, [
      el("label", { "for": id, text: label }), control, hint ? el("p", { className: "editor-hint", text: hint }) : null
    ]);
  }

  function textInput(id, value, onCommit, attrs) {
    var input = el("input", Object.assign({ id: id, type: "text", value: value || "" }, attrs || {}));
    input.value = value || "";
    input.addEventListener("change", function () { onCommit(input.value, input); });
    return input;
  }

  function select(id, options, current, onChange) {
    var node = el("select", { id: id });
    options.forEach(function (pair) {
      var option = el("option", { value: pair[0], text: pair[1] });
      option.selected = pair[0] === current;
      node.append(option);
    });
    node.addEventListener("change", function () { onChange(node.value); });
    return node;
  }

  function button(text, onClick, attrs) {
    return el("button", Object.assign({ type: "button", className: "editor-small", text: text, onclick: onClick },
                                      attrs || {}));
  }

  function zoomControls(canvas) {
    return el("div", { className: "editor-zoom" }, [
      button("＋", function () { canvas.zoom(canvas.zoom() * 1.25); }, { title: "放大" }),
      button("－", function () { canvas.zoom(canvas.zoom() / 1.25); }, { title: "缩小" }),
      button("100%", function () { canvas.zoom(1, "auto"); }, { title: "按实际大小显示" }),
      button("全图", function () { canvas.zoom("fit-viewport", "auto"); }, { title: "显示整个流程图" })
    ]);
  }

  /* ------------------------------------------------------------------ the editor */

  function Editor(form, box, panel, spiff) {
    this.form = form;
    this.box = box;
    this.panel = panel;
    this.rules = JSON.parse(form.dataset.rules || "[]");
    this.writing = false;
    this.current = null;
    this.formModel = null;
    this.pinned = [];
    this.modeler = new window.BpmnJS({ container: box, moddleExtensions: { spiffworkflow: spiff } });
  }

  Editor.prototype.service = function (name) {
    return this.modeler.get(name);
  };

  Editor.prototype.open = function (xml) {
    var self = this;
    return this.modeler.importXML(xml).then(function () {
      var canvas = self.service("canvas");
      canvas.zoom("fit-viewport", "auto");
      self.box.prepend(zoomControls(canvas));
      self.service("eventBus").on("selection.changed", function (event) {
        var selected = event.newSelection || [];
        self.show(selected.length === 1 ? selected[0] : null);
      });
      self.service("eventBus").on("commandStack.changed", function () {
        if (!self.writing) { // undo, redo, an edit on the canvas: read the element again
          self.show(self.current);
        }
      });
      self.show(null);
    });
  };

  /* Run panel writes as commands; the panel does not redraw itself for its own writes. */
  Editor.prototype.write = function (change) {
    this.writing = true;
    try {
      change();
    } finally {
      this.writing = false;
    }
  };

  Editor.prototype.spiffProperties = function (bo) {
    var values = (bo && bo.extensionElements && bo.extensionElements.values) || [];
    return values.filter(function (v) { return v.$type === "spiffworkflow:Properties"; })[0] || null;
  };

  Editor.prototype.property = function (bo, name) {
    var props = this.spiffProperties(bo);
    var item = props && (props.properties || []).filter(function (p) { return p.name === name; })[0];
    return item ? item.value : undefined;
  };

  /* Set (or with null remove) one spiffworkflow property of `bo`, drawn as `element`. */
  Editor.prototype.setProperty = function (element, bo, name, value) {
    var modeling = this.service("modeling");
    var moddle = this.service("moddle");
    var props = this.spiffProperties(bo);
    var list = (props && props.properties) || [];
    var item = list.filter(function (p) { return p.name === name; })[0];
    this.write(function () {
      if (item) {
        if (value === null) {
          modeling.updateModdleProperties(element, props, { properties: list.filter(function (p) { return p !== item; }) });
        } else if (item.value !== value) {
          modeling.updateModdleProperties(element, item, { value: value });
        }
        return;
      }
      if (value === null) {
        return;
      }
      var created = moddle.create("spiffworkflow:Property", { name: name, value: value });
      if (props) {
        modeling.updateModdleProperties(element, props, { properties: list.concat([created]) });
        return;
      }
      var holder = moddle.create("spiffworkflow:Properties", { properties: [created] });
      if (bo.extensionElements) {
        modeling.updateModdleProperties(element, bo.extensionElements,
                                        { values: (bo.extensionElements.values || []).concat([holder]) });
      } else {
        modeling.updateModdleProperties(element, bo,
                                        { extensionElements: moddle.create("bpmn:ExtensionElements", { values: [holder] }) });
      }
    });
  };

  Editor.prototype.rename = function (element, name) {
    var modeling = this.service("modeling");
    this.write(function () {
      if (["bpmn:Lane", "bpmn:Collaboration", "bpmn:Process"].indexOf(element.type) === -1) {
        modeling.updateLabel(element, name || null);
      } else {
        modeling.updateProperties(element, { name: name || undefined });
      }
    });
  };

  Editor.prototype.ruleOptions = function (current, withNone) {
    var options = withNone ? [["", "无期限"]] : [];
    var known = false;
    this.rules.forEach(function (rule) {
      options.push([rule.name, rule.label]);
      known = known || rule.name === current;
    });
    if (current && !known) {
      options.push([current, current + "（未知规则）"]);
    }
    return options;
  };

  /* ---- the panel */

  Editor.prototype.show = function (element) {
    if (element && !this.service("elementRegistry").get(element.id)) {
      element = null; // deleted
    }
    var target = element || this.service("canvas").getRootElement();
    this.formModel = null;
    this.current = element;
    var bo = target.businessObject;
    var body = el("div", { className: "editor-props", "data-element-id": bo.id });
    body.append(el("p", { className: "editor-kind" }, [
      el("span", { text: TYPE_NAMES[bo.$type] || "流程元素" }), el("code", { text: bo.id })
    ]));
    if (bo.$type === "bpmn:Lane") {
      this.laneSection(body, target, bo);
    } else if (bo.$type !== "bpmn:Process") {
      this.nameSection(body, target, bo);
    }
    if (bo.$type === "bpmn:Participant" && bo.processRef) {
      this.agencySection(body, target, bo.processRef);
    } else if (bo.$type === "bpmn:Process") {
      this.nameSection(body, target, bo);
      this.agencySection(body, target, bo);
    }
    if (bo.$type === "bpmn:UserTask") {
      this.deadlineSection(body, target, bo);
      this.formSection(body, target, bo);
    }
    var timer = (bo.eventDefinitions || []).filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0];
    if (timer) {
      this.timerSection(body, target, timer);
    }
    this.panel.replaceChildren(body);
  };

  Editor.prototype.nameSection = function (body, element, bo) {
    var self = this;
    body.append(labelled("名称", textInput("editor-name", bo.name, function (value) {
      self.rename(element, value.trim());
    })));
  };

  Editor.prototype.laneSection = function (body, element, bo) {
    var self = this;
    var known = ROLES.some(function (r) { return r[0] === bo.name; });
    var options = ROLES.map(function (r) { return [r[0], r[1] + "（" + r[0] + "）"]; });
    if (!known) {
      options.unshift([bo.name || "", bo.name ? bo.name + "（不是角色）" : "（未设置）"]);
    }
    body.append(labelled("办理角色", select("editor-role", options, bo.name || "", function (value) {
      if (value) {
        self.write(function () { self.service("modeling").updateProperties(element, { name: value }); });
      }
    }), "泳道以角色命名：其中的人工任务由该角色办理。"));
  };

  Editor.prototype.agencySection = function (body, element, process) {
    var self = this;
    body.append(labelled("办理机构表达式", textInput("editor-agency", this.property(process, "agency"), function (value) {
      self.setProperty(element, process, "agency", value.trim() || null);
    }, { spellcheck: "false" }), "给出办理机构代码的表达式，如 competent_agency、mediator_agency。"));
  };

  Editor.prototype.deadlineSection = function (body, element, bo) {
    var self = this;
    var rule = this.property(bo, "deadline") || "";
    body.append(labelled("期限规则", select("editor-deadline", this.ruleOptions(rule, true), rule, function (value) {
      self.setProperty(element, bo, "deadline", value || null);
    })));
    body.append(labelled("期限起算", textInput("editor-deadline-from", this.property(bo, "deadline_from"), function (value) {
      self.setProperty(element, bo, "deadline_from", value.trim() || null);
    }, { spellcheck: "false" }), "给出起算时刻的表达式，如 received_at；不填则自任务创建时起算。"));
  };

  Editor.prototype.timerSection = function (body, element, timer) {
    var self = this;
    var section = el("fieldset", { className: "editor-group" }, [el("legend", { text: "定时期限" })]);
    var text = timer.timeDate && typeof timer.timeDate.body === "string" ? timer.timeDate.body : null;
    var match = text !== null ? DUE.exec(text) : null;
    if (!match && text !== null && text.trim() !== "") {
      section.append(el("p", { className: "editor-hint", text: "定时表达式：" + text + "（不是 due(规则, 起算) 的形式，请在其他工具中修改）" }));
      body.append(section);
      return;
    }
    if (!timer.timeDate && (timer.timeDuration || timer.timeCycle)) {
      section.append(el("p", { className: "editor-hint", text: "该定时器按时长或周期触发，不按期限规则。" }));
      body.append(section);
      return;
    }
    var rule = match ? match[1] : "";
    var start = match ? match[2] : "accepted_at";
    var write = function () {
      var body = "due(\"" + rule + "\", " + (start || "now()") + ")";
      self.write(function () {
        var expression = self.service("moddle").create("bpmn:FormalExpression", { body: body });
        self.service("modeling").updateModdleProperties(element, timer, { timeDate: expression });
      });
    };
    var options = this.ruleOptions(rule, false);
    if (!rule) {
      options.unshift(["", "（请选择）"]);
    }
    section.append(labelled("期限规则", select("editor-timer-rule", options, rule, function (value) {
      if (value) {
        rule = value;
        write();
      }
    })));
    section.append(labelled("起算", textInput("editor-timer-start", start, function (value) {
      start = value.trim();
      if (rule) {
        write();
      }
    }, { spellcheck: "false" }), "给出起算时刻的表达式，如 accepted_at。"));
    body.append(section);
  };

  /* ---- the form editor */

  Editor.prototype.formSection = function (body, element, bo) {
    if (!this.formModel) {
      var text = this.property(bo, "form");
      var schema = null;
      if (text !== undefined) {
        try {
          schema = JSON.parse(text);
        } catch (error) {
          schema = undefined;
        }
      }
      if (schema === undefined || (schema !== null && !isObject(schema))) {
        body.append(el("fieldset", { className: "editor-group" }, [
          el("legend", { text: "表单" }),
          el("p", { className: "field-error", text: "表单内容不是有效的 JSON，无法在此编辑；请校验后按提示更正。" })
        ]));
        return;
      }
      this.formModel = parseForm(schema || {});
      this.formModel.title = bo.name || "";
    }
    var section = el("fieldset", { className: "editor-group editor-form-editor", id: "editor-form-editor" },
                     [el("legend", { text: "表单" })]);
    this.formBox = section;
    this.formElement = element;
    this.formOwner = bo;
    this.drawFields();
    body.append(section);
  };

  Editor.prototype.commitForm = function () {
    var schema = writeForm(this.formModel);
    this.setProperty(this.formElement, this.formOwner, "form", JSON.stringify(schema));
  };

  Editor.prototype.drawFields = function () {
    var self = this;
    var model = this.formModel;
    var section = this.formBox;
    var legend = section.querySelector("legend");
    section.replaceChildren(legend);
    if (!model.fields.length) {
      section.append(el("p", { className: "editor-hint", text: "该任务的表单还没有字段。" }));
    }
    var list = el("ol", { className: "editor-fields" });
    model.fields.forEach(function (field, index) {
      list.append(self.drawField(field, index));
    });
    section.append(list);
    section.append(button("添加字段", function () {
      var n = model.fields.length + 1;
      var key = "field_" + n;
      while (model.fields.some(function (f) { return f.key === key; })) {
        n += 1;
        key = "field_" + n;
      }
      model.fields.push({ key: key, prop: { type: "string", title: "新字段", minLength: 1, maxLength: LONG_TEXT },
                          required: false, conditions: [] });
      self.commitForm();
      self.drawFields();
      var items = section.querySelectorAll(".editor-form-field");
      var last = items[items.length - 1];
      if (last) {
        last.open = true;
        last.querySelector("input").focus();
      }
    }, { id: "editor-add-field", className: "editor-small editor-add" }));
  };

  Editor.prototype.drawField = function (field, index) {
    var self = this;
    var model = this.formModel;
    var type = fieldType(field.prop);
    var prefix = "editor-field-" + index;
    var item = el("li", {});
    var box = el("details", { className: "editor-form-field", "data-field-key": field.key });
    var title = field.prop && field.prop.title ? field.prop.title : field.key;
    var summary = el("summary", {}, [
      el("span", { className: "editor-field-title", text: title }),
      el("span", { className: "editor-field-meta", text: (FIELD_TYPES.filter(function (t) { return t[0] === type; })[0] ||
                                                          [type, "其他类型"])[1] + (field.required ? " · 必填" : "") })
    ]);
    box.append(summary);
    function redraw() {
      self.commitForm();
      self.drawFields();
      var again = self.formBox.querySelectorAll(".editor-form-field")[model.fields.indexOf(field)];
      if (again) {
        again.open = true;
      }
    }
    var error = el("p", { className: "field-error", id: prefix + "-key-error", hidden: true });
    box.append(labelled("字段标识", textInput(prefix + "-key", field.key, function (value, input) {
      value = value.trim();
      var problem = !KEY_PATTERN.test(value) ? "字段标识须以小写字母开头，只含小写字母、数字和下划线" :
        model.fields.some(function (f) { return f !== field && f.key === value; }) ? "已有同名字段" : null;
      error.hidden = !problem;
      error.textContent = problem || "";
      input.setAttribute("aria-invalid", problem ? "true" : "false");
      if (problem || value === field.key) {
        return;
      }
      var old = field.key;
      field.key = value;
      model.required = model.required.map(function (k) { return k === old ? value : k; });
      model.fields.forEach(function (f) {
        f.conditions.forEach(function (c) {
          if (c.field === old) {
            c.field = value;
          }
        });
      });
      model.blocks.forEach(function (b) {
        if (b.kind === "condition") {
          b.field = b.field === old ? value : b.field;
          b.targets = b.targets.map(function (t) { return t === old ? value : t; });
        }
      });
      box.dataset.fieldKey = value;
      self.commitForm();
    }, { spellcheck: "false", autocomplete: "off" })));
    box.append(error);
    if (!isObject(field.prop)) {
      box.append(el("p", { className: "editor-hint", text: "该字段的定义无法在此编辑，保存时保持原样。" }));
      item.append(box);
      return item;
    }
    box.append(labelled("中文标题", textInput(prefix + "-title", field.prop.title, function (value) {
      field.prop.title = value.trim();
      summary.firstChild.textContent = field.prop.title || field.key;
      self.commitForm();
    })));
    if (type === "other") {
      box.append(el("p", { className: "editor-hint", text: "该字段的类型在此不可修改，保存时保持原样。" }));
    } else {
      box.append(labelled("类型", select(prefix + "-type", FIELD_TYPES, type, function (value) {
        retype(field, value);
        if (value !== "boolean" && value !== "choice") { // nothing can test a text any more
          model.fields.forEach(function (f) {
            f.conditions = f.conditions.filter(function (c) { return c.field !== field.key; });
          });
        }
        redraw();
      })));
    }
    var requiredBox = el("input", { type: "checkbox", id: prefix + "-required" });
    requiredBox.checked = field.required;
    requiredBox.addEventListener("change", function () {
      field.required = requiredBox.checked;
      summary.lastChild.textContent = summary.lastChild.textContent.replace(/ · 必填$/, "") + (field.required ? " · 必填" : "");
      self.commitForm();
    });
    box.append(el("div", { className: "editor-check" }, [requiredBox, el("label", { "for": requiredBox.id, text: "必填" })]));
    if (type === "choice") {
      box.append(this.drawOptions(field, prefix, redraw));
    }
    box.append(this.drawConditions(field, prefix, redraw));
    box.append(el("div", { className: "editor-row-actions" }, [
      button("上移", function () {
        model.fields.splice(index, 1);
        model.fields.splice(index - 1, 0, field);
        redraw();
      }, { disabled: index === 0 }),
      button("下移", function () {
        model.fields.splice(index, 1);
        model.fields.splice(index + 1, 0, field);
        redraw();
      }, { disabled: index === model.fields.length - 1 }),
      button("删除字段", function () {
        model.fields.splice(model.fields.indexOf(field), 1);
        model.fields.forEach(function (f) {
          f.conditions = f.conditions.filter(function (c) { return c.field !== field.key; });
        });
        self.commitForm();
        self.drawFields();
      }, { className: "editor-small editor-danger" })
    ]));
    item.append(box);
    return item;
  };

  Editor.prototype.drawOptions = function (field, prefix, redraw) {
    var self = this;
    var model = this.formModel;
    var group = el("fieldset", { className: "editor-options" }, [el("legend", { text: "选项" })]);
    field.prop.oneOf.forEach(function (option, i) {
      var row = el("div", { className: "editor-option" });
      row.append(labelled("取值", textInput(prefix + "-option-" + i + "-const", option.const, function (value, input) {
        value = value.trim();
        if (!value || field.prop.oneOf.some(function (o) { return o !== option && o.const === value; })) {
          input.setAttribute("aria-invalid", "true");
          return;
        }
        input.setAttribute("aria-invalid", "false");
        var old = option.const;
        option.const = value;
        model.fields.forEach(function (f) {
          f.conditions.forEach(function (c) {
            if (c.field === field.key) {
              c.values = c.values.map(function (v) { return v === old ? value : v; });
            }
          });
        });
        model.blocks.forEach(function (b) {
          if (b.kind === "condition" && b.field === field.key) {
            b.values = b.values.map(function (v) { return v === old ? value : v; });
          }
        });
        self.commitForm();
      }, { spellcheck: "false" })));
      row.append(labelled("中文标题", textInput(prefix + "-option-" + i + "-title", option.title, function (value) {
        option.title = value.trim();
        self.commitForm();
      })));
      row.append(button("删除选项", function () {
        field.prop.oneOf.splice(i, 1);
        model.fields.forEach(function (f) {
          f.conditions.forEach(function (c) {
            if (c.field === field.key) {
              c.values = c.values.filter(function (v) { return v !== option.const; });
            }
          });
        });
        redraw();
      }, { disabled: field.prop.oneOf.length === 1 }));
      group.append(row);
    });
    group.append(button("添加选项", function () {
      var n = field.prop.oneOf.length + 1;
      while (field.prop.oneOf.some(function (o) { return o.const === "option_" + n; })) {
        n += 1;
      }
      field.prop.oneOf.push({ const: "option_" + n, title: "新选项" });
      redraw();
    }));
    return group;
  };

  Editor.prototype.drawConditions = function (field, prefix, redraw) {
    var model = this.formModel;
    var self = this;
    var group = el("fieldset", { className: "editor-conditions" }, [el("legend", { text: "条件必填" })]);
    var testable = model.fields.filter(function (f) { return f !== field && choicesOf(f); });
    field.conditions.forEach(function (condition, i) {
      var row = el("div", { className: "editor-condition" });
      var options = testable.map(function (f) { return [f.key, (f.prop.title || f.key) + "（" + f.key + "）"]; });
      if (!testable.some(function (f) { return f.key === condition.field; })) {
        options.unshift([condition.field, condition.field + "（不可选）"]);
      }
      row.append(labelled("当字段", select(prefix + "-condition-" + i + "-field", options, condition.field, function (value) {
        condition.field = value;
        condition.values = [];
        redraw();
      })));
      var source = testable.filter(function (f) { return f.key === condition.field; })[0];
      var values = el("div", { className: "editor-condition-values" }, [el("span", { text: "为以下之一时必填：" })]);
      (source ? choicesOf(source) : []).forEach(function (pair, j) {
        var box = el("input", { type: "checkbox", id: prefix + "-condition-" + i + "-value-" + j });
        box.checked = condition.values.some(function (v) { return v === pair[0]; });
        box.addEventListener("change", function () {
          var others = condition.values.filter(function (v) { return v !== pair[0]; });
          condition.values = box.checked ? others.concat([pair[0]]) : others;
          self.commitForm();
        });
        values.append(el("span", { className: "editor-check" }, [box, el("label", { "for": box.id, text: pair[1] })]));
      });
      row.append(values);
      row.append(button("删除条件", function () {
        field.conditions.splice(i, 1);
        redraw();
      }));
      group.append(row);
    });
    if (testable.length) {
      group.append(button("添加条件", function () {
        field.conditions.push({ field: testable[0].key, values: [] });
        redraw();
      }));
    } else if (!field.conditions.length) {
      group.append(el("p", { className: "editor-hint", text: "表单中没有可作为条件的单选或是否字段。" }));
    }
    return group;
  };

  /* ---- errors pinned on the diagram */

  Editor.prototype.shapeFor = function (id) {
    if (!id) {
      return null;
    }
    var registry = this.service("elementRegistry");
    var shape = registry.get(id);
    if (shape) {
      return shape;
    }
    return registry.filter(function (e) {
      return e.businessObject && e.businessObject.processRef && e.businessObject.processRef.id === id;
    })[0] || null;
  };

  Editor.prototype.pin = function (problems) {
    var self = this;
    var canvas = this.service("canvas");
    var overlays = this.service("overlays");
    overlays.remove({ type: "cf-error" });
    this.pinned.forEach(function (id) { canvas.removeMarker(id, "cf-invalid"); });
    this.pinned = [];
    var counts = {};
    problems.forEach(function (problem) {
      var shape = self.shapeFor(problem.element_id);
      if (shape) {
        counts[shape.id] = (counts[shape.id] || []).concat([problem.message]);
      }
    });
    Object.keys(counts).forEach(function (id) {
      var messages = counts[id];
      var badge = el("div", { className: "cf-error-badge", title: messages.join("\n"), "data-element-id": id,
                              text: messages.length > 1 ? "错误 " + messages.length : "错误" });
      badge.addEventListener("click", function () { self.focus(id); });
      overlays.add(id, "cf-error", { position: { top: -14, right: 14 }, html: badge, scale: { min: 1 } });
      canvas.addMarker(id, "cf-invalid");
      self.pinned.push(id);
    });
  };

  Editor.prototype.focus = function (id) {
    var shape = this.shapeFor(id);
    if (!shape) {
      return;
    }
    var canvas = this.service("canvas");
    this.service("selection").select(shape);
    if (canvas.zoom() < READABLE && !shape.waypoints) { // too small to read: the element at full size, centred
      var size = canvas.getSize();
      var large = shape.width > size.width / 2; // a pool or lane: its top right corner, where the badge sits
      var cx = large ? shape.x + shape.width - size.width / 2 + 40 : shape.x + shape.width / 2;
      var cy = large ? shape.y + size.height / 2 - 60 : shape.y + shape.height / 2;
      canvas.viewbox({ x: cx - size.width / 2, y: cy - size.height / 2, width: size.width, height: size.height });
    } else {
      canvas.scrollToElement(shape, { top: 120, bottom: 120, left: 160, right: 160 });
    }
    this.box.focus({ preventScroll: true });
  };

  /* ------------------------------------------------------------------ the page */

  function listProblems(problems) {
    var box = document.getElementById("editor-problems");
    var list = document.getElementById("editor-problem-list");
    var title = document.getElementById("editor-problems-title");
    list.replaceChildren();
    problems.forEach(function (problem) {
      var item = el("li", { "data-element-id": problem.element_id || "", "data-message": problem.message });
      if (problem.element_id) {
        item.append(el("a", { href: "#editor-canvas", className: "editor-problem-link", "data-element-id": problem.element_id,
                              text: (problem.element_name || problem.element_id) + "（" + problem.element_id + "）" }), "：");
      }
      item.append(problem.message);
      list.append(item);
    });
    title.textContent = problems.length ? "流程图有 " + problems.length + " 处错误，请更正" : "";
    box.hidden = !problems.length;
  }

  function serverProblems() {
    return Array.prototype.map.call(document.querySelectorAll("#editor-problem-list li"), function (item) {
      return { element_id: item.dataset.elementId || null, message: item.dataset.message || "" };
    });
  }

  function say(box, text, state) {
    box.replaceChildren(el("p", { className: "editor-message", text: text }));
    box.dataset.editorState = state;
  }

  function status(text, kind) {
    var line = document.getElementById("editor-check");
    line.textContent = text;
    line.className = "notice" + (kind === "error" ? " editor-check-failed" : "");
    line.hidden = !text;
  }

  function wire(editor, form) {
    var xmlBox = document.getElementById("editor-xml");
    var original = xmlBox.value;
    document.getElementById("editor-problem-list").addEventListener("click", function (event) {
      var link = event.target.closest("[data-element-id]");
      if (link && link.dataset.elementId) {
        event.preventDefault();
        editor.focus(link.dataset.elementId);
      }
    });
    form.addEventListener("submit", function (event) {
      var validating = event.submitter && event.submitter.id === "editor-validate";
      event.preventDefault();
      var unchanged = !editor.service("commandStack").canUndo();
      var exported = unchanged ? Promise.resolve({ xml: original }) : editor.modeler.saveXML({ format: true });
      exported.then(function (result) {
        xmlBox.value = result.xml;
        if (!validating) {
          form.submit();
          return null;
        }
        status("正在校验……", "info");
        return fetch(form.dataset.validateUrl, {
          method: "POST", body: new FormData(form), credentials: "same-origin", headers: { Accept: "application/json" }
        }).then(function (response) {
          if (response.status === 401) {
            throw new Error("登录已过期，请重新登录后再校验（当前修改请先另存）。");
          }
          if (!response.ok) {
            throw new Error("校验请求失败，请刷新页面后重试。");
          }
          return response.json();
        }).then(function (answer) {
          listProblems(answer.errors);
          editor.pin(answer.errors);
          status(answer.valid ? "校验通过，未发现错误" : "", "info");
          if (!answer.valid) {
            document.getElementById("editor-problems").focus();
          }
        });
      }).catch(function (error) {
        var known = error && /[\u4e00-\u9fff]/.test(error.message);
        status(known ? error.message : "无法导出流程图，请检查后重试。", "error");
      });
    });
  }

  function start() {
    var form = document.getElementById("editor-form");
    var box = document.getElementById("editor-canvas");
    var panel = document.getElementById("editor-panel-body");
    if (!form || !box || !panel) {
      return;
    }
    if (typeof window.BpmnJS !== "function") {
      say(box, "流程编辑器组件未安装，无法显示流程图。", "error");
      return;
    }
    say(box, "正在加载流程图……", "loading");
    fetch(form.dataset.moddleUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("流程编辑器加载失败，请刷新页面重试。");
        }
        return response.json();
      })
      .then(function (spiff) {
        box.replaceChildren();
        var editor = new Editor(form, box, panel, spiff);
        window.complaintflowEditor = editor;
        return editor.open(document.getElementById("editor-xml").value).then(function () {
          editor.pin(serverProblems());
          wire(editor, form);
          box.dataset.editorState = "ready";
        });
      })
      .catch(function (error) {
        var known = error && /[\u4e00-\u9fff]/.test(error.message);
        say(box, known ? error.message : "流程图无法打开：文件不是有效的 BPMN 图。", "error");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
