// symprop's interactive page: KaTeX sets every formula; the picture's parameters
// highlight their paths to the loss, the factors of those paths in their derivations,
// and scroll the derivation into view; nodes show their values; the stepper walks the
// worked example. Everything it needs is in #symprop-data.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("symprop-data").textContent);
  var text = data.text;

  function say(key, values) {
    return text[key].replace(/\{(\w+)\}/g, function (m, name) {
      return values[name] === undefined || values[name] === null ? "—" : values[name];
    });
  }
  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // --- math --------------------------------------------------------------------
  // Each parameter's path factors are marked in the TeX of its own derivation, so that
  // KaTeX sets them in a span of class "factor" the highlight can find.
  function marked(tex, factors) {
    factors.forEach(function (f) { tex = tex.split(f).join("\\htmlClass{factor}{" + f + "}"); });
    return tex;
  }
  var options = { throwOnError: false, strict: false,
    trust: function (context) { return context.command === "\\htmlClass"; } };
  var done = {};  // a formula the page sets again (a name in a heading, a table) is copied
  function setMath(el) {
    var tex = el.textContent, derivation = el.closest(".derivation");
    var path = derivation && data.paths[derivation.getAttribute("data-param")];
    var display = el.classList.contains("display"), key = (display ? "D" : "T") + (path ? marked(tex, path.factors) : tex);
    if (done[key]) {
      var copy = done[key].cloneNode(true);
      all(".highlight", copy).forEach(function (f) { f.classList.remove("highlight"); });  // hovered meanwhile
      el.replaceChildren(copy);
      return;
    }
    options.displayMode = display;
    try {
      katex.render(key.slice(1), el, options);
      done[key] = el.firstChild;
    } catch (error) {
      console.warn("KaTeX could not set " + tex);
    }
  }
  // In slices of ~40 ms, in the order of the page (the panel's, then from the top): the
  // first slice before the page shows, the rest between frames, so that the page shows
  // and answers before the last formula is set.
  var pending = all(".tex");
  function setRest() {
    var start = performance.now();
    while (pending.length && performance.now() - start < 40) setMath(pending.shift());
    if (pending.length) { setTimeout(setRest, 0); return; }
    performance.mark("symprop-math");
    document.documentElement.setAttribute("data-math", "done");
  }
  setRest();

  var svg = document.querySelector(".picture svg");
  if (!svg) return;

  function byName(attr, name) { return all("[" + attr + "]").filter(function (el) { return el.getAttribute(attr) === name; }); }

  // --- paths from the loss to a parameter ----------------------------------------
  var shown = null, scrollTimer = null;
  var smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function clear() {
    all(".highlight").forEach(function (el) { el.classList.remove("highlight"); });
    clearTimeout(scrollTimer);
    shown = null;
  }
  function derivationOf(param) {
    return all(".derivation").filter(function (el) { return el.getAttribute("data-param") === param; })[0];
  }
  function highlight(param) {
    clear();
    var path = data.paths[param];
    if (!path) return;
    shown = param;
    path.edges.forEach(function (id) { byName("data-edge", id).forEach(function (el) { el.classList.add("highlight"); }); });
    path.nodes.forEach(function (name) {
      all(".node", svg).forEach(function (el) {
        if (el.getAttribute("data-node") === name) el.classList.add("highlight");
      });
    });
    var section = derivationOf(param);
    if (section) {
      section.classList.add("highlight");
      all(".factor", section).forEach(function (f) { f.classList.add("highlight"); });
    }
  }
  function reveal(param, delay) {
    // a pointer sweeping across the picture scrolls only to where it rests
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(function () {
      var section = derivationOf(param);
      if (!section || shown !== param) return;
      section.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
      // blocks passed on the way are laid out as they show and may grow past their
      // estimated height, moving the derivation: once the scroll ends, land on it again
      var tries = 0;
      function settle() {
        var off = section.getBoundingClientRect().top - parseFloat(getComputedStyle(section).scrollMarginTop);
        if (Math.abs(off) > 3 && tries++ < 6 && shown === param) {
          section.scrollIntoView({ block: "start" });
          requestAnimationFrame(function () { requestAnimationFrame(settle); });
        }
      }
      if (smooth && "onscrollend" in window) window.addEventListener("scrollend", settle, { once: true });
      else requestAnimationFrame(function () { requestAnimationFrame(settle); });
    }, delay);
  }
  all("[data-param]", svg).forEach(function (el) {
    var param = el.getAttribute("data-param");
    el.addEventListener("mouseenter", function () { highlight(param); reveal(param, 150); });
    el.addEventListener("mouseleave", function () { if (document.activeElement !== el) clear(); });
    el.addEventListener("focus", function () {
      highlight(param);
      if (el.matches(":focus-visible")) reveal(param, 0);
    });
    el.addEventListener("blur", clear);
    // a click on an edge goes to the derivation; a bias node's click shows its numbers instead
    if (!el.classList.contains("node")) el.addEventListener("click", function () { highlight(param); reveal(param, 0); });
  });

  // --- the picture's labels keep their size on screen as it shrinks ---------------
  // (--k in page.css); the picture grows at the bottom by what the numbers under the
  // lowest nodes move down
  var figure = svg.closest(".picture"), box = svg.viewBox.baseVal, drawnHeight = box.height;
  // biases the picture draws side by side leave no room for bigger numbers under them
  var centres = all(".node.bias rect", svg).map(function (r) {
    return [r.x.baseVal.value + r.width.baseVal.value / 2, r.y.baseVal.value];
  });
  var crowded = centres.some(function (a) {
    return centres.some(function (b) { return a !== b && a[1] === b[1] && Math.abs(a[0] - b[0]) < 70; });
  });
  figure.classList.toggle("crowded", crowded);
  function fitLabels() {
    var k = Math.min(1.9, Math.max(1, box.width / (svg.getBoundingClientRect().width || box.width)));
    svg.style.setProperty("--k", k.toFixed(2));
    box.height = drawnHeight + Math.round((k - 1) * 22);
    figure.classList.toggle("small", k > 1.35);
  }
  // --- the panel: its height keeps a scrolled-to derivation clear of it -----------
  var panel = document.querySelector(".panel"), toggle = document.querySelector(".panel-toggle");
  function measurePanel() {
    if (!panel) return;
    var overlaps = getComputedStyle(panel).position === "sticky" && panel.getBoundingClientRect().width > 0.8 * window.innerWidth;
    document.documentElement.style.setProperty("--panel-height", overlaps ? panel.offsetHeight + "px" : "0px");
  }
  if (toggle) toggle.addEventListener("click", function () {
    var folded = panel.classList.toggle("folded");
    toggle.setAttribute("aria-expanded", folded ? "false" : "true");
    measurePanel();
  });
  fitLabels();
  measurePanel();
  window.addEventListener("resize", function () { fitLabels(); measurePanel(); });
  // the stepper's and a node's lines change the panel's height as they change
  if (panel && window.ResizeObserver) new ResizeObserver(measurePanel).observe(panel);

  // --- a node's value and adjoint -------------------------------------------------
  var info = document.querySelector(".node-info");
  function showNode(el) {
    var name = el.getAttribute("data-node"), node = data.nodes[name];
    svg.querySelectorAll(".selected").forEach(function (s) { s.classList.remove("selected"); });
    el.classList.add("selected");
    if (info) info.textContent = say("page_node", { node: name, output: data.output,
      value: node ? node.value : null, adjoint: node ? node.adjoint : null });
  }
  all(".node", svg).forEach(function (el) {
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
