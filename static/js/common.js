/* Shared helpers for the live pages: strings, DOM building, the socket, results, proposals.
 *
 * Everything a person reads comes from the JSON blocks the templates render with translated
 * strings (#i18n-common and #i18n); nothing user-facing is written here. Text from the server
 * is always inserted as text, never as HTML.
 */
(function () {
  "use strict";

  var MV = {};
  var strings = {};

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) {
      return null;
    }
    try {
      return JSON.parse(node.textContent);
    } catch (err) {
      return null;
    }
  }

  ["i18n-common", "i18n"].forEach(function (id) {
    var block = readJSON(id);
    if (block) {
      Object.keys(block).forEach(function (key) {
        strings[key] = block[key];
      });
    }
  });

  MV.readJSON = readJSON;

  /** Every status and kind as the server's StrEnums name them (the #enums block): the values
   * are never copied here: E.Phase.VOTING is whatever the server stores. */
  var E = readJSON("enums") || {};
  MV.E = E;

  /** Return the criteria as ordered [name, label] pairs (paverkbart, matbart, resurser). */
  MV.criteriaLabels = function () {
    return strings.criteria || [];
  };

  /** Return the translated string for key, with {name} placeholders filled in. */
  MV.t = function (key, params) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    if (typeof text !== "string") {
      return text;
    }
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return params && params[name] !== undefined && params[name] !== null
        ? String(params[name])
        : whole;
    });
  };

  /** Build an element: el("p", {class: "x", text: "y", attrs: {...}, on: {click: fn}}, children). */
  MV.el = function (tag, props, children) {
    var node = document.createElement(tag);
    props = props || {};
    Object.keys(props).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null || value === false) {
        return;
      }
      if (key === "class") {
        node.className = value;
      } else if (key === "text") {
        node.textContent = value;
      } else if (key === "on") {
        Object.keys(value).forEach(function (name) {
          node.addEventListener(name, value[name]);
        });
      } else if (key === "data") {
        Object.keys(value).forEach(function (name) {
          node.dataset[name] = value[name];
        });
      } else if (key === "attrs") {
        Object.keys(value).forEach(function (name) {
          if (value[name] !== undefined && value[name] !== null && value[name] !== false) {
            node.setAttribute(name, value[name] === true ? "" : value[name]);
          }
        });
      } else {
        node[key] = value;
      }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) {
        return;
      }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  };

  MV.clear = function (node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
    return node;
  };

  /** Set text only when it changed, so live regions do not repeat themselves. */
  MV.setText = function (node, text) {
    if (node && node.textContent !== text) {
      node.textContent = text;
    }
  };

  MV.show = function (node, visible) {
    if (node) {
      node.hidden = !visible;
    }
  };

  /** Re-render inside root and put focus back on the element with the same data-key. */
  MV.keepFocus = function (root, render) {
    var active = document.activeElement;
    var key = active && root.contains(active) ? active.getAttribute("data-key") : null;
    render();
    if (key) {
      var again = root.querySelector('[data-key="' + key.replace(/"/g, "") + '"]');
      if (again && !again.disabled) {
        again.focus();
      }
    }
  };

  /** Say something to screen readers through the page's polite announcer. */
  MV.announce = function (text) {
    var node = document.getElementById("announcer");
    if (!node || !text) {
      return;
    }
    node.textContent = "";
    window.setTimeout(function () {
      node.textContent = text;
    }, 50);
  };

  /** Return a random string from crypto.getRandomValues (works on plain http too). */
  MV.randomId = function (length) {
    var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    var bytes = new Uint8Array(length);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < length; i++) {
      out += alphabet.charAt(bytes[i] % alphabet.length);
    }
    return out;
  };

  MV.storage = {
    get: function (key) {
      try {
        return window.localStorage.getItem(key);
      } catch (err) {
        return null;
      }
    },
    set: function (key, value) {
      try {
        window.localStorage.setItem(key, value);
      } catch (err) {
        /* private mode or full: the page still works, it just forgets on reload */
      }
    },
    remove: function (key) {
      try {
        window.localStorage.removeItem(key);
      } catch (err) {
        /* ignore */
      }
    },
  };

  // --- Socket -----------------------------------------------------------------------------

  /** Connect and keep the connection status element (#conn) up to date. */
  MV.connect = function (auth, handlers) {
    var status = document.getElementById("conn");
    var socket = window.io({ auth: auth });

    function setStatus(state, text) {
      if (status) {
        status.setAttribute("data-state", state);
        MV.setText(status, text);
      }
    }

    setStatus("connecting", MV.t("conn_connecting"));
    socket.on("connect", function () {
      setStatus("online", MV.t("conn_online"));
      if (handlers.connect) {
        handlers.connect(socket);
      }
    });
    socket.on("disconnect", function (reason) {
      if (handlers.stopped && handlers.stopped()) {
        return;
      }
      setStatus("offline", MV.t("conn_reconnecting"));
      if (handlers.disconnect) {
        handlers.disconnect(reason);
      }
    });
    socket.on("connect_error", function (err) {
      // A refusal by the server (bad login, removed) stops the automatic retries.
      if (!socket.active) {
        var key = "refused_" + (err && err.message);
        var text = MV.t(key) === key ? MV.t("conn_refused") : MV.t(key);
        setStatus("offline", text);
        if (handlers.refused) {
          handlers.refused(err && err.message, text);
        }
      } else {
        setStatus("offline", MV.t("conn_reconnecting"));
      }
    });
    socket.on("state", function (state) {
      if (handlers.state) {
        handlers.state(state);
      }
    });
    socket.on("count", function (count) {
      if (handlers.count) {
        handlers.count(count);
      }
    });
    return socket;
  };

  /**
   * A compact push while votes come in ("X av Y", who is online) applied onto the last full
   * snapshot: the new state, or null when that snapshot is not the one the count was made for
   * (its shape differs), and the page must fetch the whole state again.
   */
  MV.applyCount = function (state, count) {
    if (!state || !count || state.shape !== count.shape) {
      return null;
    }
    var next = {};
    Object.keys(state).forEach(function (key) {
      next[key] = state[key];
    });
    ["seq", "prev_seq", "server_now", "plan", "people"].forEach(function (key) {
      next[key] = count[key];
    });
    if (state.vote && count.vote) {
      next.vote = {};
      Object.keys(state.vote).forEach(function (key) {
        next.vote[key] = state.vote[key];
      });
      next.vote.answered = count.vote.answered;
      next.vote.total = count.vote.total;
    }
    return next;
  };

  /** Emit with an acknowledgement; resolve to the ack or to {ok:false, code, error}. */
  MV.request = function (socket, event, payload, timeoutMs) {
    return new Promise(function (resolve) {
      if (!socket.connected) {
        resolve({ ok: false, code: "offline", error: MV.t("error_offline"), fields: {} });
        return;
      }
      socket.timeout(timeoutMs || 10000).emit(event, payload || {}, function (err, ack) {
        if (err) {
          resolve({ ok: false, code: "timeout", error: MV.t("error_timeout"), fields: {} });
        } else if (!ack || typeof ack !== "object") {
          resolve({ ok: false, code: "error", error: MV.t("error_generic"), fields: {} });
        } else {
          if (!ack.ok && !ack.error) {
            ack.error = MV.t("error_generic");
          }
          resolve(ack);
        }
      });
    });
  };

  /**
   * Accept a state only when its seq is not older than the last one rendered.
   *
   * A push carries prev_seq, the seq of the server's previous push: when that is newer than
   * anything this page rendered, a push was missed (the snapshot is still whole, but a phone's
   * own part may be stale) and onGap is called once to fetch the full state (state:get).
   * gate.reset() on every (re)connect accepts the next snapshot whatever its seq, so a server
   * whose seq went backwards (e.g. restored from a backup) is followed instead of ignored.
   */
  MV.seqGate = function (onGap) {
    var last = -1;
    var fresh = true;
    function gate(state) {
      if (!state || typeof state.seq !== "number") {
        return false;
      }
      if (fresh) {
        fresh = false;
        last = state.seq;
        return true;
      }
      if (state.seq < last) {
        return false;
      }
      var gap = typeof state.prev_seq === "number" && state.prev_seq > last;
      last = state.seq;
      if (gap && onGap) {
        window.setTimeout(onGap, 0);
      }
      return true;
    }
    gate.reset = function () {
      fresh = true;
    };
    return gate;
  };

  // --- Timer ------------------------------------------------------------------------------

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  MV.formatSeconds = function (seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    return pad(Math.floor(s / 60)) + ":" + pad(s % 60);
  };

  /** Count down to state.timer.ends_at, corrected by the server clock in state.server_now. */
  MV.countdown = function (node, onEnd) {
    var endsAt = null;
    var offset = 0;
    var handle = null;
    var announced = false;

    function tick() {
      if (endsAt === null) {
        node.hidden = true;
        return;
      }
      node.hidden = false;
      var left = (endsAt - (Date.now() + offset)) / 1000;
      var value = node.querySelector(".timer__value") || node;
      if (left <= 0) {
        node.setAttribute("data-state", "over");
        MV.setText(value, MV.t("timer_over"));
        window.clearInterval(handle);
        handle = null;
        if (!announced) {
          announced = true;
          if (onEnd) {
            onEnd();
          }
        }
      } else {
        node.setAttribute("data-state", "running");
        MV.setText(value, MV.formatSeconds(left));
      }
    }

    return {
      update: function (state) {
        var next = state && state.timer ? state.timer.ends_at : null;
        if (state && typeof state.server_now === "number") {
          offset = state.server_now - Date.now();
        }
        if (next !== endsAt) {
          announced = next === null || next - (Date.now() + offset) <= 0;
          endsAt = next;
        }
        if (handle === null && endsAt !== null) {
          handle = window.setInterval(tick, 500);
        }
        tick();
      },
      secondsLeft: function () {
        return endsAt === null ? null : (endsAt - (Date.now() + offset)) / 1000;
      },
    };
  };

  // --- Proposals --------------------------------------------------------------------------

  var FIELD_ORDER = ["what", "indicator", "baseline", "target", "resources", "responsible", "rationale"];

  /** Turn stored fields into [label, value] pairs, skipping empty ones (like the export). */
  MV.proposalLines = function (fields) {
    fields = fields || {};
    var values = {
      what: fields.what,
      indicator: fields.indicator,
      baseline: [fields.baseline_value, fields.baseline_year ? "(" + fields.baseline_year + ")" : ""]
        .filter(Boolean)
        .join(" "),
      target: fields.target_date
        ? MV.t("target_by", { value: fields.target_value || "–", date: fields.target_date })
        : fields.target_value,
      resources: fields.resources,
      responsible: fields.responsible,
      rationale: fields.rationale,
    };
    return FIELD_ORDER.filter(function (key) {
      return values[key];
    }).map(function (key) {
      return [MV.t("field_" + key), values[key]];
    });
  };

  MV.linesList = function (pairs) {
    if (!pairs.length) {
      return null;
    }
    return MV.el(
      "dl",
      { class: "lines lines--compact" },
      pairs.map(function (pair) {
        return MV.el("div", { class: "lines__row" }, [
          MV.el("dt", { text: pair[0] }),
          MV.el("dd", { text: pair[1] }),
        ]);
      })
    );
  };

  MV.criteriaText = function (criteria) {
    var parts = MV.criteriaLabels()
      .filter(function (pair) {
        return criteria && criteria[pair[0]];
      })
      .map(function (pair) {
        return pair[1] + ": " + MV.t("assessment_" + criteria[pair[0]]).toLowerCase();
      });
    return parts.length ? MV.t("criteria_heading") + " – " + parts.join(", ") : "";
  };

  /** Build a proposal card; opts.heading is the tag for the label, opts.extra adds nodes. */
  MV.proposalCard = function (p, opts) {
    opts = opts || {};
    var fields = p.fields || {};
    var main = p.kind === E.ProposalKind.DIRECTION ? fields.rationale : fields.what;
    var lines = MV.proposalLines(fields).filter(function (pair) {
      return pair[1] !== main;
    });
    var head = MV.el("div", { class: "proposal__head" }, [
      MV.el(opts.heading || "h3", { class: "proposal__label", text: p.label }),
      MV.el("span", { class: "badge badge--" + p.kind, text: MV.t("kind_" + p.kind) }),
    ].concat(opts.badges || []));
    var notes = [];
    if (p.author) {
      notes.push(MV.el("p", { class: "proposal__note", text: MV.t("author", { name: p.author }) }));
    }
    if (p.merged_from && p.merged_from.length && !opts.mergedLinks) {
      notes.push(
        MV.el("p", {
          class: "proposal__note",
          text: MV.t("merged_from", { labels: p.merged_from.join(", ") }),
        })
      );
    }
    if (p.edited && !opts.hideEdited) {
      notes.push(MV.el("p", { class: "proposal__note", text: MV.t("edited") }));
    }
    var criteria = MV.criteriaText(p.criteria);
    return MV.el(
      opts.tag || "li",
      {
        class: "card proposal" + (opts.className ? " " + opts.className : ""),
        attrs: { id: opts.id },
      },
      [
        head,
        main ? MV.el("p", { class: "proposal__main", text: main }) : null,
        MV.linesList(lines),
        criteria ? MV.el("p", { class: "proposal__note", text: criteria }) : null,
      ]
        .concat(notes)
        .concat(opts.extra || [])
    );
  };

  // --- Proposal forms ---------------------------------------------------------------------

  var TEXT_FIELDS = [
    "what",
    "indicator",
    "baseline_value",
    "baseline_year",
    "target_value",
    "target_date",
    "resources",
    "responsible",
    "rationale",
  ];
  var CRITERIA = ["paverkbart", "matbart", "resurser"];
  MV.TEXT_FIELDS = TEXT_FIELDS;
  MV.CRITERIA = CRITERIA;

  function radioValue(form, name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : "";
  }

  function setRadio(form, name, value) {
    var inputs = form.querySelectorAll('input[name="' + name + '"]');
    Array.prototype.forEach.call(inputs, function (input) {
      input.checked = input.value === (value || "");
    });
  }

  /** Read a form built by the proposal_fields macro into {kind, what, ..., criteria}. */
  MV.readProposal = function (form) {
    var data = { kind: radioValue(form, "kind") || E.ProposalKind.AMBITION, criteria: {} };
    TEXT_FIELDS.forEach(function (name) {
      var input = form.elements[name];
      data[name] = input ? input.value.trim() : "";
    });
    CRITERIA.forEach(function (name) {
      var value = radioValue(form, "criteria." + name);
      if (value) {
        data.criteria[name] = value;
      }
    });
    return data;
  };

  /** Fill a proposal form from {kind, fields or flat values, criteria}. */
  MV.fillProposal = function (form, data) {
    data = data || {};
    var fields = data.fields || data;
    setRadio(form, "kind", data.kind || E.ProposalKind.AMBITION);
    TEXT_FIELDS.forEach(function (name) {
      var input = form.elements[name];
      if (input) {
        input.value = fields[name] || "";
      }
    });
    CRITERIA.forEach(function (name) {
      setRadio(form, "criteria." + name, (data.criteria || {})[name] || "");
    });
    MV.syncKind(form);
  };

  /** Show the parts of a proposal form that belong to the chosen kind. */
  MV.syncKind = function (form) {
    var kind = radioValue(form, "kind") || E.ProposalKind.AMBITION;
    Array.prototype.forEach.call(form.querySelectorAll("[data-kind-only]"), function (node) {
      node.hidden = node.getAttribute("data-kind-only") !== kind;
    });
  };

  /** Remove every error message a previous ack put on the form. */
  MV.clearErrors = function (form) {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (node) {
      node.hidden = true;
      node.textContent = "";
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
      var ids = (node.getAttribute("aria-describedby") || "")
        .split(" ")
        .filter(function (id) {
          return id && !/-error$/.test(id);
        });
      if (ids.length) {
        node.setAttribute("aria-describedby", ids.join(" "));
      } else {
        node.removeAttribute("aria-describedby");
      }
    });
    Array.prototype.forEach.call(form.querySelectorAll(".field--invalid"), function (node) {
      node.classList.remove("field--invalid");
    });
    var general = form.querySelector(".form-error");
    if (general) {
      general.hidden = true;
      general.textContent = "";
    }
  };

  function markInvalid(wrapper, message) {
    var error = wrapper.querySelector(".field-error");
    wrapper.classList.add("field--invalid");
    if (error) {
      error.textContent = message;
      error.hidden = false;
    }
    var controls = wrapper.querySelectorAll("input, textarea, select");
    Array.prototype.forEach.call(controls, function (control) {
      control.setAttribute("aria-invalid", "true");
      if (error && error.id) {
        var ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (ids.indexOf(error.id) === -1) {
          ids.push(error.id);
        }
        control.setAttribute("aria-describedby", ids.join(" "));
      }
    });
    return controls[0] || null;
  }

  /** Show an error ack on a form: the message on top, each field's message at the field. */
  MV.showErrors = function (form, ack) {
    MV.clearErrors(form);
    var fields = (ack && ack.fields) || {};
    var first = null;
    var unplaced = [];
    Object.keys(fields).forEach(function (name) {
      var wrapper = form.querySelector('[data-field="' + name + '"]');
      if (wrapper && !wrapper.closest("[hidden]")) {
        var control = markInvalid(wrapper, fields[name]);
        first = first || control;
      } else {
        unplaced.push(fields[name]);
      }
    });
    var general = form.querySelector(".form-error");
    if (general) {
      general.textContent = [ack && ack.error].concat(unplaced).filter(Boolean).join(" ");
      general.hidden = !general.textContent;
    }
    // Focus the first invalid field in page order, else the message itself.
    var invalid = form.querySelector('[aria-invalid="true"]');
    var target = invalid || first || general;
    if (target) {
      if (target === general) {
        general.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  };

  // --- Results ----------------------------------------------------------------------------

  function number(value) {
    var rounded = Math.round(value * 10) / 10;
    return String(rounded).replace(".", MV.t("decimal_sep"));
  }

  /*
   * One bar of a chart. Every bar of a chart is drawn against the same scale (max), and the
   * chart's CSS grid (.results, subgrid rows) gives every bar the same track, so equal counts
   * draw equal bars. "share" (0–100) is shown beside the count when the scale has one.
   */
  function barRow(label, value, max, shown, alt) {
    var fill = MV.el("span", { class: "bar__fill" + (alt ? " bar__fill--alt" : "") });
    var pct = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
    fill.style.setProperty("--w", pct.toFixed(2) + "%");
    return MV.el("div", { class: "bar-row" }, [
      MV.el("span", { class: "bar-row__label", text: label }),
      MV.el("span", { class: "bar" }, [fill]),
      MV.el("span", { class: "bar-row__value", text: shown }),
    ]);
  }

  function percent(part, total) {
    return total > 0 ? Math.round((part / total) * 100) : 0;
  }

  function shareText(count, total) {
    return MV.t("results_share", { count: number(count), share: percent(count, total) });
  }

  // Counts of people are drawn against the number of ballots: a full bar is everyone.
  function countRow(label, count, ballots, alt) {
    return barRow(label, count, Math.max(1, ballots), shareText(count, ballots), alt);
  }

  function resultRows(method, item, ballots, budget, maxPoints, totalPoints) {
    var counts = item.counts || {};
    if (method === E.VoteMethod.YES_NO) {
      return ["ja", "nej", "avstar"].map(function (key) {
        return countRow(MV.t("vote_" + key), counts[key] || 0, ballots, key !== "ja");
      });
    }
    if (method === E.VoteMethod.SCORE) {
      // The mean is a number, not a bar: a bar of it would need a second scale in the chart.
      return [MV.el("p", { class: "result__mean", text: MV.t("results_mean", { score: number(item.score) }) })].concat(
        [5, 4, 3, 2, 1].map(function (n) {
          return countRow(MV.t("score_n", { n: n }), counts[String(n)] || 0, ballots, true);
        })
      );
    }
    if (method === E.VoteMethod.DOTS) {
      // Points are drawn against the most points any proposal got; the share is of all points.
      var points = item.score || 0;
      return [
        barRow(
          MV.t("results_points_label"),
          points,
          maxPoints,
          MV.t("results_points_share", { points: number(points), share: percent(points, totalPoints) })
        ),
      ];
    }
    if (method === E.VoteMethod.GRADIENTS) {
      var labels = MV.t("gradients") || {};
      return [1, 2, 3, 4, 5].map(function (n) {
        return countRow(labels[String(n)] || String(n), counts[String(n)] || 0, ballots, n >= 4);
      });
    }
    // E.VoteMethod.CRITERIA
    var rows = [];
    MV.criteriaLabels().forEach(function (pair) {
      var c = (item.criteria || {})[pair[0]] || {};
      rows.push(MV.el("p", { class: "result__criterion", text: pair[1] }));
      [E.Assessment.YES, E.Assessment.PARTLY, E.Assessment.NO].forEach(function (key) {
        rows.push(countRow(MV.t("assessment_" + key), c[key] || 0, ballots, key !== E.Assessment.YES));
      });
    });
    return rows;
  }

  /**
   * Render a tally as bars with numbers, plus its text alternative (results.text).
   * The bars are hidden from screen readers, which read the text lines instead.
   */
  MV.renderResults = function (container, results, proposals, opts) {
    opts = opts || {};
    MV.clear(container);
    if (!results) {
      return;
    }
    var byId = {};
    (proposals || []).forEach(function (p) {
      byId[p.id] = p;
    });
    var labels = results.labels || {};
    var maxPoints = 1;
    var totalPoints = 0;
    results.proposals.forEach(function (item) {
      maxPoints = Math.max(maxPoints, item.score || 0);
      totalPoints += item.score || 0;
    });
    var chart = MV.el("div", { class: "results", attrs: { "aria-hidden": "true" } }, [
      MV.el("p", { class: "result__count", text: MV.t("results_ballots", { n: results.ballots }) }),
    ]);
    results.proposals.forEach(function (item) {
      var label = labels[String(item.proposal_id)] || String(item.proposal_id);
      var proposal = byId[item.proposal_id];
      var summary = "";
      if (proposal) {
        var f = proposal.fields || {};
        summary = proposal.kind === E.ProposalKind.DIRECTION ? f.rationale : f.what;
      }
      var lead = results.leaders && results.leaders.indexOf(item.proposal_id) !== -1;
      var title = MV.el("p", { class: "result__title" }, [
        label + (summary ? ": " + MV.shorten(summary, opts.shorten || 90) : ""),
        lead
          ? MV.el("span", {
              class: "result__leader",
              text: results.tie ? MV.t("results_tie") : MV.t("results_leader"),
            })
          : null,
      ]);
      chart.appendChild(
        MV.el("div", { class: "result" + (lead ? " result--leader" : ""), attrs: { "data-proposal": item.proposal_id } }, [title].concat(
          resultRows(results.method, item, results.ballots, results.dot_budget, maxPoints, totalPoints)
        ))
      );
    });
    container.appendChild(chart);
    var textList = MV.el(
      "ul",
      {},
      (results.text || []).map(function (line) {
        return MV.el("li", { text: line });
      })
    );
    if (opts.textOpen) {
      container.appendChild(
        MV.el("div", { class: "results-text" }, [
          MV.el(opts.textHeading || "h3", { class: "visually-hidden", text: MV.t("results_text") }),
          textList,
        ])
      );
    } else {
      container.appendChild(
        MV.el("details", { class: "results-text", open: true }, [
          MV.el("summary", { text: MV.t("results_text") }),
          textList,
        ])
      );
    }
  };

  MV.shorten = function (text, length) {
    text = String(text || "").replace(/\s+/g, " ").trim();
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  };

  /** Render a recorded decision: kind, wording, criteria and dissent. */
  MV.renderDecision = function (container, decision, heading) {
    MV.clear(container);
    if (!decision) {
      return;
    }
    var dissent = (decision.dissent || []).map(function (d) {
      return MV.el("li", { text: d.name ? d.text + " — " + d.name : d.text });
    });
    var criteria = MV.criteriaText(decision.criteria);
    container.appendChild(
      MV.el("div", { class: "decision" }, [
        MV.el(heading || "h3", { text: MV.t("decision_heading") }),
        MV.el("p", {}, [MV.el("span", { class: "badge badge--" + decision.kind, text: MV.t("kind_" + decision.kind) })]),
        MV.linesList(MV.proposalLines(decision.fields)),
        criteria ? MV.el("p", { class: "proposal__note", text: criteria }) : null,
        decision.proposal
          ? MV.el("p", { class: "proposal__note", text: MV.t("decision_based_on", { label: decision.proposal }) })
          : null,
        dissent.length ? MV.el("p", { class: "proposal__note", text: MV.t("dissent_heading") }) : null,
        dissent.length ? MV.el("ul", {}, dissent) : null,
      ])
    );
  };

  /** Fill the goal heading parts present on a page: [data-goal="number|area|text|position"]. */
  MV.renderGoal = function (root, goal) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-goal]"), function (node) {
      var part = node.getAttribute("data-goal");
      var text = "";
      if (goal) {
        if (part === "number") {
          text = MV.t("goal_number", { number: goal.number || goal.position });
        } else if (part === "position") {
          text = MV.t("goal_position", { position: goal.position, of: goal.of });
        } else if (part === "phase") {
          text = goal.phase_label;
        } else {
          text = goal[part] || "";
        }
      }
      MV.setText(node, text);
    });
  };

  window.MV = MV;
})();
