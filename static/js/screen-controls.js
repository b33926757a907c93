/* The console's controls for the presenter (templates/_screen_controls.html): previous and
 * next page, one proposal in focus, auto-advance. The presenter decides the page size and
 * clamps the page (docs/protocol.md, screen:page); this only sends the facilitator's wish.
 *
 * It sends on the console's socket (MV.consoleSocket) and renders from every snapshot the
 * console accepts (the "mv:state" event, after the console's seq check); it waits for
 * DOMContentLoaded, by which time the console's script has run.
 */
(function () {
  "use strict";

  function init() {
    var root = document.getElementById("screen-controls");
    var MV = window.MV;
    if (!root || !MV) {
      return;
    }
    var strings = MV.readJSON("i18n-screen") || {};
    var t = function (key, params) {
      return String(strings[key] || key).replace(/\{(\w+)\}/g, function (whole, name) {
        return params && params[name] !== undefined ? String(params[name]) : whole;
      });
    };
    var select = document.getElementById("screen-focus");
    var auto = document.getElementById("screen-auto");
    var status = document.getElementById("screen-controls-status");
    function send(event, payload) {
      MV.request(MV.consoleSocket, event, payload).then(function (ack) {
        if (!ack.ok) {
          MV.setText(status, ack.error);
        }
      });
    }

    function render(state) {
      var screen = state.screen || { page: 0, focus: null, auto: false };
      var proposals = state.vote ? state.vote.proposals : state.proposals || [];
      var wanted = [""].concat(
        proposals.map(function (p) {
          return String(p.id);
        })
      );
      var have = Array.prototype.map.call(select.options, function (o) {
        return o.value;
      });
      if (wanted.join() !== have.join()) {
        while (select.options.length > 1) {
          select.remove(1);
        }
        proposals.forEach(function (p) {
          var f = p.fields || {};
          var text = MV.shorten(p.kind === MV.E.ProposalKind.DIRECTION ? f.rationale : f.what, 60);
          select.appendChild(MV.el("option", { text: p.label + ": " + text, attrs: { value: String(p.id) } }));
        });
      }
      select.value = screen.focus ? String(screen.focus) : "";
      auto.checked = !!screen.auto;
      var focused = proposals.filter(function (p) {
        return p.id === screen.focus;
      })[0];
      MV.setText(status, focused ? t("focus_now", { label: focused.label }) : t("page_now", { page: screen.page + 1 }));
    }

    document.addEventListener("mv:state", function (event) {
      render(event.detail);
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-screen-page]"), function (button) {
      button.addEventListener("click", function () {
        send("screen:page", { delta: Number(button.getAttribute("data-screen-page")) });
      });
    });
    select.addEventListener("change", function () {
      send("screen:focus", { proposal_id: select.value ? Number(select.value) : null });
    });
    auto.addEventListener("change", function () {
      send("screen:auto", { on: auto.checked });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
