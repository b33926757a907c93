/* The time plan on the console: the line "Tid: 42 av 90 min · Mål 3: 8 av 10 min", the warnings,
 * and the editor (plan:set, plan:goal). Uses the console's socket (MV.consoleSocket) and renders
 * from each facilitator snapshot the console accepts (the "mv:state" event; docs/protocol.md).
 * Between pushes the ticking goal's time is counted on locally. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";

  var MV = window.MV;
  var root = document.getElementById("plan");
  if (!MV || !root) {
    return;
  }
  var strings = MV.readJSON("i18n-plan") || {};
  var $ = function (id) {
    return document.getElementById(id);
  };
  function t(key, params) {
    return String(strings[key] || key).replace(/\{(\w+)\}/g, function (whole, name) {
      return params && params[name] !== undefined ? String(params[name]) : whole;
    });
  }
  function min(seconds) {
    return Math.round(seconds / 60);
  }

  var state = null;
  var receivedAt = 0;
  // The console's script announces every snapshot it renders, after its own seq check.
  document.addEventListener("mv:state", function (event) {
    take(event.detail);
  });

  function take(next) {
    state = next;
    receivedAt = Date.now();
    render();
    fillEditor();
  }

  /** The plan now: the snapshot's, with the ticking goal's seconds since it arrived added. */
  function now() {
    var plan = state && state.plan;
    if (!plan) {
      return null;
    }
    var extra = Math.max(0, (Date.now() - receivedAt) / 1000);
    var goals = plan.goals.map(function (g) {
      var used = g.used_s + (g.ticking ? extra : 0);
      return { id: g.id, planned: g.planned_s, used: used, over: used > g.planned_s, done: g.done, minutes: g.minutes };
    });
    var usedAll = goals.reduce(function (sum, g) { return sum + g.used; }, 0);
    var needed = goals.reduce(function (sum, g) { return sum + (g.done ? 0 : Math.max(0, g.planned - g.used)); }, 0);
    var left = plan.total_s - usedAll;
    return { total: plan.total_s, used: usedAll, left: left, needed: needed, fits: left >= needed, goals: goals };
  }

  function numberOf(goalId) {
    var item = (state.agenda || []).filter(function (g) { return g.id === goalId; })[0];
    return item ? item.number : "";
  }

  var lastWarn = null;
  function render() {
    var plan = now();
    var line = $("plan-line");
    if (!plan) {
      MV.setText(line, t("none"));
      line.removeAttribute("data-state");
      setWarn("");
      return;
    }
    var text = t("total", { used: min(plan.used), planned: min(plan.total) });
    var current = state.goal && plan.goals.filter(function (g) { return g.id === state.goal.id; })[0];
    if (current) {
      text += " · " + t("goal", { number: state.goal.number, used: min(current.used), planned: min(current.planned) });
    }
    MV.setText(line, text);
    line.setAttribute("data-state", (current && current.over) || !plan.fits ? "over" : "ok");
    var warnings = plan.goals.filter(function (g) { return g.over && !g.done; }).map(function (g) {
      return t("over", { number: numberOf(g.id), min: Math.max(1, min(g.used - g.planned)) });
    });
    if (!plan.fits) {
      warnings.push(t("no_fit", { left: Math.max(0, min(plan.left)), needed: min(plan.needed) }));
    }
    setWarn(warnings.join(" "));
    // The used column of an open editor follows the clock too.
    plan.goals.forEach(function (g) {
      var cell = document.querySelector('#plan-goals td[data-used="' + g.id + '"]');
      if (cell) {
        MV.setText(cell, t("used", { min: min(g.used) }));
        cell.setAttribute("data-state", g.over ? "over" : "ok");
      }
    });
  }

  function setWarn(text) {
    if (text !== lastWarn) {
      lastWarn = text;
      MV.setText($("plan-warn"), text);
    }
  }

  window.setInterval(function () {
    if (state) {
      render();
    }
  }, 5000);

  // --- The editor ---------------------------------------------------------------------------

  var editor = $("plan-editor");
  var toggle = $("plan-toggle");
  toggle.addEventListener("click", function () {
    var opening = editor.hidden;
    editor.hidden = !opening;
    toggle.setAttribute("aria-expanded", String(opening));
    if (opening) {
      fillEditor(true);
      $("plan-total").focus();
    }
  });

  /** Rebuild the rows when the goals change; never overwrite what the facilitator is typing. */
  var rowsFor = null;
  function fillEditor(force) {
    if (!state || editor.hidden) {
      return;
    }
    var plan = now();
    var total = $("plan-total");
    if (force || document.activeElement !== total) {
      total.value = state.plan ? String(min(state.plan.total_s)) : "";
    }
    var ids = (state.agenda || []).map(function (g) { return g.id; }).join(",");
    var body = $("plan-goals");
    if (force || rowsFor !== ids) {
      rowsFor = ids;
      MV.clear(body);
      (state.agenda || []).forEach(function (g) {
        var input = MV.el("input", {
          attrs: { type: "number", min: "0", max: "1440", step: "1", inputmode: "numeric", id: "plan-goal-" + g.id, "data-goal": String(g.id), "aria-describedby": "plan-hint plan-even-" + g.id },
        });
        var label = MV.el("label", { attrs: { for: "plan-goal-" + g.id }, text: t("goal_label", { number: g.number }) });
        body.appendChild(MV.el("tr", {}, [
          MV.el("th", { attrs: { scope: "row" } }, [label]),
          MV.el("td", {}, [input]),
          MV.el("td", {}, [MV.el("span", { class: "hint", attrs: { id: "plan-even-" + g.id } })]),
          MV.el("td", { attrs: { "data-used": String(g.id) } }),
        ]));
      });
    }
    (plan ? plan.goals : []).forEach(function (g) {
      var input = $("plan-goal-" + g.id);
      if (input && (force || document.activeElement !== input)) {
        input.value = g.minutes === null || g.minutes === undefined ? "" : String(g.minutes);
      }
      MV.setText($("plan-even-" + g.id), g.minutes === null ? t("even", { min: min(g.planned) }) : "");
    });
    render();
  }

  function showError(ack) {
    var box = $("plan-error");
    MV.setText(box, ack ? ack.error : "");
    box.hidden = !ack;
  }

  /** A typed value as the server takes it: "" is null (even split / no plan), else a number. */
  function typed(input) {
    var raw = input.value.trim();
    if (raw === "") {
      return null;
    }
    return /^\d+$/.test(raw) ? Number(raw) : raw;
  }

  function send(requests) {
    var chain = Promise.resolve({ ok: true });
    requests.forEach(function (r) {
      chain = chain.then(function (ack) {
        return ack.ok ? MV.request(MV.consoleSocket, r[0], r[1]) : ack;
      });
    });
    return chain;
  }

  editor.addEventListener("submit", function (event) {
    event.preventDefault();
    showError(null);
    var requests = [];
    var total = typed($("plan-total"));
    var had = state && state.plan ? min(state.plan.total_s) : null;
    if (total !== had) {
      requests.push(["plan:set", { minutes: total }]);
    }
    var byId = {};
    (state && state.plan ? state.plan.goals : []).forEach(function (g) { byId[g.id] = g.minutes; });
    Array.prototype.forEach.call(editor.querySelectorAll("input[data-goal]"), function (input) {
      var id = Number(input.getAttribute("data-goal"));
      var value = typed(input);
      if (value !== (byId[id] === undefined ? null : byId[id])) {
        requests.push(["plan:goal", { goal_id: id, minutes: value }]);
      }
    });
    send(requests).then(function (ack) {
      if (ack.ok) {
        MV.announce(t("saved"));
      } else {
        showError(ack);
      }
    });
  });

  $("plan-clear").addEventListener("click", function () {
    showError(null);
    send([["plan:set", { minutes: null }]]).then(function (ack) {
      if (!ack.ok) {
        showError(ack);
      }
    });
  });
});
