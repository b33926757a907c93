/* The projector view: one slide that always fits the screen.
 *
 * It gets the public state only, which carries no tally before the facilitator reveals it.
 * Long lists (proposals, results, a long decision) are paged, never cut: this page lays the
 * list out at its own size, measures how many items fit on each page and shows page
 * state.screen.page (clamped). Its own keys (←/→, PageUp/PageDown) and auto-advance turn pages
 * locally; a new page from the console replaces the local one. See docs/protocol.md.
 */
(function () {
  "use strict";

  var MV = window.MV;
  var t = MV.t;
  var el = MV.el;
  var E = MV.E;
  var data = MV.readJSON("page-data");

  var $ = function (id) {
    return document.getElementById(id);
  };

  var AUTO_SECONDS = 12; // long enough to read a page of proposals aloud

  // A push after a missed one: fetch the whole state again.
  var gate = MV.seqGate(function () {
    fetchState();
  });
  var timer = MV.countdown($("timer"));
  var signatures = {};
  var last = null; // the last state rendered

  // The pager: what is paged now, its pages ([first, end) item indexes) and where we are.
  var pager = { part: null, items: [], what: "", pages: [[0, 0]], server: 0, local: 0, shown: -1 };
  var autoTimer = null;

  function changed(name, value) {
    var signature = JSON.stringify(value);
    if (signatures[name] === signature) {
      return false;
    }
    signatures[name] = signature;
    return true;
  }

  var auth = { workshop: data.workshop, role: "screen" };
  if (data.key) {
    auth.key = data.key;
  }
  var socket = MV.connect(auth, {
    connect: function () {
      gate.reset();
      fetchState();
    },
    state: render,
    count: function (count) {
      var next = MV.applyCount(last, count);
      if (next) {
        render(next);
      } else if (!last || count.seq > last.seq) {
        fetchState();
      }
    },
  });

  function fetchState() {
    MV.request(socket, "state:get", {}).then(function (ack) {
      if (ack.ok) {
        render(ack.state);
      }
    });
  }

  function layout(state) {
    var goal = state.goal;
    if (state.workshop.status === E.WorkshopStatus.CLOSED) {
      return "closed";
    }
    if (state.workshop.status !== E.WorkshopStatus.RUNNING || !goal) {
      return "lobby";
    }
    return goal.phase === E.Phase.PROPOSALS || goal.phase === E.Phase.NOT_STARTED ? "side" : "corner";
  }

  function render(state) {
    if (!gate(state)) {
      return;
    }
    last = state;
    var goal = state.goal;
    var mode = layout(state);
    var focus = focusedProposal(state, mode === "side" || mode === "corner" ? goal.phase : null);
    // A focused proposal gets the room: the join column shrinks to the corner's size.
    $("screen").className = "screen screen--" + (focus ? "corner" : mode);
    MV.show($("screen-join"), mode !== "closed");
    MV.show($("screen-top"), mode === "side" || mode === "corner");
    timer.update(state);
    renderGoalTime(state);
    MV.renderGoal($("screen-top"), goal);

    var title = $("screen-title");
    var showGoal = mode === "side" || mode === "corner";
    MV.setText(title, showGoal ? t("goal_number", { number: goal.number }) + ". " + goal.text : title.getAttribute("data-default"));

    var message = "";
    var sub = "";
    if (mode === "lobby") {
      message = t("waiting");
    } else if (mode === "closed") {
      message = t("closed");
      sub = t("closed_thanks");
    } else if (goal.phase === E.Phase.NOT_STARTED) {
      message = t("goal_waiting");
    }
    MV.setText($("screen-message"), message);
    MV.show($("screen-message"), !!message);
    MV.setText($("screen-submessage"), sub);
    MV.show($("screen-submessage"), !!sub);

    var online = typeof state.people.online === "number" ? state.people.online : null;
    var onlineText = online === null ? "" : online === 1 ? t("online_one") : t("online", { n: online });
    MV.setText($("lobby-online"), mode === "lobby" ? onlineText : "");
    MV.show($("lobby-online"), mode === "lobby" && online !== null);
    MV.setText($("online-count"), mode === "lobby" ? "" : onlineText);

    var phase = showGoal ? goal.phase : null;
    renderVote(state, phase);
    var part = focus ? renderFocus(focus) : renderProposals(state, phase) || renderResults(state, phase) || renderDecision(state, phase);
    ["screen-proposals", "screen-results", "screen-decision", "screen-focus"].forEach(function (id) {
      MV.show($(id), part === id);
    });
    if (!focus) {
      changed("focus", null);
    }
    var screen = state.screen || { page: 0, auto: false };
    if (screen.page !== pager.server) {
      pager.server = screen.page;
      pager.local = 0;
    }
    setAuto(!!screen.auto);
    repaginate(part);
  }

  // The focused proposal, when it is one the public may see now.
  function focusedProposal(state, phase) {
    var id = state.screen && state.screen.focus;
    if (!id || !phase || phase === E.Phase.NOT_STARTED) {
      return null;
    }
    var pool = (state.vote ? state.vote.proposals : []).concat(state.proposals || []);
    for (var i = 0; i < pool.length; i += 1) {
      if (pool[i].id === id) {
        return pool[i];
      }
    }
    return null;
  }

  function renderFocus(proposal) {
    if (changed("focus", proposal)) {
      MV.clear($("focus-card")).appendChild(MV.proposalCard(proposal, { heading: "h3", tag: "div" }));
    }
    return "screen-focus";
  }

  /** The current goal's time left by the time plan, counted on while it ticks (whole minutes). */
  function renderGoalTime(state) {
    var node = $("goal-time");
    var plan = state.plan;
    var at = Date.now();
    window.clearInterval(renderGoalTime.handle);
    function show() {
      var left = plan.goal_left_s - (plan.ticking ? (Date.now() - at) / 1000 : 0);
      var over = left < 0;
      node.setAttribute("data-state", over ? "over" : "running");
      MV.setText(node, node.getAttribute(over ? "data-over" : "data-left").replace("{min}", String(Math.ceil(Math.abs(left) / 60))));
    }
    node.hidden = !plan || state.workshop.status !== E.WorkshopStatus.RUNNING;
    if (!node.hidden) {
      show();
      renderGoalTime.handle = plan.ticking ? window.setInterval(show, 5000) : null;
    }
  }

  function renderProposals(state, phase) {
    var voting = phase === E.Phase.VOTING;
    if (!(phase === E.Phase.PROPOSALS || voting)) {
      return null;
    }
    var proposals = voting && state.vote ? state.vote.proposals : state.proposals;
    MV.setText($("cards-h"), voting ? t("voting_on") : t("proposals_heading"));
    if (changed("cards", [proposals, voting])) {
      var list = MV.clear($("cards"));
      if (!proposals.length) {
        list.appendChild(el("li", { class: "lead", text: t("no_published") }));
      } else {
        proposals.forEach(function (p) {
          list.appendChild(MV.proposalCard(p, { heading: "h3" }));
        });
      }
    }
    return "screen-proposals";
  }

  function renderVote(state, phase) {
    var vote = state.vote;
    var show = phase === E.Phase.VOTING && !!vote;
    MV.show($("screen-vote"), show);
    if (show) {
      MV.setText($("vote-progress"), t("answered", { answered: vote.answered, total: vote.total }));
      MV.setText($("vote-method"), t("vote_now") + " – " + vote.method_label);
    }
  }

  function renderResults(state, phase) {
    if (phase !== E.Phase.RESULTS || !state.results) {
      return null;
    }
    if (changed("results", [state.results, state.vote && state.vote.proposals])) {
      var proposals = state.vote ? state.vote.proposals : state.proposals;
      MV.renderResults($("results"), state.results, proposals, { textOpen: true, shorten: 120 });
    }
    return "screen-results";
  }

  // The decision as separate items (its fields, notes and each dissent), so a long one pages.
  function renderDecision(state, phase) {
    var decision = phase === E.Phase.DECIDED ? state.decision : null;
    if (!decision) {
      return null;
    }
    if (changed("decision", decision)) {
      var box = MV.clear($("decision"));
      var item = function (node) {
        node.classList.add("slide-item");
        box.appendChild(node);
      };
      item(el("p", {}, [el("span", { class: "badge badge--" + decision.kind, text: t("kind_" + decision.kind) })]));
      MV.proposalLines(decision.fields).forEach(function (pair) {
        item(el("dl", { class: "lines lines--compact" }, [el("div", { class: "lines__row" }, [el("dt", { text: pair[0] }), el("dd", { text: pair[1] })])]));
      });
      var criteria = MV.criteriaText(decision.criteria);
      if (criteria) {
        item(el("p", { class: "proposal__note", text: criteria }));
      }
      if (decision.proposal) {
        item(el("p", { class: "proposal__note", text: t("decision_based_on", { label: decision.proposal }) }));
      }
      (decision.dissent || []).forEach(function (d, index) {
        var text = d.name ? d.text + " — " + d.name : d.text;
        item(el("p", { class: "slide-dissent", text: index === 0 ? t("dissent_heading") + ": " + text : text }));
      });
    }
    return "screen-decision";
  }

  // --- Paging ------------------------------------------------------------------------------

  function itemsOf(part) {
    var selector = {
      "screen-proposals": "#cards > li",
      "screen-results": "#results .result",
      "screen-decision": "#decision > .slide-item",
    }[part];
    return selector ? Array.prototype.slice.call(document.querySelectorAll(selector)) : [];
  }

  function whatOf(part) {
    if (part === "screen-proposals") {
      return $("cards-h").textContent;
    }
    return part === "screen-results" ? $("results-h").firstChild.textContent.trim() : $("decision-h").firstChild.textContent.trim();
  }

  function overflows() {
    var stage = $("stage");
    return stage.scrollHeight > stage.clientHeight + 1 || document.documentElement.scrollWidth > window.innerWidth;
  }

  function paginate(items) {
    var pages = [];
    items.forEach(function (node) {
      node.hidden = true;
      node.classList.remove("is-wide", "is-dense", "is-tight");
    });
    var start = 0;
    while (start < items.length) {
      items[start].hidden = false;
      // A single item taller than the stage: the whole width, then a little tighter.
      ["is-wide", "is-dense", "is-tight"].forEach(function (name) {
        if (overflows()) {
          items[start].classList.add(name);
        }
      });
      var end = start + 1;
      while (end < items.length) {
        items[end].hidden = false;
        if (overflows()) {
          items[end].hidden = true;
          break;
        }
        end += 1;
      }
      for (var k = start; k < end; k += 1) {
        items[k].hidden = true;
      }
      pages.push([start, end]);
      start = end;
    }
    return pages.length ? pages : [[0, items.length]];
  }

  // Lay the part out again (new content or a new size) and show the current page.
  function repaginate(part) {
    var labels = document.querySelectorAll("[data-pager-label]");
    Array.prototype.forEach.call(labels, function (node) {
      MV.setText(node, "");
    });
    if (part === "screen-focus") {
      // One proposal as the slide: its large type, or smaller steps until it fits.
      var box = $("focus-card");
      box.classList.remove("is-dense", "is-tight");
      ["is-dense", "is-tight"].forEach(function (name) {
        if (overflows()) {
          box.classList.add(name);
        }
      });
    }
    if (!part || part === "screen-focus") {
      pager.part = part;
      pager.items = [];
      pager.pages = [[0, 0]];
      showPage();
      return;
    }
    // Measured again on every render: a longer title or the vote's progress line changes
    // the room the stage has. A dozen reflows, only when the state or the size changed.
    pager.part = part;
    pager.items = itemsOf(part);
    pager.what = whatOf(part);
    pager.pages = paginate(pager.items);
    showPage();
  }

  function currentPage() {
    var count = pager.pages.length;
    var page = pager.server + pager.local;
    return Math.max(0, Math.min(count - 1, page));
  }

  function showPage() {
    var page = currentPage();
    var range = pager.pages[page] || [0, 0];
    pager.items.forEach(function (node, index) {
      node.hidden = index < range[0] || index >= range[1];
    });
    var many = pager.pages.length > 1;
    var label = "";
    if (many) {
      var params = { first: range[0] + 1, last: range[1], total: pager.items.length };
      label = t(range[1] - range[0] === 1 ? "page_one" : "page_range", params);
    }
    var part = pager.part && $(pager.part);
    var target = part && part.querySelector("[data-pager-label]");
    if (target) {
      MV.setText(target, label);
    }
    MV.show($("page-keys"), many);
    if (label && page !== pager.shown) {
      MV.setText($("announcer"), pager.what + " " + label);
    }
    pager.shown = page;
  }

  // Turn a page here only (keys, auto-advance); wraps around when asked to.
  function turn(delta, wrap) {
    var count = pager.pages.length;
    if (count < 2) {
      return;
    }
    var page = currentPage() + delta;
    if (wrap) {
      page = (page + count) % count;
    }
    page = Math.max(0, Math.min(count - 1, page));
    pager.local = page - pager.server;
    showPage();
  }

  function setAuto(on) {
    if (on && autoTimer === null) {
      autoTimer = window.setInterval(function () {
        turn(1, true);
      }, AUTO_SECONDS * 1000);
    } else if (!on && autoTimer !== null) {
      window.clearInterval(autoTimer);
      autoTimer = null;
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var forward = event.key === "ArrowRight" || event.key === "PageDown";
    var back = event.key === "ArrowLeft" || event.key === "PageUp";
    if (forward || back) {
      event.preventDefault();
      turn(forward ? 1 : -1, false);
    }
  });

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      if (last) {
        repaginate(pager.part);
      }
    }, 100);
  });
})();
