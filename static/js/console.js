/* The facilitator's console: run the agenda, phases, timer, moderation and decisions.
 *
 * Every change goes out as a Socket.IO event with an acknowledgement; the console renders
 * only from the "state" the server pushes back (ignoring one older than the last rendered).
 * Forms are server-rendered and never rebuilt, so typed text survives every push.
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

  // A push after a missed one: fetch the whole state again.
  var gate = MV.seqGate(function () {
    fetchState();
  });
  var timer = MV.countdown($("timer"), function () {
    MV.announce(t("timer_over"));
  });
  var state = null;
  var online = null;
  var signatures = {};
  var selected = {};
  var open = { edit: null, hide: null };
  var goalId = null;
  var decisionDirty = false;
  var addClientId = null;
  var amending = false;
  var busy = false;

  var socket = MV.connect(
    { workshop: workshopId, role: "facilitator" },
    {
      connect: function () {
        gate.reset();
        fetchState();
      },
      state: render,
      refused: function (reason, text) {
        alertError({ error: text });
      },
    }
  );

  // Parts of the page with scripts of their own (the time plan) send on this socket.
  MV.consoleSocket = socket;

  function fetchState() {
    MV.request(socket, "state:get", {}).then(function (ack) {
      if (ack.ok) {
        render(ack.state);
      } else {
        alertError(ack);
      }
    });
  }

  /** Render only what changed since the last state, keyed by a signature per part. */
  function changed(name, value) {
    var signature = JSON.stringify(value);
    if (signatures[name] === signature) {
      return false;
    }
    signatures[name] = signature;
    return true;
  }

  // --- Sending -----------------------------------------------------------------------------

  function alertError(ack) {
    var box = $("console-alert");
    box.textContent = ack.error || t("error_generic");
    box.hidden = false;
  }

  function clearAlert() {
    $("console-alert").hidden = true;
  }

  /** Send an event; show an error ack in the form (or the alert box) and resolve to the ack. */
  function send(event, payload, form) {
    if (form) {
      MV.clearErrors(form);
    }
    return MV.request(socket, event, payload).then(function (ack) {
      if (ack.ok) {
        clearAlert();
      } else if (form) {
        MV.showErrors(form, ack);
      } else {
        alertError(ack);
      }
      return ack;
    });
  }

  function formStatus(form, text) {
    var node = form.querySelector("[data-status]");
    if (node) {
      MV.setText(node, text);
    }
  }

  // --- Rendering ---------------------------------------------------------------------------

  function render(next) {
    if (!gate(next)) {
      return;
    }
    state = next;
    document.dispatchEvent(new CustomEvent("mv:state", { detail: next }));
    if (typeof next.people.online === "number") {
      online = next.people.online;
    }
    timer.update(state);
    renderWorkshop();
    if (changed("agenda", [state.agenda, state.goal && state.goal.id])) {
      MV.keepFocus($("agenda"), renderAgenda);
    }
    renderGoal();
    if (changed("people", [state.participants, state.people, online, state.workshop.anonymous])) {
      MV.keepFocus($("people"), renderPeople);
    }
    if (changed("proposals", [state.all_proposals, state.goal && state.goal.phase])) {
      MV.keepFocus($("proposals"), renderProposals);
    }
    renderVote();
    renderCounts();
    renderDecision();
    renderNext();
    if (changed("parking", [state.parking, state.agenda, state.goal && state.goal.id])) {
      renderParking();
    }
  }

  function renderWorkshop() {
    var status = state.workshop.status;
    var badge = $("ws-status");
    if (changed("status", status)) {
      MV.clear(badge).appendChild(el("span", { class: "badge badge--" + status, text: t("status_" + status) }));
    }
    MV.show($("ws-start"), status === E.WorkshopStatus.DRAFT);
    MV.show($("ws-close"), status === E.WorkshopStatus.RUNNING);
    MV.show($("ws-reopen"), status === E.WorkshopStatus.CLOSED);
  }

  function renderAgenda() {
    var list = MV.clear($("agenda"));
    var currentId = state.goal ? state.goal.id : null;
    state.agenda.forEach(function (goal) {
      var isCurrent = goal.id === currentId;
      var phase = goal.phase_label + (goal.decided ? " · " + t("decided") : "");
      list.appendChild(
        el("li", { attrs: { "aria-current": isCurrent ? "true" : null } }, [
          el("span", { class: "agenda__text" }, [
            el("strong", { text: t("goal_number", { number: goal.number }) + ". " }),
            MV.shorten(goal.text, 70),
            el("span", { class: "agenda__phase", text: isCurrent ? t("current_goal") + " · " + phase : phase }),
          ]),
          el("button", {
            type: "button",
            class: "button button--small",
            text: t("select_goal"),
            disabled: isCurrent,
            attrs: { "aria-label": t("select_goal_label", { number: goal.number }), "data-key": "goal-" + goal.id },
            on: {
              click: function () {
                send("goal:select", { goal_id: goal.id });
              },
            },
          }),
        ])
      );
    });
  }

  function renderGoal() {
    var goal = state.goal;
    MV.show($("goal-box"), !!goal);
    MV.show($("goal-none"), !goal);
    MV.setText($("goal-none"), goal ? "" : t("no_goal"));
    MV.show($("proposals-section"), !!goal);
    MV.show($("decision-section"), !!goal && atDecision(goal));
    MV.renderGoal($("goal-box"), goal);
    if (!goal) {
      goalId = null;
      return;
    }
    if (goal.id !== goalId) {
      goalId = goal.id;
      resetGoalForms();
    }
    var order = [E.Phase.PROPOSALS, E.Phase.VOTING, E.Phase.RESULTS, E.Phase.DECIDED];
    var index = order.indexOf(goal.phase);
    Array.prototype.forEach.call($("phase-steps").children, function (li) {
      var i = order.indexOf(li.getAttribute("data-phase"));
      if (i === index) {
        li.setAttribute("aria-current", "step");
      } else {
        li.removeAttribute("aria-current");
      }
      if (i < index) {
        li.setAttribute("data-done", "");
      } else {
        li.removeAttribute("data-done");
      }
    });
    var running = state.workshop.status === E.WorkshopStatus.RUNNING;
    var hasVote = !!state.live_tally;
    Array.prototype.forEach.call($("phase-actions").querySelectorAll("[data-when]"), function (node) {
      node.hidden = !running || node.getAttribute("data-when") !== goal.phase;
    });
    Array.prototype.forEach.call($("phase-actions").querySelectorAll("[data-needs-vote]"), function (node) {
      node.hidden = !hasVote;
    });
    if (changed("phase", goal.id + ":" + goal.phase)) {
      MV.setText($("phase-live"), t("phase_now", { phase: goal.phase_label }));
    }
  }

  function resetGoalForms() {
    closeInline();
    selected = {};
    MV.Merge.close();
    MV.fillProposal($("decision-form"), {});
    MV.clearErrors($("decision-form"));
    formStatus($("decision-form"), "");
    MV.clear($("dissent-list"));
    decisionDirty = false;
    amending = false;
    signatures.decisionPrefill = null;
  }

  // --- People ------------------------------------------------------------------------------

  function renderPeople() {
    var people = state.people;
    var counts = t("people_counts", { count: people.count, observers: people.observers || 0 });
    if (online !== null) {
      counts += " · " + t("people_online", { online: online });
    }
    MV.setText($("people-count"), counts);
    // A count only, never who (people.typing is 0 unless the goal takes proposals).
    MV.setText($("typing-count"), people.typing ? t("typing_count", { n: people.typing }) : "");
    MV.show($("typing-count"), !!people.typing);
    var list = MV.clear($("people"));
    if (!state.participants.length) {
      list.appendChild(el("li", { class: "hint", text: t("no_people") }));
      return;
    }
    state.participants.forEach(function (person, i) {
      var name = person.name || t("person_anon", { n: i + 1 });
      var observer = person.role === E.Role.OBSERVER;
      var roleAction = observer ? t("make_participant") : t("make_observer");
      list.appendChild(
        el("li", {}, [
          el("span", { class: "person__name" }, [
            name,
            observer ? " " : null,
            observer ? el("span", { class: "badge", text: t("observer_badge") }) : null,
            person.left ? el("span", { class: "hint", text: " (" + t("person_left") + ")" }) : null,
          ]),
          el("button", {
            type: "button",
            class: "button button--small",
            text: roleAction,
            attrs: { "aria-label": t("person_label", { action: roleAction, name: name }), "data-key": "role-" + person.id },
            on: {
              click: function () {
                send("participant:update", { id: person.id, role: observer ? E.Role.PARTICIPANT : E.Role.OBSERVER });
              },
            },
          }),
          el("button", {
            type: "button",
            class: "button button--small button--danger",
            text: t("remove"),
            attrs: { "aria-label": t("person_label", { action: t("remove"), name: name }), "data-key": "remove-" + person.id },
            on: {
              click: function () {
                if (window.confirm(t("confirm_remove", { name: name }))) {
                  send("participant:update", { id: person.id, removed: true });
                }
              },
            },
          }),
        ])
      );
    });
  }

  // --- Proposals ---------------------------------------------------------------------------

  function byId(id) {
    return (state.all_proposals || []).filter(function (p) {
      return p.id === id;
    })[0];
  }

  function byLabel(label) {
    return (state.all_proposals || []).filter(function (p) {
      return p.label === label;
    })[0];
  }

  function labelLinks(labels) {
    var nodes = [];
    labels.forEach(function (label, i) {
      if (i) {
        nodes.push(", ");
      }
      nodes.push(el("a", { href: "#prop-" + label, text: label }));
    });
    return nodes;
  }

  function actionButton(key, text, label, onClick, extraClass) {
    return el("button", {
      type: "button",
      class: "button button--small" + (extraClass ? " " + extraClass : ""),
      text: text,
      attrs: { "data-key": key, "aria-label": text + " " + label },
      on: { click: onClick },
    });
  }

  function proposalActions(p, locked) {
    var actions = [];
    if (p.status === E.ProposalStatus.ACTIVE || p.published) {
      actions.push(
        actionButton("pub-" + p.id, p.published ? t("unpublish") : t("publish"), p.label, function () {
          send("proposal:publish", { ids: [p.id], published: !p.published });
        })
      );
    }
    if (locked) {
      return actions;
    }
    if (p.status === E.ProposalStatus.ACTIVE) {
      actions.push(actionButton("edit-" + p.id, t("edit"), p.label, function () {
        openInline("edit", p);
      }));
      actions.push(actionButton("hide-" + p.id, t("hide"), p.label, function () {
        openInline("hide", p);
      }, "button--danger"));
      actions.push(actionButton("park-" + p.id, t("park"), p.label, function () {
        send("proposal:park", { id: p.id });
      }));
    } else if (p.status === E.ProposalStatus.HIDDEN || p.status === E.ProposalStatus.PARKED) {
      actions.push(actionButton("restore-" + p.id, t("restore"), p.label, function () {
        send("proposal:restore", { id: p.id });
      }));
    }
    return actions;
  }

  function proposalNode(p, locked) {
    var badges = [
      el("span", { class: "badge badge--" + p.status, text: t("p_status_" + p.status) }),
      el("span", { class: "badge" + (p.published ? " badge--published" : ""), text: p.published ? t("published") : t("unpublished") }),
    ];
    if (p.edited) {
      badges.push(el("span", { class: "badge badge--edited", text: t("edited_badge") }));
    }
    var extra = [];
    if (p.merged_from && p.merged_from.length) {
      extra.push(el("p", { class: "proposal__note" }, [t("merged_from_label") + ": "].concat(labelLinks(p.merged_from))));
    }
    if (p.merged_into) {
      extra.push(el("p", { class: "proposal__note" }, [t("merged_into") + ": "].concat(labelLinks([p.merged_into]))));
    }
    if (p.hidden_reason) {
      extra.push(el("p", { class: "proposal__note", text: t("hidden_reason", { reason: p.hidden_reason }) }));
    }
    if (p.original) {
      extra.push(
        el("details", {}, [
          el("summary", { text: t("original") }),
          el("p", { class: "proposal__note", text: t("kind_" + (p.original.kind || p.kind)) }),
          MV.linesList(MV.proposalLines(p.original)),
          el("p", { class: "proposal__note", text: MV.criteriaText(p.original.criteria) }),
        ])
      );
    }
    extra.push(el("div", { class: "proposal__actions" }, proposalActions(p, locked)));
    var card = MV.proposalCard(p, {
      badges: badges,
      extra: extra,
      id: "prop-" + p.label,
      className: "proposal--" + p.status,
      mergedLinks: true,
      hideEdited: true,
    });
    if (p.status === E.ProposalStatus.ACTIVE && !locked) {
      var box = el("input", {
        type: "checkbox",
        id: "sel-" + p.id,
        checked: !!selected[p.id],
        attrs: { "data-key": "sel-" + p.id },
        on: {
          change: function (event) {
            if (event.target.checked) {
              selected[p.id] = true;
            } else {
              delete selected[p.id];
            }
          },
        },
      });
      var head = card.querySelector(".proposal__head");
      head.insertBefore(
        el("span", { class: "choice" }, [
          box,
          el("label", { attrs: { for: "sel-" + p.id }, class: "visually-hidden", text: t("select_for_merge", { label: p.label }) }),
        ]),
        head.firstChild
      );
    }
    card.setAttribute("data-id", String(p.id));
    return card;
  }

  /** Rebuild the list around a card that holds an open form, which never moves (keeps focus). */
  function renderProposals() {
    var list = $("proposals");
    var proposals = state.all_proposals || [];
    var locked = !!(state.goal && state.goal.phase === E.Phase.VOTING);
    MV.setText($("proposal-count"), proposals.length ? t("proposal_count", { n: proposals.length }) : "");
    MV.show($("moderation-note"), locked);
    MV.setText($("moderation-note"), locked ? t("moderation_locked") : "");
    $("merge-start").disabled = locked;
    var openId = open.edit || open.hide;
    var pinned = openId ? list.querySelector('[data-id="' + openId + '"]') : null;
    var pinnedProposal = openId ? byId(openId) : null;
    if (pinned && (!pinnedProposal || pinnedProposal.status !== E.ProposalStatus.ACTIVE || locked)) {
      closeInline();
      pinned = null;
    }
    Array.prototype.slice.call(list.children).forEach(function (child) {
      if (child !== pinned) {
        list.removeChild(child);
      }
    });
    if (!proposals.length) {
      list.appendChild(el("li", { class: "hint", text: t("no_proposals") }));
      return;
    }
    var before = true;
    proposals.forEach(function (p) {
      if (pinned && p.id === openId) {
        before = false;
        return;
      }
      var node = proposalNode(p, locked);
      if (pinned && before) {
        list.insertBefore(node, pinned);
      } else {
        list.appendChild(node);
      }
    });
  }

  function openInline(kind, p) {
    closeInline();
    var form = kind === "edit" ? $("edit-form") : $("hide-form");
    var card = $("proposals").querySelector('[data-id="' + p.id + '"]');
    if (!card) {
      return;
    }
    open[kind] = p.id;
    MV.clearErrors(form);
    if (kind === "edit") {
      MV.setText($("edit-h"), t("edit_title", { label: p.label }));
      MV.fillProposal(form, p);
    } else {
      MV.setText($("hide-h"), t("hide_title", { label: p.label }));
      form.reset();
    }
    card.appendChild(form);
    var first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (kind === "edit") {
      first = form.querySelector('input[name="kind"]:checked') || first;
    }
    first.focus();
  }

  function closeInline() {
    var returnTo = open.edit || open.hide;
    var home = $("form-home");
    [$("edit-form"), $("hide-form")].forEach(function (form) {
      if (form.parentNode !== home) {
        home.appendChild(form);
      }
    });
    open.edit = null;
    open.hide = null;
    return returnTo;
  }

  /** Re-render the list now; a card that held an open form missed the pushes meanwhile. */
  function refreshProposals() {
    signatures.proposals = null;
    if (state) {
      MV.keepFocus($("proposals"), renderProposals);
    }
  }

  function cancelInline() {
    var id = closeInline();
    refreshProposals();
    var button = id && $("proposals").querySelector('[data-key="edit-' + id + '"]');
    if (button) {
      button.focus();
    }
  }

  $("edit-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    send("proposal:edit", { id: open.edit, proposal: MV.readProposal(form) }, form).then(function (ack) {
      if (ack.ok) {
        MV.announce(t("saved"));
        cancelInline();
      }
    });
  });

  $("hide-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var reason = [form.elements.reason.value, form.elements.text.value.trim()].filter(Boolean).join(" – ");
    var id = open.hide;
    send("proposal:hide", { id: id, reason: reason }, form).then(function (ack) {
      if (ack.ok) {
        closeInline();
        refreshProposals();
        MV.announce(t("saved"));
      }
    });
  });

  ["edit-form", "hide-form"].forEach(function (id) {
    $(id).querySelector("[data-cancel]").addEventListener("click", cancelInline);
  });

  $("publish-all").addEventListener("click", function () {
    var ids = (state.all_proposals || [])
      .filter(function (p) {
        return p.status === E.ProposalStatus.ACTIVE && !p.published;
      })
      .map(function (p) {
        return p.id;
      });
    if (ids.length) {
      send("proposal:publish", { ids: ids, published: true });
    }
  });

  // --- Merging -----------------------------------------------------------------------------

  // The dialog lives in static/js/merge.js; the server says where the sources differ.
  $("merge-start").addEventListener("click", function () {
    var chosen = (state.all_proposals || []).filter(function (p) {
      return selected[p.id] && p.status === E.ProposalStatus.ACTIVE;
    });
    if (chosen.length < 2) {
      alertError({ error: t("merge_need_two") });
      return;
    }
    clearAlert();
    MV.Merge.open(chosen.map(function (p) {
      return p.id;
    }), {
      request: function (event, payload) {
        return MV.request(socket, event, payload);
      },
      onError: alertError,
      opener: $("merge-start"),
      onMerged: function (ack) {
        selected = {};
        refreshProposals();
        MV.announce(t("merged", { label: ack.proposal.label }));
      },
    });
  });

  // --- The facilitator's own proposal ------------------------------------------------------

  $("add-form").addEventListener("input", function () {
    addClientId = addClientId || MV.randomId(24);
  });

  $("add-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    if (!state || !state.goal) {
      return;
    }
    addClientId = addClientId || MV.randomId(24);
    var payload = { goal_id: state.goal.id, client_id: addClientId, proposal: MV.readProposal(form) };
    formStatus(form, "");
    send("proposal:add", payload, form).then(function (ack) {
      if (ack.ok) {
        addClientId = null;
        form.reset();
        MV.syncKind(form);
        formStatus(form, t("proposal_added", { label: ack.proposal.label }));
      }
    });
  });

  // --- Phases, workshop, timer -------------------------------------------------------------

  $("phase-actions").addEventListener("click", function (event) {
    var button = event.target.closest("[data-phase-to]");
    if (!button || !state || !state.goal) {
      return;
    }
    if (button.hasAttribute("data-confirm-back") && !window.confirm(t("confirm_step_back"))) {
      return;
    }
    send("phase:set", { goal_id: state.goal.id, phase: button.getAttribute("data-phase-to") });
  });

  $("vote-method").addEventListener("change", function () {
    renderNext();
  });

  $("ws-start").addEventListener("click", function () {
    send("workshop:start", {});
  });
  $("ws-close").addEventListener("click", function () {
    if (window.confirm(t("confirm_close"))) {
      send("workshop:close", {});
    }
  });
  $("ws-reopen").addEventListener("click", function () {
    send("workshop:reopen", {});
  });

  $("timer-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var minutes = parseFloat(String(form.elements.minutes.value).replace(",", "."));
    if (!(minutes >= 1 && minutes <= 60)) {
      MV.showErrors(form, { error: t("timer_minutes_invalid"), fields: {} });
      return;
    }
    send("timer:set", { action: "start", seconds: Math.round(minutes * 60) }, form).then(function (ack) {
      if (ack.ok) {
        MV.announce(t("timer_started", { time: MV.formatSeconds(minutes * 60) }));
      }
    });
  });
  $("timer-add").addEventListener("click", function () {
    send("timer:set", { action: "add" }, $("timer-form"));
  });
  $("timer-stop").addEventListener("click", function () {
    send("timer:set", { action: "stop" }, $("timer-form"));
  });

  // --- Voting and the live tally -----------------------------------------------------------

  function renderVote() {
    var vote = state.vote;
    var tally = state.live_tally;
    var info = "";
    if (vote) {
      info = t("vote_info", { number: vote.number, method: vote.method_label }) + " " +
        (vote.open ? t("vote_open") : t("vote_closed"));
    } else if (!tally) {
      info = t("no_vote");
    }
    MV.setText($("vote-info"), info);
    MV.setText($("vote-progress"), vote ? t("answered", { answered: vote.answered, total: vote.total }) : "");
    MV.show($("vote-progress-sep"), !!vote);
    MV.show($("tally-box"), !!tally);
    if (!tally) {
      signatures.tally = null;
      return;
    }
    var revealed = !!state.results;
    $("tally-box").className = revealed ? "card" : "private";
    MV.setText($("tally-label"), revealed ? t("tally_public") : t("tally_private"));
    $("tally-label").className = revealed ? "hint" : "private__label";
    if (changed("tally", [tally, state.all_proposals])) {
      MV.renderResults($("tally"), tally, state.all_proposals, { shorten: 60 });
    }
    renderNamedVotes(state.named_votes || []);
  }

  // Named mode only: who answered what (everyone was told before joining).
  function renderNamedVotes(rows) {
    MV.show($("named-votes-box"), rows.length > 0);
    if (!changed("named", [rows])) {
      return;
    }
    var list = $("named-votes");
    MV.clear(list);
    rows.forEach(function (row) {
      var item = document.createElement("li");
      var name = document.createElement("strong");
      name.textContent = row.name + ": ";
      item.appendChild(name);
      item.appendChild(document.createTextNode(row.text));
      list.appendChild(item);
    });
  }

  // --- Decision ----------------------------------------------------------------------------

  function renderDecision() {
    var form = $("decision-form");
    var goal = state.goal;
    var decided = !!goal && goal.phase === E.Phase.DECIDED;
    // At Resultat the form is the step itself; once saved it folds behind "Ändra beslutet".
    MV.show(form, !!goal && (goal.phase === E.Phase.RESULTS || (decided && amending)));
    MV.show($("decision-amend"), decided);
    $("decision-amend").setAttribute("aria-expanded", decided && amending ? "true" : "false");
    MV.show($("decision-resave"), decided);
    if (!goal) {
      MV.clear($("decision-current"));
      return;
    }
    if (changed("decision", [state.decision, goal.phase])) {
      MV.renderDecision($("decision-current"), goal.phase === E.Phase.DECIDED ? state.decision : null, "h3");
    }
    var active = (state.all_proposals || []).filter(function (p) {
      return p.status === E.ProposalStatus.ACTIVE;
    });
    var leaders = (state.live_tally && state.live_tally.leaders) || [];
    var options = [["", t("from_scratch")]].concat(
      active.map(function (p) {
        var f = p.fields || {};
        var text = MV.shorten(p.kind === E.ProposalKind.DIRECTION ? f.rationale : f.what, 60);
        var lead = leaders.indexOf(p.id) !== -1 ? " " + t("leader_suffix") : "";
        return [String(p.id), p.label + " – " + text + lead];
      })
    );
    var select = $("decision-proposal");
    if (changed("decisionOptions", options)) {
      var value = select.value;
      MV.clear(select);
      options.forEach(function (option) {
        select.appendChild(el("option", { value: option[0], text: option[1] }));
      });
      select.value = options.some(function (o) {
        return o[0] === value;
      })
        ? value
        : "";
    }
    // Show a saved decision in the form until the facilitator starts typing; without one,
    // start from the leading proposal so the plain path is a single "Spara beslut".
    if (state.decision && !decisionDirty && changed("decisionPrefill", state.decision)) {
      fillDecision(state.decision);
    } else if (!state.decision && !decisionDirty && goal.phase === E.Phase.RESULTS) {
      var leader = leaders.length ? byId(leaders[0]) : null;
      if (leader && changed("decisionPrefill", ["leader", goal.id, leader.id])) {
        MV.fillProposal(form, leader);
        MV.syncKind(form);
        select.value = String(leader.id);
      }
    }
  }

  $("decision-amend").addEventListener("click", function () {
    amending = !amending;
    renderDecision();
    if (amending) {
      $("decision-proposal").focus();
    }
  });

  function fillDecision(decision) {
    var form = $("decision-form");
    MV.fillProposal(form, decision);
    var source = decision.proposal ? byLabel(decision.proposal) : null;
    $("decision-proposal").value = source ? String(source.id) : "";
    MV.clear($("dissent-list"));
    (decision.dissent || []).forEach(function (entry) {
      addDissentRow(entry);
    });
  }

  var dissentCount = 0;

  function addDissentRow(entry) {
    dissentCount += 1;
    var fragment = $("dissent-tpl").content.cloneNode(true);
    Array.prototype.forEach.call(fragment.querySelectorAll("[id], [for]"), function (node) {
      ["id", "for"].forEach(function (attr) {
        var value = node.getAttribute(attr);
        if (value) {
          node.setAttribute(attr, value.replace("-N-", "-" + dissentCount + "-"));
        }
      });
    });
    var row = fragment.querySelector(".dissent-row");
    if (entry) {
      row.querySelector('[name="dissent_text"]').value = entry.text || "";
      row.querySelector('[name="dissent_name"]').value = entry.name || "";
      row.querySelector('[name="dissent_consent"]').checked = !!entry.name;
    }
    $("dissent-list").appendChild(fragment);
    return row;
  }

  $("dissent-add").addEventListener("click", function () {
    var row = addDissentRow(null);
    decisionDirty = true;
    row.querySelector("textarea").focus();
  });

  $("dissent-list").addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-dissent]");
    if (button) {
      button.closest(".dissent-row").remove();
      decisionDirty = true;
      $("dissent-add").focus();
    }
  });

  $("decision-form").addEventListener("input", function () {
    decisionDirty = true;
  });

  $("decision-form").addEventListener("change", function (event) {
    var form = $("decision-form");
    decisionDirty = true;
    if (event.target.name === "kind") {
      MV.syncKind(form);
    }
    if (event.target.id === "decision-proposal" && event.target.value) {
      var p = byId(parseInt(event.target.value, 10));
      if (p) {
        MV.fillProposal(form, p);
      }
    }
  });

  function readDissent() {
    return Array.prototype.map.call($("dissent-list").querySelectorAll(".dissent-row"), function (row) {
      return {
        text: row.querySelector('[name="dissent_text"]').value.trim(),
        name: row.querySelector('[name="dissent_name"]').value.trim(),
        consent: row.querySelector('[name="dissent_consent"]').checked,
      };
    }).filter(function (entry) {
      return entry.text;
    });
  }

  $("decision-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    if (!state || !state.goal) {
      return;
    }
    var proposalId = $("decision-proposal").value;
    var payload = MV.readProposal(form);
    payload.goal_id = state.goal.id;
    payload.proposal_id = proposalId ? parseInt(proposalId, 10) : null;
    payload.dissent = readDissent();
    formStatus(form, "");
    send("decision:record", payload, form).then(function (ack) {
      if (ack.ok) {
        decisionDirty = false;
        amending = false;
        signatures.decisionPrefill = null;
        formStatus(form, t("decision_saved"));
        MV.announce(t("decision_saved"));
        renderDecision();
      }
    });
  });

  // --- The run: one primary button for the next step, counts, shortcuts ------------------

  function atDecision(goal) {
    return goal.phase === E.Phase.RESULTS || goal.phase === E.Phase.DECIDED;
  }

  // Always in the top bar: phones connected, and during and after a vote how many answered
  // (before it, how many may vote).
  function renderCounts() {
    var text =
      online === null ? "" : online === 1 ? t("online_count_one") : t("online_count", { online: online });
    if (!state.vote && text) {
      text += " · " + t("can_vote", { count: state.people.count });
    }
    MV.setText($("online-count"), text);
  }

  function agendaStep(delta) {
    var agenda = (state && state.agenda) || [];
    var currentId = state && state.goal ? state.goal.id : null;
    var index = -1;
    agenda.forEach(function (goal, i) {
      if (goal.id === currentId) {
        index = i;
      }
    });
    return agenda[index + delta] || null;
  }

  /** What the primary button does now: [text key, action], or null when there is no step. */
  function nextStep() {
    var goal = state && state.goal;
    if (!goal || state.workshop.status !== E.WorkshopStatus.RUNNING) {
      return null;
    }
    switch (goal.phase) {
      case E.Phase.NOT_STARTED:
        return "next_open";
      case E.Phase.PROPOSALS:
        return "next_vote";
      case E.Phase.VOTING:
        return "next_reveal";
      case E.Phase.RESULTS:
        return "next_decide";
      default:
        return agendaStep(1) ? "next_goal" : null;
    }
  }

  function renderNext() {
    if (!state) {
      return;
    }
    var step = nextStep();
    var button = $("next-step");
    MV.show(button, !!step);
    if (step) {
      MV.setText(button, t(step));
    }
    var last = !step && !!state.goal && state.goal.phase === E.Phase.DECIDED &&
      state.workshop.status === E.WorkshopStatus.RUNNING;
    MV.show($("next-note"), last);
    MV.setText($("next-note"), last ? t("last_goal") : "");
    var choosing = step === "next_vote";
    MV.show($("vote-method-field"), choosing);
    MV.show($("dot-budget-field"), choosing && $("vote-method").value === E.VoteMethod.DOTS);
  }

  /** Publish every active proposal not yet shown, then open the vote with the chosen method.
   * Two events, not one service: a refused vote leaves the proposals published, which is what
   * the facilitator asked for anyway, and the button can simply be pressed again. */
  function publishAndVote(form) {
    var goal = state.goal;
    var ids = (state.all_proposals || [])
      .filter(function (p) {
        return p.status === E.ProposalStatus.ACTIVE && !p.published;
      })
      .map(function (p) {
        return p.id;
      });
    var method = form.elements.method.value;
    var payload = { goal_id: goal.id, phase: E.Phase.VOTING, method: method };
    if (method === E.VoteMethod.DOTS) {
      payload.dot_budget = parseInt(form.elements.dot_budget.value, 10) || form.elements.dot_budget.value;
    }
    var published = ids.length ? send("proposal:publish", { ids: ids, published: true }, form) : Promise.resolve({ ok: true });
    return published.then(function (ack) {
      return ack.ok ? send("phase:set", payload, form) : ack;
    });
  }

  function runNext() {
    var step = nextStep();
    if (!step || busy) {
      return;
    }
    var form = $("next-form");
    var goal = state.goal;
    var done;
    if (step === "next_open") {
      done = send("phase:set", { goal_id: goal.id, phase: E.Phase.PROPOSALS }, form);
    } else if (step === "next_vote") {
      done = publishAndVote(form);
    } else if (step === "next_reveal") {
      done = send("phase:set", { goal_id: goal.id, phase: E.Phase.RESULTS }, form);
    } else if (step === "next_decide") {
      $("decision-form").requestSubmit();
      return;
    } else {
      done = send("goal:select", { goal_id: agendaStep(1).id }, form);
    }
    // One press, one step: a second press before the state arrives would skip a step.
    busy = true;
    done.then(function () {
      busy = false;
    });
  }

  $("next-form").addEventListener("submit", function (event) {
    event.preventDefault();
    runNext();
  });

  function typing(target) {
    return !!target && !!target.closest && !!target.closest("input, textarea, select, [contenteditable]");
  }

  // Shortcuts, shown on the page; never while typing in a field or with a modifier key.
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var key = event.key;
    if (key === "n" || key === "N") {
      event.preventDefault();
      runNext();
    } else if (key === "j" || key === "J" || key === "ArrowRight" || key === "k" || key === "K" || key === "ArrowLeft") {
      var forward = key === "j" || key === "J" || key === "ArrowRight";
      var goal = state && agendaStep(forward ? 1 : -1);
      if (goal) {
        event.preventDefault();
        send("goal:select", { goal_id: goal.id });
      }
    } else if (key === "p" || key === "P") {
      event.preventDefault();
      $("presenter-link").click();
    }
  });

  // --- Parking -----------------------------------------------------------------------------

  function renderParking() {
    var list = MV.clear($("parking"));
    var names = {};
    state.agenda.forEach(function (goal) {
      names[goal.id] = t("goal_number", { number: goal.number });
    });
    if (!state.parking.length) {
      list.appendChild(el("li", { class: "hint", text: t("parking_empty") }));
    }
    state.parking.forEach(function (item) {
      list.appendChild(
        el("li", { class: "card" }, [
          el("span", { class: "badge", text: item.goal_id ? names[item.goal_id] || "" : t("whole_workshop") }),
          " ",
          item.text,
        ])
      );
    });
    var goal = state.goal;
    MV.setText($("parking-goal-label"), goal ? t("for_goal", { goal: t("goal_number", { number: goal.number }) }) : "");
    MV.show($("parking-goal-choice"), !!goal);
  }

  $("parking-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var forGoal = form.elements.for_goal.checked && state && state.goal;
    send("parking:add", { text: form.elements.text.value, goal_id: forGoal ? state.goal.id : null }, form).then(
      function (ack) {
        if (ack.ok) {
          form.elements.text.value = "";
          MV.announce(t("saved"));
        }
      }
    );
  });

  // Keep every proposal form's kind-dependent fields in step with its radio buttons.
  ["edit-form", "add-form"].forEach(function (id) {
    var form = $(id);
    form.addEventListener("change", function (event) {
      if (event.target.name === "kind") {
        MV.syncKind(form);
      }
    });
    MV.syncKind(form);
  });
  MV.syncKind($("decision-form"));
})();
