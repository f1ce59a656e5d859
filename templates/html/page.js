// symprop's interactive page: KaTeX sets every formula; the picture's parameters
// highlight their paths to the loss and their derivations; nodes show their values;
// the stepper walks the worked example. Everything it needs is in #symprop-data.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("symprop-data").textContent);
  var text = data.text;

  function say(key, values) {
    return text[key].replace(/\{(\w+)\}/g, function (m, name) {
      return values[name] === undefined || values[name] === null ? "—" : values[name];
    });
  }

  // --- math --------------------------------------------------------------------
  document.querySelectorAll(".tex").forEach(function (el) {
    var tex = el.textContent;
    try {
      katex.render(tex, el, { displayMode: el.classList.contains("display"), throwOnError: false, strict: false });
    } catch (error) {
      console.warn("KaTeX could not set " + tex);
    }
  });

  var svg = document.querySelector(".picture svg");
  if (!svg) return;

  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  function byName(attr, name) { return all("[" + attr + "]").filter(function (el) { return el.getAttribute(attr) === name; }); }

  // --- paths from the loss to a parameter ----------------------------------------
  var shown = null;
  function clear() {
    all(".highlight").forEach(function (el) { el.classList.remove("highlight"); });
    shown = null;
  }
  function highlight(param, scroll) {
    clear();
    var path = data.paths[param];
    if (!path) return;
    shown = param;
    path.edges.forEach(function (id) { byName("data-edge", id).forEach(function (el) { el.classList.add("highlight"); }); });
    path.nodes.forEach(function (name) {
      svg.querySelectorAll(".node").forEach(function (el) {
        if (el.getAttribute("data-node") === name) el.classList.add("highlight");
      });
    });
    var section = all(".derivation").filter(function (el) { return el.getAttribute("data-param") === param; })[0];
    if (section) {
      section.classList.add("highlight");
      if (scroll) section.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }
  svg.querySelectorAll("[data-param]").forEach(function (el) {
    var param = el.getAttribute("data-param");
    el.addEventListener("mouseenter", function () { highlight(param, false); });
    el.addEventListener("mouseleave", function () { if (document.activeElement !== el) clear(); });
    el.addEventListener("focus", function () { highlight(param, el.matches(":focus-visible")); });
    el.addEventListener("blur", clear);
    // a click on an edge goes to the derivation; a bias node's click shows its numbers instead
    if (!el.classList.contains("node")) el.addEventListener("click", function () { highlight(param, true); });
  });

  // --- a node's value and adjoint -------------------------------------------------
  var info = document.querySelector(".node-info");
  function showNode(el) {
    var name = el.getAttribute("data-node"), node = data.nodes[name];
    svg.querySelectorAll(".selected").forEach(function (s) { s.classList.remove("selected"); });
    el.classList.add("selected");
    if (info) info.textContent = say("page_node", { node: name, output: data.output,
      value: node ? node.value : null, adjoint: node ? node.adjoint : null });
  }
  svg.querySelectorAll(".node").forEach(function (el) {
    el.addEventListener("click", function () { showNode(el); });
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); showNode(el); }
    });
  });

  // --- the stepper ----------------------------------------------------------------
  var steps = data.steps, started = false;
  // the page opens with the gradients computed, as the other formats show the picture
  var at = steps.filter(function (s) { return s.slot !== "update" && s.slot !== "after"; }).length;
  var output = document.querySelector(".step-text");
  function node(name) {
    return all(".picture .node").filter(function (el) { return el.getAttribute("data-node") === name; })[0];
  }
  function setText(el, selector, value) {
    var t = el && el.querySelector(selector);
    if (t) t.textContent = value || "";
  }
  var captions = all(".picture .edge .label").map(function (t) { return [t, t.textContent]; });
  function draw() {
    all(".picture .value, .picture .adjoint, .picture .grad").forEach(function (t) { t.textContent = ""; });
    captions.forEach(function (c) { c[0].textContent = c[1]; });
    all(".picture .current").forEach(function (el) { el.classList.remove("current"); });
    Object.keys(data.nodes).forEach(function (name) {
      if (data.nodes[name].given) setText(node(name), ".value", data.nodes[name].short);
    });
    for (var k = 0; k < at; k++) {
      var s = steps[k], el = s.node ? node(s.node) : null;
      if (s.slot === "value") setText(el, ".value", s.short);
      if (s.slot === "adjoint" && s.node === s.name) setText(el, ".adjoint", "∂ " + s.short);
      if (s.slot === "gradient" || s.slot === "update") {
        if (el && el.getAttribute("data-param") === s.name) {
          setText(el, s.slot === "update" ? ".value" : ".adjoint", s.slot === "update" ? ":= " + s.short : "∂ " + s.short);
        } else {
          (s.edges || []).forEach(function (id) {
            byName("data-edge", id).forEach(function (e) {
              if (s.slot === "update") setText(e, ".label", s.name + " := " + s.short);
              else setText(e, ".grad", "∂ " + s.short);
            });
          });
        }
      }
      if (s.slot === "after") setText(el, ".value", data.nodes[s.node].short + " → " + s.short);
    }
    var last = at ? steps[at - 1] : null;
    if (last && started) {
      if (last.node && node(last.node)) node(last.node).classList.add("current");
      (last.edges || []).forEach(function (id) { byName("data-edge", id).forEach(function (e) { e.classList.add("current"); }); });
      if (output) output.textContent = say("page_step", { step: at, steps: steps.length }) + " " +
        say(last.key, { node: last.name, output: data.output, value: last.value, before: last.before });
    }
    if (output && (at === 0 || !started)) output.textContent = text.page_ready;
    all("[data-step]").forEach(function (b) {
      var what = b.getAttribute("data-step");
      b.disabled = (what === "reset" || what === "back") ? at === 0 : at === steps.length;
    });
  }
  all("[data-step]").forEach(function (b) {
    b.addEventListener("click", function () {
      var what = b.getAttribute("data-step");
      at = what === "reset" ? 0 : what === "back" ? Math.max(0, at - 1) :
        what === "next" ? Math.min(steps.length, at + 1) : steps.length;
      started = true;
      draw();
    });
  });
  if (steps.length) draw();
})();
