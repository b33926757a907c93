/* The phone page: follow the room, send proposals, cast a ballot, see the results.
 *
 * The phone keeps a secret of its own in localStorage; proposals and ballots are keyed by it,
 * so the server never links a person to a vote in anonymous mode. A proposal carries a
 * client_id made once per draft, so sending it again after a reconnect never duplicates it.
 */
(function () {
  "use strict";

  var MV = window.MV;
  var t = MV.t;
  var el = MV.el;
  var E = MV.E;
  var data = MV.readJSON("page-data");
  var workshopId = data.workshop;

  var $ = function (id) {
    return document.getElementById(id);
  };
  var sections = {
    waiting: $("sec-waiting"),
    proposals: $("sec-forslag"),
    voting: $("sec-rostning"),
    results: $("sec-resultat"),
    end: $("sec-end"),
  };
  var proposalForm = $("proposal-form");
  var ballotForm = $("ballot-form");

  var secret = loadSecret();
  // A push after a missed one: fetch the whole state again, with this phone's own part.
  var gate = MV.seqGate(function () {
    refresh();
  });
  var timer = MV.countdown($("timer"));
  var stopped = false;

  var current = { state: null, own: null, key: null, goalId: null, phase: undefined };
  var myProposals = [];
  var pendingProposal = null;
  var pendingBallot = null;
  var latestBallot = null; // the ballot the person sent last; acks of older ones change nothing
  var ballotRevs = {}; // round id -> the last revision of its ballot this phone made
  var retriedBallot = null;
  // registered: the answers the server has acknowledged (or sent back as this phone's ballot);
  // each proposal's receipt compares the chosen answer with it, so "Registrerad" is never optimistic.
  var ballot = { key: null, dirty: false, voted: false, dots: {}, budget: 0, registered: {}, registeredRev: 0 };

  function loadSecret() {
    var key = "mv-secret-" + workshopId;
    var value = MV.storage.get(key);
    if (!value || value.length < 32) {
      value = MV.randomId(32);
      MV.storage.set(key, value);
    }
    return value;
  }

  // --- Connection ------------------------------------------------------------------------

  var socket = MV.connect(
    { workshop: workshopId, role: "people" },
    {
      connect: function () {
        gate.reset();
        typingGoal = null; // the server forgot this socket's typing with the old connection
        refresh().then(sendPending);
      },
      state: function (state) {
        render(state, null);
      },
      count: function (count) {
        var next = MV.applyCount(current.state, count);
        if (next) {
          render(next, null);
        } else if (!current.state || count.seq > current.state.seq) {
          refresh();
        }
      },
      refused: function (reason, text) {
        if (reason === "join_required") {
          stop(t("refused_join_required"), true);
        } else {
          stop(text, false);
        }
      },
      stopped: function () {
        return stopped;
      },
    }
  );

  socket.on("removed", function () {
    stop(t("removed"), false);
    socket.disconnect();
  });

  // The facilitator changed something about this person (e.g. made them an observer).
  socket.on("own:changed", function () {
    refresh();
  });

  // The first state:get binds this phone's secret to its person, apart from any vote; a
  // ballot waits for it, so the vote's write never has to name the person.
  var bound = false;

  function refresh() {
    return MV.request(socket, "state:get", { secret: secret }).then(function (ack) {
      if (ack.ok) {
        bound = true;
        render(ack.state, ack.own);
      }
    });
  }

  function stop(message, canRejoin) {
    stopped = true;
    Object.keys(sections).forEach(function (name) {
      MV.show(sections[name], name === "end");
    });
    MV.show($("leave-area"), false);
    MV.show($("timer"), false);
    MV.show($("conn"), false);
    MV.setText($("end-msg"), message);
    MV.show($("end-again"), canRejoin);
    $("end-msg").setAttribute("tabindex", "-1");
    $("end-msg").focus();
  }

  // --- Rendering -------------------------------------------------------------------------

  function stateKey(state) {
    var goal = state.goal;
    return [
      state.workshop.status,
      goal ? goal.id : "",
      goal ? goal.phase : "",
      state.vote ? state.vote.round_id : "",
      state.vote ? state.vote.open : "",
      state.people.count,
    ].join("|");
  }

  function render(state, own) {
    if (stopped) {
      return;
    }
    if (!gate(state)) {
      // An older snapshot: keep only its "own" part if it belongs to the same goal and round.
      if (own && stateKey(state) === current.key) {
        applyOwn(own);
      }
      return;
    }
    var key = stateKey(state);
    var changed = key !== current.key;
    var previous = current.phase;
    current.state = state;
    current.key = key;
    if (own) {
      applyOwn(own);
    }
    renderHead(state);
    timer.update(state);
    renderSections(state);
    var phase = state.goal ? state.goal.id + ":" + state.goal.phase : null;
    if (state.goal && previous !== undefined && phase !== previous) {
      MV.announce(
        t("goal_number", { number: state.goal.number }) + ". " + t("phase_now", { phase: state.goal.phase_label })
      );
    }
    current.phase = phase;
    // The goal, phase or roles changed: ask again for what belongs to this phone.
    if (changed && !own) {
      refresh();
    }
  }

  function applyOwn(own) {
    current.own = own;
    myProposals = own.my_proposals || [];
    renderMine();
    if (current.state) {
      renderBallot(current.state);
    }
  }

  function renderHead(state) {
    var goal = state.goal;
    var title = $("goal-title");
    MV.clear(title);
    if (goal) {
      title.appendChild(el("span", { class: "goal-number", text: t("goal_number", { number: goal.number }) }));
      title.appendChild(el("span", { class: "visually-hidden", text: ": " }));
      title.appendChild(document.createTextNode(goal.text));
    } else {
      title.textContent = title.getAttribute("data-default");
    }
    MV.show($("workshop-title"), !!goal);
    MV.show($("goal-meta"), !!goal);
    MV.renderGoal($("goal-head"), goal);
  }

  function renderSections(state) {
    var status = state.workshop.status;
    var goal = state.goal;
    var phase = goal ? goal.phase : null;
    var visible = "waiting";
    if (status === E.WorkshopStatus.CLOSED) {
      visible = "end";
      MV.setText($("end-msg"), t("closed"));
      MV.show($("end-again"), false);
    } else if (status !== E.WorkshopStatus.RUNNING || !goal) {
      MV.setText($("waiting-msg"), t("waiting_start"));
    } else if (phase === E.Phase.NOT_STARTED) {
      MV.setText($("waiting-msg"), t("waiting_goal"));
    } else if (phase === E.Phase.PROPOSALS) {
      visible = "proposals";
    } else if (phase === E.Phase.VOTING) {
      visible = "voting";
    } else {
      visible = "results";
    }
    Object.keys(sections).forEach(function (name) {
      MV.show(sections[name], name === visible);
    });
    MV.show($("leave-area"), status !== E.WorkshopStatus.CLOSED);
    if (goal && goal.id !== current.goalId) {
      current.goalId = goal.id;
      loadDraft(goal.id);
    }
    renderDraftKept(state);
    if (visible === "proposals") {
      renderPublished(state);
      renderMine();
    } else if (visible === "voting") {
      renderVote(state);
    } else if (visible === "results") {
      renderResults(state);
    }
  }

  // --- Proposals -------------------------------------------------------------------------

  function draftKey(goalId) {
    return "mv-draft-" + workshopId + "-" + goalId;
  }

  function readDraft(goalId) {
    try {
      return JSON.parse(MV.storage.get(draftKey(goalId)) || "null");
    } catch (err) {
      return null;
    }
  }

  function loadDraft(goalId) {
    var draft = readDraft(goalId);
    MV.clearErrors(proposalForm);
    MV.setText($("proposal-status"), "");
    MV.fillProposal(proposalForm, draft ? draft.proposal : {});
    proposalForm.dataset.clientId = draft && draft.client_id ? draft.client_id : "";
    // What the person wrote under "Fler uppgifter" stays in sight when the draft comes back.
    $("pf-more").open = !!(draft && hasMore(draft.proposal));
  }

  var MORE_FIELDS = ["indicator", "baseline_value", "baseline_year", "resources", "responsible"];

  function hasMore(proposal) {
    proposal = proposal || {};
    var criteria = proposal.criteria || {};
    return MORE_FIELDS.some(function (name) {
      return !!(proposal[name] && String(proposal[name]).trim());
    }) || Object.keys(criteria).some(function (name) {
      return !!criteria[name];
    });
  }

  /** A draft worth keeping: anything typed, not just the kind or a criterion. */
  function hasText(proposal) {
    proposal = proposal || {};
    return ["what", "rationale", "target_value", "target_date"].concat(MORE_FIELDS).some(function (name) {
      return !!(proposal[name] && String(proposal[name]).trim());
    });
  }

  /** An error on a field under "Fler uppgifter" opens it, so the person sees what to fix. */
  function showProposalErrors(ack) {
    var more = $("pf-more");
    var fields = (ack && ack.fields) || {};
    if (Object.keys(fields).some(function (name) { return more.querySelector('[data-field="' + name + '"]'); })) {
      more.open = true;
    }
    MV.showErrors(proposalForm, ack);
  }

  function saveDraft() {
    if (!current.goalId) {
      return;
    }
    if (!proposalForm.dataset.clientId) {
      proposalForm.dataset.clientId = MV.randomId(24);
    }
    MV.storage.set(
      draftKey(current.goalId),
      JSON.stringify({ client_id: proposalForm.dataset.clientId, proposal: MV.readProposal(proposalForm) })
    );
  }

  function clearDraft(goalId) {
    MV.storage.remove(draftKey(goalId));
    proposalForm.reset();
    MV.syncKind(proposalForm);
    proposalForm.dataset.clientId = "";
  }

  proposalForm.addEventListener("input", function (event) {
    saveDraft();
    if (event.target.type !== "radio") {
      typing(true); // keystrokes only: choosing the kind or a criterion is not typing
    }
  });
  proposalForm.addEventListener("change", function (event) {
    if (event.target.name === "kind") {
      MV.syncKind(proposalForm);
    }
    saveDraft();
  });

  function checkProposal(proposal) {
    var fields = {};
    if (proposal.kind === E.ProposalKind.AMBITION && !proposal.what) {
      fields.what = t("what_required");
    }
    if (proposal.kind === E.ProposalKind.DIRECTION && !proposal.rationale) {
      fields.rationale = t("rationale_required");
    }
    return Object.keys(fields).length ? { ok: false, error: t("form_invalid"), fields: fields } : null;
  }

  proposalForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var proposal = MV.readProposal(proposalForm);
    var problem = checkProposal(proposal);
    if (problem) {
      showProposalErrors(problem);
      return;
    }
    saveDraft();
    var payload = {
      goal_id: current.goalId,
      client_id: proposalForm.dataset.clientId,
      secret: secret,
      proposal: proposal,
    };
    sendProposal(payload);
  });

  function sendProposal(payload) {
    MV.clearErrors(proposalForm);
    if (!socket.connected) {
      pendingProposal = payload;
      MV.setText($("proposal-status"), t("pending"));
      return Promise.resolve();
    }
    var button = $("proposal-submit");
    button.disabled = true;
    MV.setText($("proposal-status"), t("sending"));
    return MV.request(socket, "proposal:add", payload).then(function (ack) {
      button.disabled = false;
      if (ack.ok) {
        pendingProposal = null;
        if (payload.goal_id === current.goalId && payload.client_id === proposalForm.dataset.clientId) {
          clearDraft(payload.goal_id);
        } else {
          MV.storage.remove(draftKey(payload.goal_id));
        }
        addMine(ack.proposal);
        typing(false);
        MV.setText($("proposal-status"), t("proposal_sent", { label: ack.proposal.label }));
      } else if (ack.code === "offline" || ack.code === "timeout") {
        pendingProposal = payload;
        MV.setText($("proposal-status"), t("pending"));
      } else {
        MV.setText($("proposal-status"), "");
        showProposalErrors(ack);
      }
    });
  }

  function addMine(proposal) {
    var known = myProposals.some(function (p) {
      return p.id === proposal.id;
    });
    if (!known) {
      myProposals.push(Object.assign({ status: E.ProposalStatus.ACTIVE }, proposal));
    }
    renderMine();
  }

  function publishedIds() {
    var ids = {};
    ((current.state && current.state.proposals) || []).forEach(function (p) {
      ids[p.id] = true;
    });
    return ids;
  }

  function renderMine() {
    var list = $("my-proposals");
    var shown = publishedIds();
    MV.clear(list);
    if (!myProposals.length) {
      list.appendChild(el("li", { class: "hint", text: t("no_own") }));
      return;
    }
    myProposals.forEach(function (p) {
      var badges = [el("span", { class: "badge badge--" + (p.status || E.ProposalStatus.ACTIVE), text: t("status_" + (p.status || E.ProposalStatus.ACTIVE)) })];
      if (shown[p.id]) {
        badges.push(el("span", { class: "badge badge--published", text: t("shown_to_all") }));
      }
      list.appendChild(MV.proposalCard(p, { badges: badges }));
    });
  }

  function renderPublished(state) {
    var list = $("published");
    var mine = {};
    myProposals.forEach(function (p) {
      mine[p.id] = true;
    });
    MV.clear(list);
    if (!state.proposals.length) {
      list.appendChild(el("li", { class: "hint", text: t("no_published") }));
      return;
    }
    state.proposals.forEach(function (p) {
      var badges = mine[p.id] ? [el("span", { class: "badge", text: t("yours") })] : [];
      list.appendChild(MV.proposalCard(p, { badges: badges }));
    });
  }

  // --- Typing, and a draft left when proposals close -------------------------------------

  // The console counts the phones typing a proposal (a count only): tell it on the first
  // keystroke, and that it has stopped after 10 s without one.
  var TYPING_IDLE_MS = 10000;
  var typingGoal = null;
  var typingTimer = null;

  function typing(on) {
    window.clearTimeout(typingTimer);
    typingTimer = null;
    var goalId = current.goalId;
    if (on) {
      typingTimer = window.setTimeout(function () {
        typing(false);
      }, TYPING_IDLE_MS);
      if (typingGoal === goalId) {
        return;
      }
      typingGoal = goalId;
    } else {
      if (typingGoal === null) {
        return;
      }
      goalId = typingGoal;
      typingGoal = null;
    }
    if (socket.connected) {
      socket.emit("proposal:typing", { goal_id: goalId, typing: !!on });
    }
  }

  var keptDrafts = {}; // goal id -> "kept" or "parked": what the person chose for this goal's draft

  function draftText(proposal) {
    var main = proposal.kind === E.ProposalKind.DIRECTION ? proposal.rationale : proposal.what;
    var rest = MV.proposalLines(proposal).filter(function (pair) {
      return pair[1] !== main;
    }).map(function (pair) {
      return pair[0] + ": " + pair[1];
    });
    return [main || ""].concat(rest).filter(Boolean).join("; ");
  }

  /** After proposals close for this goal, offer what to do with a draft still on the phone. */
  function renderDraftKept(state) {
    var box = $("draft-kept");
    var goal = state.goal;
    var closed = goal && [E.Phase.VOTING, E.Phase.RESULTS, E.Phase.DECIDED].indexOf(goal.phase) >= 0;
    var draft = closed ? readDraft(goal.id) : null;
    var choice = goal ? keptDrafts[goal.id] : null;
    var show = state.workshop.status === E.WorkshopStatus.RUNNING && closed && ((draft && hasText(draft.proposal)) || !!choice);
    if (goal && !closed && keptDrafts[goal.id] === "kept") {
      delete keptDrafts[goal.id]; // proposals open again: the draft is back in the form
    }
    var wasShown = !box.hidden;
    MV.show(box, !!show);
    if (!show) {
      return;
    }
    if (typingGoal !== null) {
      typing(false);
    }
    MV.show($("draft-kept-actions"), !choice);
    MV.setText($("draft-kept-text"), draft ? draftText(draft.proposal) : "");
    MV.show($("draft-kept-text"), !!draft && choice !== "parked");
    if (!choice) {
      MV.setText($("draft-kept-status"), "");
    }
    if (!wasShown && !choice) {
      MV.announce(t("draft_closed"));
    }
  }

  $("draft-keep").addEventListener("click", function () {
    var goal = current.state && current.state.goal;
    if (!goal) {
      return;
    }
    keptDrafts[goal.id] = "kept";
    MV.setText($("draft-kept-status"), t("draft_kept"));
    renderDraftKept(current.state);
  });

  $("draft-park").addEventListener("click", function () {
    var goal = current.state && current.state.goal;
    var draft = goal ? readDraft(goal.id) : null;
    if (!draft) {
      return;
    }
    var button = $("draft-park");
    button.disabled = true;
    MV.setText($("draft-kept-status"), t("sending"));
    MV.request(socket, "parking:draft", {
      goal_id: goal.id,
      text: draftText(draft.proposal),
      client_id: draft.client_id || "",
    }).then(function (ack) {
      button.disabled = false;
      if (ack.ok) {
        keptDrafts[goal.id] = "parked";
        MV.storage.remove(draftKey(goal.id));
        if (goal.id === current.goalId) {
          clearDraft(goal.id);
        }
        MV.setText($("draft-kept-status"), t("draft_parked"));
        renderDraftKept(current.state);
      } else {
        MV.setText($("draft-kept-status"), ack.error);
      }
    });
  });

  // --- Voting ----------------------------------------------------------------------------

  function renderVote(state) {
    var vote = state.vote;
    MV.setText($("vote-progress"), vote ? t("answered", { answered: vote.answered, total: vote.total }) : "");
    renderBallot(state);
  }

  function canVote() {
    return !current.own || current.own.participant.can_vote;
  }

  function renderBallot(state) {
    var vote = state.vote;
    if (!vote || !state.goal || state.goal.phase !== E.Phase.VOTING) {
      return;
    }
    var observer = current.own && !canVote();
    MV.show($("observer-note"), observer);
    MV.setText($("observer-note"), observer ? t("observer") : "");
    MV.show(ballotForm, !observer);
    var key = [vote.round_id, vote.method, vote.dot_budget].concat(
      vote.proposals.map(function (p) {
        return p.id;
      })
    ).join(",");
    if (key !== ballot.key) {
      MV.show($("vote-lost"), false);
      ballot = { key: key, dirty: false, voted: false, dots: {}, budget: vote.dot_budget, registered: {}, registeredRev: 0 };
      buildBallot(vote);
      MV.setText($("ballot-status"), "");
      pendingBallot = null;
    }
    if (current.own && current.own.my_ballot && (current.own.my_ballot_rev || 0) >= ballot.registeredRev) {
      ballot.registered = current.own.my_ballot;
      ballot.registeredRev = current.own.my_ballot_rev || 0;
      if (!ballot.dirty) {
        fillBallot(vote, current.own.my_ballot);
        ballot.voted = true;
      }
    }
    var open = vote.open;
    Array.prototype.forEach.call(ballotForm.querySelectorAll("input, button"), function (node) {
      if (!node.hasAttribute("data-dots")) {
        node.disabled = !open;
      }
    });
    updateDots();
    renderReceipts();
    if (!open) {
      MV.setText($("ballot-status"), t("vote_closed"));
    }
  }

  function buildBallot(vote) {
    var items = $("ballot-items");
    MV.clear(items);
    MV.clearErrors(ballotForm);
    MV.setText($("ballot-method"), t("how_" + vote.method, { budget: vote.dot_budget }));
    MV.show($("budget"), vote.method === E.VoteMethod.DOTS);
    vote.proposals.forEach(function (p) {
      items.appendChild(ballotItem(vote, p));
    });
    updateDots();
  }

  function proposalSummary(p) {
    var f = p.fields || {};
    var main = p.kind === E.ProposalKind.DIRECTION ? f.rationale : f.what;
    var lines = MV.proposalLines(f).filter(function (pair) {
      return pair[1] !== main;
    });
    return [
      el("p", { class: "proposal__main", text: main || "" }),
      el("p", {}, [el("span", { class: "badge badge--" + p.kind, text: t("kind_" + p.kind) })]),
      MV.linesList(lines),
    ];
  }

  // A radio styled as a large button: the label is the touch target, the radio keeps the
  // group's keyboard use and its checked state for screen readers.
  function radio(name, value, label, id) {
    return el("div", { class: "choice tap" }, [
      el("input", { type: "radio", name: name, value: String(value), id: id }),
      el("label", { attrs: { for: id }, text: label }),
    ]);
  }

  function ballotItem(vote, p) {
    var name = "v-" + p.id;
    var legend = el("legend", { text: p.label });
    var body = proposalSummary(p);
    var inputs;
    if (vote.method === E.VoteMethod.YES_NO) {
      inputs = el("div", { class: "taps taps--row" }, ["ja", "nej", "avstar"].map(function (v) {
        return radio(name, v, t("vote_" + v), name + "-" + v);
      }));
    } else if (vote.method === E.VoteMethod.SCORE) {
      inputs = el("div", {}, [
        el("p", { class: "hint", text: t("score_low") + ", " + t("score_high") }),
        el("div", { class: "taps taps--row" }, [1, 2, 3, 4, 5].map(function (n) {
          return radio(name, n, String(n), name + "-" + n);
        })),
      ]);
    } else if (vote.method === E.VoteMethod.GRADIENTS) {
      var labels = t("gradients");
      inputs = el("div", { class: "taps" }, [1, 2, 3, 4, 5].map(function (n) {
        return radio(name, n, labels[String(n)], name + "-" + n);
      }));
    } else if (vote.method === E.VoteMethod.DOTS) {
      inputs = dotStepper(p);
    } else {
      inputs = el("div", {}, MV.criteriaLabels().map(function (pair) {
        var c = pair[0];
        var group = name + "-" + c;
        return el("fieldset", { class: "criterion-group", data: { criterion: c } }, [
          el("legend", { text: pair[1] }),
          el("div", { class: "taps taps--row" }, [E.Assessment.YES, E.Assessment.PARTLY, E.Assessment.NO].map(function (v) {
            return radio(group, v, t("assessment_" + v), group + "-" + v);
          })),
        ]);
      }));
    }
    var receipt = el("p", { class: "receipt", data: { receipt: String(p.id) } });
    return el("fieldset", { class: "ballot-item", data: { proposal: String(p.id), label: p.label } }, [legend]
      .concat(body)
      .concat([inputs, receipt]));
  }

  function dotStepper(p) {
    var output = el("output", { id: "dots-" + p.id, text: "0", attrs: { "aria-label": t("dots_value", { label: p.label }) } });
    var minus = el("button", {
      type: "button",
      class: "button tap-button",
      text: "−",
      attrs: { "aria-label": t("dots_remove", { label: p.label }), "aria-controls": "dots-" + p.id },
      on: { click: function () { changeDots(p.id, -1); } },
    });
    var plus = el("button", {
      type: "button",
      class: "button tap-button",
      text: "+",
      attrs: { "aria-label": t("dots_add", { label: p.label }), "aria-controls": "dots-" + p.id },
      on: { click: function () { changeDots(p.id, 1); } },
    });
    minus.dataset.dots = "minus";
    plus.dataset.dots = "plus";
    minus.dataset.proposal = plus.dataset.proposal = String(p.id);
    return el("div", { class: "stepper" }, [minus, output, plus]);
  }

  function spentDots() {
    return Object.keys(ballot.dots).reduce(function (sum, id) {
      return sum + ballot.dots[id];
    }, 0);
  }

  function changeDots(id, delta) {
    var now = ballot.dots[id] || 0;
    var next = now + delta;
    if (next < 0 || (delta > 0 && spentDots() >= ballot.budget)) {
      return;
    }
    ballot.dots[id] = next;
    ballot.dirty = true;
    updateDots();
    sendChosen();
  }

  function updateDots() {
    if (!current.state || !current.state.vote || current.state.vote.method !== E.VoteMethod.DOTS) {
      return;
    }
    var left = ballot.budget - spentDots();
    MV.setText($("budget"), t("dots_left", { left: left, budget: ballot.budget }));
    var open = current.state.vote.open;
    Array.prototype.forEach.call(ballotForm.querySelectorAll("[data-dots]"), function (button) {
      var id = button.dataset.proposal;
      var value = ballot.dots[id] || 0;
      MV.setText($("dots-" + id), String(value));
      var blocked = button.dataset.dots === "plus" ? left <= 0 : value <= 0;
      button.disabled = !open || blocked;
    });
  }

  function fillBallot(vote, answers) {
    vote.proposals.forEach(function (p) {
      var value = answers[String(p.id)];
      if (value === undefined || value === null) {
        return;
      }
      if (vote.method === E.VoteMethod.DOTS) {
        ballot.dots[p.id] = Number(value) || 0;
      } else if (vote.method === E.VoteMethod.CRITERIA) {
        Object.keys(value).forEach(function (c) {
          check("v-" + p.id + "-" + c, value[c]);
        });
      } else {
        check("v-" + p.id, value);
      }
    });
    updateDots();
  }

  function check(name, value) {
    var input = ballotForm.querySelector('input[name="' + name + '"][value="' + String(value) + '"]');
    if (input) {
      input.checked = true;
    }
  }

  function checked(name) {
    var input = ballotForm.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  /**
   * Collect what the person has chosen as {"<proposal id>": value}. A proposal under
   * kriteriebedömning counts only once all three criteria are chosen (the server takes no
   * partial assessment), so a half-answered one is simply not sent yet.
   */
  function readBallot(vote) {
    var answers = {};
    vote.proposals.forEach(function (p) {
      var name = "v-" + p.id;
      if (vote.method === E.VoteMethod.YES_NO) {
        if (checked(name)) {
          answers[p.id] = checked(name);
        }
      } else if (vote.method === E.VoteMethod.SCORE || vote.method === E.VoteMethod.GRADIENTS) {
        if (checked(name)) {
          answers[p.id] = parseInt(checked(name), 10);
        }
      } else if (vote.method === E.VoteMethod.DOTS) {
        if (ballot.dots[p.id]) {
          answers[p.id] = ballot.dots[p.id];
        }
      } else {
        var values = {};
        var count = 0;
        MV.CRITERIA.forEach(function (c) {
          var v = checked(name + "-" + c);
          if (v) {
            values[c] = v;
            count += 1;
          }
        });
        if (count === MV.CRITERIA.length) {
          answers[p.id] = values;
        }
      }
    });
    return answers;
  }

  function sameAnswer(a, b) {
    if (a === undefined || a === null || b === undefined || b === null) {
      return false;
    }
    if (typeof a === "object" || typeof b === "object") {
      return typeof a === "object" && typeof b === "object" && MV.CRITERIA.every(function (c) {
        return a[c] === b[c];
      });
    }
    return String(a) === String(b);
  }

  /** Show, per proposal, whether the chosen answer is registered, on its way, or waiting. */
  function renderReceipts() {
    var vote = current.state && current.state.vote;
    if (!vote) {
      return;
    }
    var chosen = readBallot(vote);
    var waiting = !!pendingBallot;
    var sending = !!latestBallot && latestBallot.round_id === vote.round_id && latestBallot !== ballot.acked && !waiting;
    Array.prototype.forEach.call(ballotForm.querySelectorAll("[data-receipt]"), function (node) {
      var id = node.getAttribute("data-receipt");
      var answer = chosen[id];
      var state = "";
      if (answer !== undefined && sameAnswer(answer, ballot.registered[id])) {
        state = "ok";
      } else if (answer !== undefined && waiting) {
        state = "waiting";
      } else if (answer !== undefined && sending) {
        state = "sending";
      }
      node.setAttribute("data-state", state);
      MV.setText(node, state === "ok" ? t("vote_registered") : state === "waiting" ? t("vote_pending") : state === "sending" ? t("sending") : "");
    });
  }

  /** A tap is the vote: send everything chosen so far as the next revision of the ballot. */
  function sendChosen() {
    var vote = current.state && current.state.vote;
    if (!vote || !vote.open || !canVote()) {
      return;
    }
    var answers = readBallot(vote);
    if (!Object.keys(answers).length) {
      // The server keeps the last ballot: an empty one is not a ballot (e.g. every dot removed).
      MV.setText($("ballot-status"), Object.keys(ballot.registered).length ? t("ballot_empty_kept") : "");
      renderReceipts();
      return;
    }
    sendBallot(newBallot(vote.round_id, answers));
  }


  ballotForm.addEventListener("change", function () {
    ballot.dirty = true;
    sendChosen();
  });

  ballotForm.addEventListener("submit", function (event) {
    event.preventDefault();
  });

  /**
   * Make a revision of this phone's ballot: a fresh vote_id and a rev above any this phone or
   * the server knows of, so a late copy of an older one can never overwrite it.
   */
  function newBallot(roundId, answers) {
    var known = (current.own && current.own.my_ballot_rev) || 0;
    var rev = Math.max(ballotRevs[roundId] || 0, known) + 1;
    ballotRevs[roundId] = rev;
    latestBallot = {
      round_id: roundId,
      secret: secret,
      answers: answers,
      vote_id: MV.randomId(16),
      rev: rev,
    };
    return latestBallot;
  }

  function sendBallot(payload) {
    MV.clearErrors(ballotForm);
    if (!socket.connected) {
      pendingBallot = payload;
      MV.setText($("ballot-status"), t("vote_pending"));
      renderReceipts();
      return Promise.resolve();
    }
    MV.setText($("ballot-status"), t("sending"));
    renderReceipts();
    if (!bound) {
      return refresh().then(function () {
        if (bound) {
          return sendBallot(payload);
        }
        pendingBallot = payload; // sent after the next (re)connect's state:get
        MV.setText($("ballot-status"), t("vote_pending"));
      });
    }
    return MV.request(socket, "vote:cast", payload).then(function (ack) {
      if (payload !== latestBallot) {
        return; // the person has tapped again since; that revision's ack tells the outcome
      }
      if (ack.ok && ack.stale && payload !== retriedBallot) {
        // The server holds a newer revision (e.g. from another tab): this one is the latest
        // the person made here, so send it again above that revision.
        ballotRevs[payload.round_id] = Math.max(ballotRevs[payload.round_id] || 0, ack.rev);
        retriedBallot = newBallot(payload.round_id, payload.answers);
        return sendBallot(retriedBallot);
      }
      if (ack.ok) {
        pendingBallot = null;
        ballot.voted = true;
        ballot.dirty = false;
        ballot.acked = payload;
        ballot.registered = payload.answers;
        ballot.registeredRev = ack.rev || payload.rev;
        if (current.own) {
          current.own.my_ballot = payload.answers;
          current.own.my_ballot_rev = ack.rev;
        }
        MV.setText($("ballot-status"), t("vote_saved"));
      } else if (ack.code === "offline" || ack.code === "timeout") {
        pendingBallot = payload;
        MV.setText($("ballot-status"), t("vote_pending"));
      } else if (ack.code === "closed" && pendingBallot === payload) {
        ballotLost();
      } else if (ack.code === "unbound" && !payload.rebound) {
        // The server did not know this phone's secret yet: fetch the state (which binds it)
        // and send the same ballot once more.
        payload.rebound = true;
        bound = false;
        return sendBallot(payload);
      } else {
        ballot.acked = payload; // answered, if not accepted: nothing is on its way
        MV.setText($("ballot-status"), "");
        MV.showErrors(ballotForm, ack);
      }
      renderReceipts();
    });
  }

  /** After a reconnect, send what the person submitted while the phone was offline. */
  function sendPending() {
    if (pendingProposal) {
      sendProposal(pendingProposal);
    }
    if (pendingBallot) {
      var vote = current.state && current.state.vote;
      if (vote && vote.open && vote.round_id === pendingBallot.round_id) {
        sendBallot(pendingBallot);
      } else {
        ballotLost();
      }
    }
  }

  /** A ballot made offline could not be sent before the vote closed: say so where it shows. */
  function ballotLost() {
    pendingBallot = null;
    renderReceipts();
    MV.setText($("ballot-status"), t("vote_not_sent"));
    MV.setText($("vote-lost"), t("vote_not_sent"));
    MV.show($("vote-lost"), true);
    MV.announce(t("vote_not_sent"));
  }

  // --- Results ---------------------------------------------------------------------------

  function renderResults(state) {
    var proposals = state.vote ? state.vote.proposals : state.proposals;
    MV.show($("results-empty"), !state.results);
    MV.setText($("results-empty"), state.results ? "" : t("no_results"));
    MV.renderResults($("results"), state.results, proposals, { shorten: 70 });
    MV.renderDecision($("decision"), state.goal.phase === E.Phase.DECIDED ? state.decision : null, "h2");
  }

  // --- Leaving ---------------------------------------------------------------------------

  $("leave").addEventListener("click", function () {
    if (!window.confirm(t("confirm_leave"))) {
      return;
    }
    MV.request(socket, "participant:leave", {}).then(function (ack) {
      if (ack.ok) {
        stop(t("left"), true);
        socket.disconnect();
      } else {
        MV.announce(ack.error);
        window.alert(ack.error);
      }
    });
  });

  MV.syncKind(proposalForm);
})();
