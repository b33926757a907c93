/* The merge dialog (templates/_merge.html): the sources' values field by field, as the server's
 * proposal:merge_preview reports them (domain.merge_differences holds the rule). Where the
 * sources differ the facilitator picks a source's value or writes one; where they agree the
 * value is prefilled. Nothing is saved until every differing field has a choice.
 *
 * MV.Merge.open(ids, {request, onMerged, onError, opener}); MV.Merge.close().
 */
(function () {
  "use strict";

  var MV = window.MV;
  var E = MV.E;
  var el = MV.el;
  var strings = MV.readJSON("i18n-merge") || {};
  var LONG = ["what", "resources", "rationale"];
  var ASSESSMENTS = ["ja", "delvis", "nej", ""];

  var dialog = document.getElementById("merge-dialog");
  if (!dialog) {
    return;
  }
  var form = document.getElementById("merge-form");
  var fieldsBox = document.getElementById("merge-fields");
  var current = null; // {ids, opts, fields} of the open merge
  var asked = 0; // the latest preview asked for; an older answer is dropped

  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : MV.t(key, params);
    return String(text).replace(/\{(\w+)\}/g, function (whole, name) {
      return params && params[name] !== undefined ? String(params[name]) : whole;
    });
  }

  function rowId(name) {
    return "merge-" + name.replace(/\./g, "-");
  }

  function fromText(option) {
    return t("merge_from", { labels: option.sources.join(", ") });
  }

  function tag(agree) {
    return el("span", {
      class: "merge__tag merge__tag--" + (agree ? "agree" : "differ"),
      text: agree ? t("merge_agrees") : t("merge_differs"),
    });
  }

  function radio(id, name, value, label, note, checked) {
    return el("div", { class: "choice merge__choice" }, [
      el("input", { type: "radio", id: id, name: name, value: value, checked: !!checked }),
      el("label", { attrs: { for: id } }, [
        el("span", { class: "merge__value", text: label }),
        note ? el("span", { class: "merge__from", text: " " + note }) : null,
      ]),
    ]);
  }

  function rowShell(field) {
    var id = rowId(field.name);
    return el(
      "fieldset",
      {
        class: "merge__row merge__row--" + (field.agree ? "agree" : "differ"),
        id: id + "-row",
        attrs: { "data-field": field.name, "data-ambition-only": field.ambition_only ? "1" : null },
      },
      [
        el("legend", {}, [el("span", { class: "merge__label", text: field.label }), " ", tag(field.agree)]),
        el("p", { class: "field-error", id: id + "-error", hidden: true }),
      ]
    );
  }

  /** kind and each criterion: every possible answer once, with the sources that gave it. */
  function choiceRow(field, values, labelOf) {
    var row = rowShell(field);
    var holders = {};
    field.options.forEach(function (option) {
      holders[option.value] = option;
    });
    var box = el("div", { class: "merge__choices" });
    values.forEach(function (value) {
      var option = holders[value];
      box.appendChild(
        radio(
          rowId(field.name) + "-" + (value || "none"),
          field.name,
          value,
          labelOf(value),
          option ? fromText(option) : "",
          field.agree && field.value === value
        )
      );
    });
    row.appendChild(box);
    return row;
  }

  /** A text field: where the sources differ, one radio per value, "all joined" for the long
   * texts, and "write your own"; the labelled input below holds what will be saved. */
  function textRow(field) {
    var row = rowShell(field);
    var id = rowId(field.name);
    var long = LONG.indexOf(field.name) !== -1;
    var limits = strings.limits || {};
    var input = el(long ? "textarea" : "input", {
      id: id,
      name: field.name,
      value: field.agree ? field.value : "",
      attrs: {
        rows: long ? 3 : null,
        type: long ? null : field.name === "target_date" ? "date" : "text",
        maxlength: limits[field.name] || null,
      },
    });
    if (!field.agree) {
      var box = el("div", { class: "merge__choices" });
      var filled = [];
      field.options.forEach(function (option, index) {
        if (option.value) {
          filled.push(option.value);
        }
        box.appendChild(
          radio(id + "-" + index, "pick." + field.name, String(index), option.value || t("merge_empty"), fromText(option))
        );
      });
      if (long && filled.length > 1) {
        box.appendChild(radio(id + "-join", "pick." + field.name, "join", t("merge_join"), ""));
      }
      box.appendChild(radio(id + "-own", "pick." + field.name, "own", t("merge_own"), ""));
      box.addEventListener("change", function (event) {
        var pick = event.target.value;
        if (pick === "join") {
          input.value = filled.join("\n");
        } else if (pick === "own") {
          input.focus();
          return;
        } else {
          input.value = field.options[Number(pick)].value;
        }
      });
      // Typing is writing one's own value.
      input.addEventListener("input", function () {
        var own = document.getElementById(id + "-own");
        if (own && !own.checked) {
          own.checked = true;
        }
      });
      row.appendChild(box);
    }
    row.appendChild(el("label", { class: "merge__input-label", attrs: { for: id }, text: t("merge_value_label", { field: field.label }) }));
    row.appendChild(input);
    return row;
  }

  function kindLabel(value) {
    return MV.t("kind_" + value);
  }

  function assessmentLabel(value) {
    var text = value ? MV.t("assessment_" + value) : MV.t("not_assessed");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function sourceTexts(sources) {
    var box = MV.clear(document.getElementById("merge-source-texts"));
    sources.forEach(function (p) {
      box.appendChild(el("h3", { class: "merge__source-h", text: t("merge_source_heading", { label: p.label }) }));
      box.appendChild(el("p", { class: "hint", text: kindLabel(p.kind) }));
      var lines = MV.linesList(MV.proposalLines(p.fields));
      if (lines) {
        box.appendChild(lines);
      }
      var criteria = MV.criteriaText(p.criteria);
      if (criteria) {
        box.appendChild(el("p", { class: "hint", text: criteria }));
      }
    });
  }

  function syncKind() {
    var checked = form.querySelector('input[name="kind"]:checked');
    var direction = checked && checked.value === E.ProposalKind.DIRECTION;
    Array.prototype.forEach.call(form.querySelectorAll("[data-ambition-only]"), function (node) {
      node.hidden = direction;
    });
  }

  function build(ack) {
    var fields = ack.fields;
    MV.clear(fieldsBox);
    MV.clearErrors(form);
    var empty = [];
    var differ = 0;
    fields.forEach(function (field) {
      var row;
      if (field.name === "kind") {
        row = choiceRow(field, [E.ProposalKind.AMBITION, E.ProposalKind.DIRECTION], kindLabel);
      } else if (field.name.indexOf("criteria.") === 0) {
        row = choiceRow(field, ASSESSMENTS, assessmentLabel);
      } else {
        row = textRow(field);
      }
      differ += field.agree ? 0 : 1;
      // Text fields every source left empty wait, folded, at the end.
      if (field.agree && !field.value && field.name !== "kind" && field.name.indexOf("criteria.") !== 0) {
        empty.push(row);
      } else {
        fieldsBox.appendChild(row);
      }
    });
    if (empty.length) {
      fieldsBox.appendChild(
        el("details", { class: "merge__empty" }, [el("summary", { text: t("merge_empty_fields", { n: empty.length }) })].concat(empty))
      );
    }
    MV.setText(document.getElementById("merge-sources"), MV.t("merge_sources", {
      labels: ack.sources.map(function (p) {
        return p.label;
      }).join(", "),
    }));
    MV.setText(
      document.getElementById("merge-summary"),
      differ ? t("merge_summary", { differ: differ, total: fields.length }) : t("merge_none_differ")
    );
    sourceTexts(ack.sources);
    syncKind();
  }

  /** The differing rows (shown for the chosen kind) that still lack a choice. */
  function unchosen() {
    return current.fields.filter(function (field) {
      if (field.agree) {
        return false;
      }
      var row = document.getElementById(rowId(field.name) + "-row");
      if (!row || row.hidden) {
        return false;
      }
      return !row.querySelector("input[type=radio]:checked");
    });
  }

  function read() {
    var checked = form.querySelector('input[name="kind"]:checked');
    var data = { kind: checked ? checked.value : E.ProposalKind.AMBITION, criteria: {} };
    MV.TEXT_FIELDS.forEach(function (name) {
      var input = form.elements[name];
      data[name] = input ? input.value.trim() : "";
    });
    MV.CRITERIA.forEach(function (name) {
      var pick = form.querySelector('input[name="criteria.' + name + '"]:checked');
      if (pick && pick.value) {
        data.criteria[name] = pick.value;
      }
    });
    return data;
  }

  /** A choice answers its row's "pick one" error at once. */
  function clearRowError(node) {
    var row = node.closest && node.closest(".merge__row");
    if (!row || !row.classList.contains("field--invalid")) {
      return;
    }
    row.classList.remove("field--invalid");
    var error = row.querySelector(".field-error");
    error.hidden = true;
    error.textContent = "";
    Array.prototype.forEach.call(row.querySelectorAll("[aria-invalid]"), function (control) {
      control.removeAttribute("aria-invalid");
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "kind") {
      syncKind();
    }
    clearRowError(event.target);
  });
  form.addEventListener("input", function (event) {
    clearRowError(event.target);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) {
      return;
    }
    var missing = unchosen();
    if (missing.length) {
      var errors = {};
      missing.forEach(function (field) {
        var isChoice = field.name === "kind" || field.name.indexOf("criteria.") === 0;
        errors[field.name] = t(isChoice ? "merge_pick_one" : "merge_pick");
      });
      MV.showErrors(form, { error: t("merge_pick_all"), fields: errors });
      return;
    }
    var merging = current;
    MV.clearErrors(form);
    merging.opts.request("proposal:merge", { ids: merging.ids, proposal: read() }).then(function (ack) {
      if (current !== merging) {
        return;
      }
      if (ack.ok) {
        close();
        merging.opts.onMerged(ack);
      } else {
        MV.showErrors(form, ack);
      }
    });
  });

  form.querySelector("[data-cancel]").addEventListener("click", function () {
    close();
  });

  dialog.addEventListener("close", function () {
    var opener = current && current.opts.opener;
    current = null;
    if (opener) {
      opener.focus();
    }
  });

  function close() {
    if (dialog.open) {
      dialog.close();
    } else {
      current = null;
    }
  }

  /** Ask the server where the sources differ, then show the dialog. */
  function open(ids, opts) {
    var mine = ++asked;
    opts.request("proposal:merge_preview", { ids: ids }).then(function (ack) {
      if (mine !== asked) {
        return;
      }
      if (!ack.ok) {
        opts.onError(ack);
        return;
      }
      current = { ids: ids, opts: opts, fields: ack.fields };
      build(ack);
      if (!dialog.open) {
        dialog.showModal();
      }
      document.getElementById("merge-body").scrollTop = 0;
      document.getElementById("merge-h").setAttribute("tabindex", "-1");
      document.getElementById("merge-h").focus();
    });
  }

  MV.Merge = { open: open, close: close };
})();
