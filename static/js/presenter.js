/* The projector view: the current goal, phase, timer, published proposals and results.
 *
 * It gets the public state only, which carries no tally before the facilitator reveals it.
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

  // A push after a missed one: fetch the whole state again.
  var gate = MV.seqGate(function () {
    fetchState();
  });
  var timer = MV.countdown($("timer"));
  var signatures = {};

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
    var goal = state.goal;
    var mode = layout(state);
    $("screen").className = "screen screen--" + mode;
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

    var phase = showGoal ? goal.phase : null;
    renderProposals(state, phase);
    renderVote(state, phase);
    renderResults(state, phase);
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
    var show = phase === E.Phase.PROPOSALS || voting;
    MV.show($("screen-proposals"), show);
    if (!show) {
      return;
    }
    var proposals = voting && state.vote ? state.vote.proposals : state.proposals;
    MV.setText($("cards-h"), voting ? t("voting_on") : t("proposals_heading"));
    if (!changed("cards", [proposals, voting])) {
      return;
    }
    var list = MV.clear($("cards"));
    if (!proposals.length) {
      list.appendChild(el("li", { class: "lead", text: t("no_published") }));
      return;
    }
    proposals.forEach(function (p) {
      list.appendChild(MV.proposalCard(p, { heading: "h3" }));
    });
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
    var show = (phase === E.Phase.RESULTS || phase === E.Phase.DECIDED) && !!state.results;
    MV.show($("screen-results"), show);
    var decided = phase === E.Phase.DECIDED && !!state.decision;
    MV.show($("screen-decision"), decided);
    if (changed("results", [show ? state.results : null, state.vote && state.vote.proposals])) {
      var proposals = state.vote ? state.vote.proposals : state.proposals;
      MV.renderResults($("results"), show ? state.results : null, proposals, { textOpen: true, shorten: 120 });
    }
    if (changed("decision", decided ? state.decision : null)) {
      MV.renderDecision($("decision"), decided ? state.decision : null, "h2");
    }
  }
})();
