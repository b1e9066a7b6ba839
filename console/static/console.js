/* The console's pages (console/pages.py): each asks the API (/api, same origin, signed in by
   the HttpOnly cob_token cookie) and renders the answer, again every few seconds, so a page
   shows the state of the moment. Text is put in with textContent, never parsed as HTML. Every
   request sends X-Requested-With: the API refuses a cookie-signed change without it
   (console/auth.py), which is what keeps another site's forms out. No framework, no build. */
(function () {
  "use strict";

  const body = document.body;
  const PAGE = body.dataset.page;
  const ME = body.dataset.user;
  const MAY = new Set((body.dataset.may || "").split(" ").filter(Boolean));
  const POLL_MS = 1000 * (Number(body.dataset.pollSeconds) || 10);

  // --- small helpers ---

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const dash = "—";
  const show = (value) => (value === null || value === undefined || value === "" ? dash : String(value));
  const words = (kind) => show(kind).replaceAll("_", " ");
  const num = (value) => el("td", { class: "num" }, show(value));

  function table(caption, columns, rows, cells, options) {
    const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null }, c.label || c)));
    const lines = rows.map((row) => el("tr", { class: options && options.rowClass ? options.rowClass(row) : null }, cells(row)));
    if (!rows.length) {
      lines.push(el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, (options && options.empty) || "None.")));
    }
    return el("table", { class: "grid" }, el("caption", {}, caption), el("thead", {}, head), el("tbody", {}, lines),
      options && options.foot ? el("tfoot", {}, options.foot) : null);
  }

  function say(text, kind) {
    const message = document.getElementById("message");
    if (!message) return;
    message.textContent = text || "";
    message.className = kind || "";
  }

  function stamp() {
    const updated = document.getElementById("updated");
    if (updated) updated.textContent = "Updated " + new Date().toLocaleTimeString() + "; refreshed every " + POLL_MS / 1000 + " s.";
  }

  // Money comes as a string of cents ("57.10"): added up in whole cents, never as floats.
  const cents = (money) => {
    if (money === null || money === undefined || money === "") return 0;
    const negative = String(money).startsWith("-");
    const [whole, part = ""] = String(money).replace("-", "").split(".");
    const value = Number(whole) * 100 + Number((part + "00").slice(0, 2));
    return negative ? -value : value;
  };
  const money = (total) => (total < 0 ? "-" : "") + Math.floor(Math.abs(total) / 100) + "." + String(Math.abs(total) % 100).padStart(2, "0");

  async function api(path, options) {
    options = options || {};
    const headers = { Accept: "application/json", "X-Requested-With": "cob-console" };
    let payload;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(options.json);
    }
    const response = await fetch(path, {
      method: options.method || "GET", headers, body: payload, credentials: "same-origin", cache: "no-store",
    });
    if (response.status === 401) {  // signed out, the token replaced or its user disabled
      location.assign("/login?next=" + encodeURIComponent(location.pathname));
      throw new Error("signed out");
    }
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    return { ok: response.ok, status: response.status, data };
  }

  // The API's reason: a line, or FastAPI's list of a body's faults ({loc, msg}) as "field: msg".
  function detail(answer) {
    const said = answer.data && answer.data.detail;
    if (Array.isArray(said)) return said.map((f) => (f.loc || []).filter((p) => p !== "body").join(".") + ": " + f.msg).join("; ");
    return said || "HTTP " + answer.status;
  }

  // Whether an answer is the one rendered last: the page is redrawn only when something
  // changed, so a poll never takes the focus from a button or closes what a person opened.
  function sameAsLast() {
    let last = null;
    return (...answers) => {
      const now = JSON.stringify(answers);
      if (now === last) return true;
      last = now;
      return false;
    };
  }

  function every(refresh) {
    let busy = false;
    async function tick() {
      if (busy) return;
      busy = true;
      try {
        await refresh();
        stamp();
      } catch (error) {
        if (error.message !== "signed out") say("Could not refresh: " + error.message, "error");
      } finally {
        busy = false;
      }
    }
    tick();
    setInterval(tick, POLL_MS);
    return tick;
  }

  // --- the worklist ---

  const keyPath = (key) => key.split("/").map(encodeURIComponent).join("/");
  const encounterLink = (id) => el("a", { href: "/encounters/" + encodeURIComponent(id) }, id);

  // The dialog's one field: a choice among `input.choices` ({value, label}), else an input.
  function askField(input) {
    if (input.choices) {
      return el("select", { id: "ask-input", required: true }, el("option", { value: "" }, input.prompt || "Choose…"),
        input.choices.map((choice) => el("option", { value: choice.value }, choice.label)));
    }
    return el("input", { id: "ask-input", required: true, type: input.type || "text", value: input.value || null,
      min: input.min || null, max: input.max || null, maxlength: input.maxLength || 2000 });
  }

  function ask(title, task, label, input) {
    const dialog = document.getElementById("ask");
    const field = askField(input);
    document.getElementById("ask-input").replaceWith(field);
    document.getElementById("ask-title").textContent = title;
    document.getElementById("ask-task").textContent = task.encounter_id + " · " + words(task.kind) + " · due " + show(task.due);
    document.getElementById("ask-label").textContent = label;
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? field.value.trim() : null), { once: true });
    });
  }

  // a day from today in UTC, as the API counts days (ledger.task_actions.snooze_task)
  const isoDay = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
  // whom a task can go to (ledger.task_actions.ASSIGNABLE); the API refuses anyone else
  const ASSIGNABLE = ["biller", "supervisor"];

  // The active people a task can go to, but the one who holds it; null when the API refuses.
  async function receivers(task) {
    const team = await api("/api/users");
    if (!team.ok) {
      say(detail(team), "error");
      return null;
    }
    return team.data.filter((u) => u.active && ASSIGNABLE.includes(u.role) && u.name !== task.assignee)
      .map((u) => ({ value: u.name, label: u.name + " · " + u.role + (u.name === ME ? " (you)" : "") }));
  }

  async function worklist() {
    const tbody = document.querySelector("#tasks tbody");
    const snoozed = document.getElementById("show-snoozed");
    const supervises = MAY.has("task.reassign");  // who reassigns may work another's task

    async function act(task, action, json, done) {
      const answer = await api("/api/tasks/" + keyPath(task.key) + "/" + action, { method: "POST", json });
      if (answer.ok) say(done, "ok");
      else say(detail(answer), "error");  // 409: "task ... is claimed by ana"
      await refresh();
    }

    function buttons(task) {
      const mine = task.assignee === ME;
      const may = (action) => MAY.has(action);
      const shown = [];
      if (may("task.claim") && !mine) {
        shown.push(el("button", { type: "button", onclick: () => act(task, "claim", undefined, "You hold the task for " + task.encounter_id + ".") }, "Claim"));
      }
      if (may("task.release") && task.assignee && (mine || supervises)) {
        shown.push(el("button", { type: "button", onclick: () => act(task, "release", undefined, "Released the task for " + task.encounter_id + ".") }, "Release"));
      }
      if (may("task.resolve") && (mine || supervises)) {
        shown.push(el("button", { type: "button", onclick: async () => {
          const note = await ask("Resolve the task", task, "What was done (required)", { type: "text" });
          if (note) await act(task, "resolve", { note }, "Resolved the task for " + task.encounter_id + ".");
        } }, "Resolve"));
      }
      if (may("task.snooze") && (!task.assignee || mine || supervises)) {
        shown.push(el("button", { type: "button", onclick: async () => {
          const until = await ask("Snooze the task", task, "Out of sight until (never past its due date)",
            { type: "date", min: isoDay(1), max: task.due || "", value: isoDay(1) });
          if (until) await act(task, "snooze", { until }, "Snoozed the task for " + task.encounter_id + " until " + until + ".");
        } }, "Snooze"));
      }
      if (supervises) {
        shown.push(el("button", { type: "button", onclick: async () => {
          const choices = await receivers(task);
          if (!choices) return;
          const to = await ask("Reassign the task", task, "Give it to", { choices, prompt: "Choose a person" });
          if (to) await act(task, "reassign", { to }, "Gave the task for " + task.encounter_id + " to " + to + ".");
        } }, "Reassign"));
      }
      return shown;
    }

    function row(task) {
      const holder = task.assignee ? (task.assignee === ME ? task.assignee + " (you)" : task.assignee) : dash;
      return [
        el("td", { class: "nowrap" }, show(task.due), task.snoozed_until ? el("div", { class: "muted" }, "snoozed until " + task.snoozed_until) : null),
        el("td", {}, encounterLink(task.encounter_id)),
        el("td", {}, show(task.payer_id)),
        el("td", { class: "nowrap" }, words(task.kind)),
        num(task.at_stake),
        el("td", { class: "reason" }, show(task.reason)),
        el("td", {}, holder),
        el("td", { class: "actions" }, buttons(task)),
      ];
    }

    const unchanged = sameAsLast();
    async function refresh() {
      const hide = snoozed.checked ? "" : "?hide_snoozed=true";
      const answer = await api("/api/tasks" + hide);
      if (!answer.ok) return say(detail(answer), "error");
      if (unchanged(answer.data)) return;
      const rows = answer.data.map((task) => el("tr", { "data-key": task.key, class: task.assignee === ME ? "mine" : null }, row(task)));
      if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "Nothing to do: no open task.")));
      tbody.replaceChildren(...rows);
    }

    snoozed.addEventListener("change", refresh);
    every(refresh);
  }

  // --- an encounter ---

  const CLP02 = { 1: "processed as primary", 2: "processed as secondary", 3: "processed as tertiary", 4: "denied",
    19: "primary, forwarded", 20: "secondary, forwarded", 21: "tertiary, forwarded", 22: "reversal", 23: "not our claim" };

  function facts(pairs) {
    return pairs.filter(([, value]) => value !== undefined).flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value instanceof Node ? value : show(value))]);
  }

  // A rule names coverages by their key, "payer:member": the payer alone is shown.
  const payerOf = (key) => show(key).split(":")[0];

  function orderSection(ledger, status) {
    const order = (status && status.payer_order && status.payer_order.length ? status.payer_order : ledger && ledger.payer_order) || [];
    const rules = (status && status.order_rules && status.order_rules.length ? status.order_rules : ledger && ledger.order_rules) || [];
    const coverages = (ledger && ledger.coverages) || [];
    return [
      order.length ? el("ol", { class: "order" }, order.map((payer) => {
        const coverage = coverages.find((c) => c.payer_id === payer);
        return el("li", {}, el("strong", {}, payer), coverage ? " · " + coverage.plan_type : "");
      })) : el("p", { class: "muted" }, "No order yet."),
      table("The rules that decided the order", ["pays first", "then", "rule", "source"], rules,
        (r) => [el("td", {}, payerOf(r.higher)), el("td", {}, payerOf(r.lower)), el("td", {}, words(r.rule)), el("td", {}, show(r.citation))],
        { empty: order.length > 1 ? "No rule recorded." : "One payer: no rule needed." }),
      coverages.some((c) => c.position === null) ? table("Coverages not billed", ["payer", "plan", "why"],
        coverages.filter((c) => c.position === null),
        (c) => [el("td", {}, c.payer_id), el("td", {}, c.plan_type), el("td", {}, show(c.inactive_reason))]) : null,
    ];
  }

  function moneySection(ledger, status) {
    const lines = (ledger && ledger.balance && ledger.balance.lines) || (status && status.lines) || [];
    const payers = [...new Set(lines.flatMap((line) => Object.keys(line.paid_by_payer || {})))];
    const columns = ["line", "procedure", { label: "charge", num: true }, ...payers.map((p) => ({ label: "paid by " + p, num: true })),
      { label: "adjustments", num: true }, { label: "patient", num: true }, "charge = paid + adj. + patient"];
    const total = (pick) => money(lines.reduce((sum, line) => sum + cents(pick(line)), 0));
    const balanced = (line) => cents(line.charge) === Object.values(line.paid_by_payer || {}).reduce((s, m) => s + cents(m), 0) + cents(line.adjustments) + cents(line.patient_responsibility);
    const foot = lines.length ? el("tr", {}, el("th", { scope: "row", colspan: 2 }, "Total"), el("td", { class: "num" }, total((l) => l.charge)),
      payers.map((p) => el("td", { class: "num" }, total((l) => (l.paid_by_payer || {})[p]))),
      el("td", { class: "num" }, total((l) => l.adjustments)), el("td", { class: "num" }, total((l) => l.patient_responsibility)), el("td", {})) : null;
    const balance = ledger && ledger.balance ? ledger.balance.balance : status && status.patient_responsibility;
    return [
      table("Each service line's money, to the cent", columns, lines, (line) => [
        el("td", {}, line.line_number), el("td", {}, line.procedure_code), num(line.charge),
        payers.map((p) => num((line.paid_by_payer || {})[p])), num(line.adjustments), num(line.patient_responsibility),
        el("td", { class: balanced(line) ? "ok" : "error" }, balanced(line) ? "✓ balances" : "✗ does not balance"),
      ], { empty: "No payer has paid yet: the money per line comes with the last payer's 835.", foot }),
      el("p", { class: "balance" }, "Patient balance: ", el("strong", {}, show(balance))),
    ];
  }

  function claimsSection(ledger) {
    const claims = (ledger && ledger.claims) || [];
    if (!claims.length) return [el("p", { class: "muted" }, "No claim sent yet.")];
    return claims.map((claim) => {
      const adjustments = (line) => (line.adjustments || []).map((a) => a.group_code + "-" + a.reason_code + " " + a.amount).join("; ");
      return el("article", { class: "claim" },
        el("h3", {}, "Claim " + claim.claim_control_number + " to " + claim.payer_id),
        el("dl", { class: "facts" }, facts([
          ["payer position", claim.payer_sequence],
          ["frequency", claim.frequency === "7" ? "7 (replacement)" : claim.frequency],
          ["acknowledged", (claim.accepted ? "accepted " : "rejected ") + show(claim.ack_status_code) + (claim.ack_reason ? ": " + claim.ack_reason : "")],
          ["835", claim.claim_status ? claim.claim_status + " (" + (CLP02[claim.claim_status] || "?") + ") on " + show(claim.adjudication_date) : "not yet"],
          ["charge", claim.total_charge], ["paid", claim.total_paid],
          ["payer claim number", claim.payer_claim_number],
          ["replaced by", claim.replaced_by || undefined],
        ])),
        table("Lines of " + claim.claim_control_number,
          ["line", "procedure", { label: "charge", num: true }, { label: "allowed", num: true }, { label: "paid", num: true }, "adjustments (group-CARC amount)", "remarks"],
          claim.lines || [],
          (line) => [el("td", {}, line.line_number), el("td", {}, line.procedure_code), num(line.charge), num(line.allowed), num(line.paid),
            el("td", {}, show(adjustments(line))), el("td", {}, show((line.remarks || []).join(", ")))],
          { empty: "No 835 yet." }));
    });
  }

  // A step recorded without a reason, told by its first few plain fields.
  function brief(about) {
    return Object.entries(about)
      .filter(([name, value]) => !["on", "by", "role"].includes(name) && value !== null && typeof value !== "object")
      .slice(0, 4).map(([name, value]) => words(name) + " " + value).join(" · ");
  }

  function timelineSection(events, open) {
    return table("Every step, oldest first (the audit trail)", ["day", "kind", "what", "by", "detail"], events, (event) => {
      const key = String(event.id);
      const about = event.detail || {};
      return [
        el("td", { class: "nowrap" }, show(event.on)),
        el("td", { class: "nowrap" }, words(event.kind)),
        el("td", {}, show(about.reason || about.note || brief(about))),
        el("td", {}, show(about.by)),
        el("td", {}, el("details", { "data-key": key, open: open.has(key) }, el("summary", {}, "detail"),
          el("pre", {}, JSON.stringify(about, null, 1)))),
      ];
    }, { empty: "No step recorded yet." });
  }

  function documentsSection(documents) {
    return table("Sent to and received from the payers, oldest first", ["recorded", "transaction", "direction", "payer", "claim", "problem"], documents,
      (d) => [el("td", { class: "nowrap" }, show(d.recorded_at).replace("T", " ").slice(0, 19)), el("td", {}, d.transaction),
        el("td", {}, d.direction), el("td", {}, d.payer_id), el("td", {}, show(d.claim_control_number)), el("td", {}, show(d.problem))],
      { empty: "No X12 document yet." });
  }

  // --- an encounter's actions: a form for what the encounter waits for, if the user's role may ---

  function field(label, control, hint) {
    const hintId = hint ? control.id + "-hint" : null;
    if (hintId) control.setAttribute("aria-describedby", hintId);
    return el("div", { class: "field" }, el("label", { for: control.id }, label), control,
      hint ? el("small", { id: hintId, class: "hint" }, hint) : null);
  }

  const input = (id, attrs) => el("input", { id, name: id, type: "text", autocomplete: "off", spellcheck: "false", ...attrs });
  const note = (id) => el("textarea", { id, name: id, rows: 2, maxlength: 2000 });
  const listed = (text) => text.split(/[\s,]+/).filter(Boolean).map((code) => code.toUpperCase());
  const value = (form, id) => form.querySelector("#" + id).value.trim();
  const ordinal = (n) => n + ({ 1: "st", 2: "nd", 3: "rd" }[n] || "th");

  // One action: its form, and what it posts where. `body(form)` is the JSON; `done(data)` the
  // line said once the API took it.
  function action(name, title, intro, fields, button, path, body, done) {
    const form = el("form", { class: "action", id: "action-" + name, "aria-labelledby": "h-action-" + name },
      el("h3", { id: "h-action-" + name }, title), el("p", { class: "intro" }, intro), fields,
      el("div", { class: "buttons" }, el("button", { type: "submit", class: "primary" }, button)));
    return { form, path, body: () => body(form), done };
  }

  // The encounter's claim at work: the last one to its current payer.
  function currentClaim(page) {
    const payer = page.status && page.status.current_payer;
    return ((page.ledger && page.ledger.claims) || []).filter((c) => c.payer_id === payer).pop() || null;
  }

  // What a claim's payer said: "denied CO-16 (remarks N290)", or its acknowledgment's rejection.
  function refusal(claim) {
    if (!claim.accepted) return "rejected " + show(claim.ack_status_code) + (claim.ack_reason ? ": " + claim.ack_reason : "");
    const lines = claim.lines || [];
    const codes = [...new Set(lines.flatMap((l) => (l.adjustments || []).map((a) => a.group_code + "-" + a.reason_code)))];
    const remarks = [...new Set(lines.flatMap((l) => l.remarks || []))];
    return "denied " + (codes.join(", ") || "without a code") + (remarks.length ? " (remarks " + remarks.join(", ") + ")" : "");
  }

  function correction(page, id, tasks) {
    const claim = currentClaim(page);
    const task = (tasks || []).find((t) => t.status === "open" && t.kind === "correction_needed");
    const lines = (claim && claim.lines) || [];
    const intro = task ? task.reason : claim ? "Claim " + claim.claim_control_number + " was " + refusal(claim) + "." : "";
    return action("correction", "Send a correction" + (claim ? " to claim " + claim.claim_control_number : ""), intro, [
      field("Rendering provider NPI", input("correction-npi", { inputmode: "numeric", pattern: "\\d{10}", maxlength: 10 }),
        "10 digits (RARC N290 asks for it)"),
      field("Diagnoses", input("correction-diagnoses"), "ICD-10-CM codes replacing the claim's, first the principal: J18.9, I10"),
      lines.length ? el("fieldset", {}, el("legend", {}, "Modifiers by line (replacing the line's; empty: unchanged)"),
        lines.map((line) => field("Line " + line.line_number + " (" + line.procedure_code + ")",
          input("correction-line-" + line.line_number, { size: 12 })))) : null,
      field("What was fixed", note("correction-note"), "for the audit trail"),
    ], "Send the correction", "/api/encounters/" + encodeURIComponent(id) + "/correction", (form) => {
      const modifiers = Object.fromEntries(lines.map((line) => [line.line_number, listed(value(form, "correction-line-" + line.line_number))])
        .filter(([, codes]) => codes.length));
      const diagnoses = listed(value(form, "correction-diagnoses"));
      return { rendering_provider_npi: value(form, "correction-npi") || null, line_modifiers: modifiers,
        diagnoses: diagnoses.length ? diagnoses : null, note: value(form, "correction-note") };
    }, (data) => "Correction sent: " + data.answer + ".");
  }

  // The level an appeal is at: one past the levels that upheld the denial (workflows/appeal.py
  // records each upheld level before it opens the next).
  const appealLevel = (page) => 1 + (page.timeline || []).filter((e) => e.workflow_id === page.status.current_claim && e.kind === "appeal_upheld").length;

  const by = (deadline) => (deadline ? " by " + deadline.due + " (" + deadline.rule + ")" : "");

  function filing(page, id, level) {
    const claim = currentClaim(page);
    return action("filing", "Record the appeal's filing",
      "The appeal of claim " + (claim ? claim.claim_control_number : page.status.current_claim) + " is open at level " + level
        + ": record it once it is filed" + by(page.status.next_deadline) + ".", [
        field("Level filed", input("filing-level", { type: "number", min: 1, step: 1, value: level, required: true })),
        field("What was sent", note("filing-note"), "e.g. CMS-20027 with the records"),
      ], "Record the filing", "/api/encounters/" + encodeURIComponent(id) + "/appeal/filing",
      (form) => ({ level: Number(value(form, "filing-level")), note: value(form, "filing-note") }),
      (data) => "Filing recorded: " + data.answer + ".");
  }

  function decision(page, id, level) {
    const outcome = (choice, label) => el("label", { class: "choice" },
      el("input", { type: "radio", name: "decision-outcome", id: "decision-" + choice, value: choice, required: true }), " " + label);
    return action("decision", "Record the reviewer's decision",
      "Level " + level + " is filed; its decision is due" + by(page.status.next_deadline) + ". An overturn then waits for the payer's new 835.", [
        field("Level decided", input("decision-level", { type: "number", min: 1, step: 1, value: level, required: true })),
        el("fieldset", {}, el("legend", {}, "The decision"), outcome("overturned", "overturned (for us)"), outcome("upheld", "upheld (the denial stands)")),
        field("Reference", note("decision-note"), "the decision letter's"),
      ], "Record the decision", "/api/encounters/" + encodeURIComponent(id) + "/appeal/decision",
      (form) => ({ level: Number(value(form, "decision-level")), outcome: form.querySelector("input[name=decision-outcome]:checked").value,
        note: value(form, "decision-note") }),
      (data) => "Decision recorded: " + data.answer + ".");
  }

  function order(page, id, payers) {
    const coverages = (page.ledger && page.ledger.coverages) || [];
    const plan = (payer) => (coverages.find((c) => c.payer_id === payer) || {}).plan_type;
    return action("order", "Set the payers' order",
      "No order-of-benefits rule decides which payer pays first: nothing is billed until a person sets the order. "
        + "Shown: the tentative order; the Tasks section says what the rules found.", [
        payers.map((payer, i) => field("Pays " + ordinal(i + 1), el("select", { id: "order-" + (i + 1), name: "order-" + (i + 1), required: true },
          payers.map((p) => el("option", { value: p, selected: p === payer }, p + (plan(p) ? " · " + plan(p) : "")))))),
        field("Why this order", el("textarea", { id: "order-reason", name: "order-reason", rows: 2, maxlength: 2000, required: true }),
          "who said so, for the audit trail: the family, the plans"),
      ], "Set the order and bill", "/api/encounters/" + encodeURIComponent(id) + "/order",
      (form) => ({ payer_ids: payers.map((_, i) => value(form, "order-" + (i + 1))), reason: value(form, "order-reason") }),
      (data) => "Order set: " + data.order.join(", ") + " (first to last); billing goes on.");
  }

  // The forms the encounter's stage calls for and the user may use, under a key that changes
  // only when they would: a poll never wipes what a person is typing.
  function actionsFor(page, tasks) {
    const status = page.status;
    if (!status) return { key: "", make: () => [] };
    const id = page.encounter_id;
    const stage = status.stage;
    const made = [];
    if (stage === "awaiting_correction" && MAY.has("claim.correct")) {
      const claim = currentClaim(page);
      made.push(["correction", status.current_claim, claim && claim.claim_control_number, () => correction(page, id, tasks)]);
    }
    if (stage === "appeal" && MAY.has("appeal.file")) {
      const level = appealLevel(page);
      made.push(["filing", status.current_claim, level, () => filing(page, id, level)]);
    }
    if (stage === "appeal_filed" && MAY.has("appeal.decide")) {
      const level = appealLevel(page);
      made.push(["decision", status.current_claim, level, () => decision(page, id, level)]);
    }
    if (stage === "held_order_review" && MAY.has("order.set")) {
      const payers = status.payer_order || [];
      made.push(["order", payers.join(","), "", () => order(page, id, payers)]);
    }
    return { key: made.map((m) => m.slice(0, 3).join("|")).join(";"), make: () => made.map((m) => m[3]()) };
  }

  async function encounter() {
    const id = body.dataset.encounter;
    const base = body.dataset.workflowBase;
    const part = (name, nodes) => document.getElementById(name).replaceChildren(...[nodes].flat(Infinity).filter(Boolean));
    const unchanged = sameAsLast();
    const section = document.getElementById("actions-section");
    const outcome = document.getElementById("action-message");
    let drawn = null;  // the key of the forms shown

    function tell(text, kind) {
      outcome.textContent = text;
      outcome.className = kind || "";
      section.hidden = !outcome.textContent && !document.querySelector("#actions form");
    }

    // Post a form's JSON; the API's answer is said under the forms (a refusal's reason too,
    // the form kept as typed), and the page's data fetched anew.
    async function send(made) {
      const button = made.form.querySelector("button[type=submit]");
      button.disabled = true;
      tell("Sending…");
      try {
        const answer = await api(made.path, { method: "POST", json: made.body() });
        if (answer.ok) made.form.remove();
        tell(answer.ok ? made.done(answer.data) : detail(answer), answer.ok ? "ok" : "error");
      } finally {
        button.disabled = false;
      }
      await refresh();
    }

    function drawActions(page, tasks) {
      const wanted = actionsFor(page, tasks);
      if (wanted.key === drawn) return;
      drawn = wanted.key;
      part("actions", wanted.make().map((made) => {
        made.form.addEventListener("submit", (event) => {
          event.preventDefault();
          send(made);
        });
        return made.form;
      }));
      tell(outcome.textContent, outcome.className);
    }

    async function refresh() {
      const [answer, tasks] = await Promise.all([
        api("/api/encounters/" + encodeURIComponent(id)),
        MAY.has("task.read") ? api("/api/tasks?all=true&encounter=" + encodeURIComponent(id)) : Promise.resolve(null),
      ]);
      if (!answer.ok) return say(detail(answer), "error");
      if (unchanged(answer.data, tasks && tasks.data)) return;
      const page = answer.data;
      const ledger = page.ledger;
      const status = page.status;
      say(page.temporal ? "Temporal does not answer (" + page.temporal + "): the ledger's facts only." : "", page.temporal ? "error" : "");
      document.getElementById("stage").textContent = words((status && status.stage) || (ledger && ledger.status));
      const claim = status && status.current_claim;
      document.getElementById("claim-link").replaceChildren(...(claim ? [" · ", el("a", { href: base + encodeURIComponent(claim), target: "_blank", rel: "noopener noreferrer" }, "its current claim " + claim)] : []));
      const deadline = status && status.next_deadline;
      drawActions(page, tasks && tasks.ok ? tasks.data : null);
      part("facts", facts([
        ["patient", ledger ? ledger.patient_name : undefined],
        ["service date", ledger ? ledger.service_date : undefined],
        ["total charge", ledger ? ledger.total_charge : undefined],
        ["stage", words((status && status.stage) || (ledger && ledger.status))],
        ["current payer", status ? status.current_payer : undefined],
        ["next deadline", deadline ? words(deadline.kind) + " by " + deadline.due + ": " + deadline.rule + " (" + deadline.citation + ")" : dash],
        ["patient responsibility", (ledger && ledger.patient_responsibility) || (status && status.patient_responsibility)],
      ]));
      part("order", orderSection(ledger, status));
      part("money", moneySection(ledger, status));
      part("claims", claimsSection(ledger));
      if (tasks && tasks.ok) {
        part("encounter-tasks", table("The worklist's tasks for this encounter", ["due", "kind", "what to do", "held by", "status"], tasks.data,
          (t) => [el("td", { class: "nowrap" }, show(t.due)), el("td", {}, words(t.kind)), el("td", { class: "reason" }, t.reason),
            el("td", {}, show(t.assignee)), el("td", {}, t.status === "open" ? "open" : "closed: " + show(t.resolution))],
          { empty: "No task: nothing waits for a person." }));
      }
      const open = new Set([...document.querySelectorAll("#timeline details[open]")].map((d) => d.dataset.key));
      part("timeline", timelineSection(page.timeline || [], open));
      part("documents", documentsSection(page.documents || []));
    }

    every(refresh);
  }

  // --- the dashboard ---

  const PALETTE = ["#1f5f99", "#d9822b", "#2e8b57", "#b03a48", "#6a4c93", "#7a7a7a"];
  const payerRows = (rows) => rows.filter((r) => r.payer_id !== null);
  // How each report is drawn: its rows, their label, and the columns drawn as bars.
  const CHARTS = {
    "ar-aging": { rows: payerRows, label: (r) => r.payer_id, series: (columns) => columns.filter((c) => c.startsWith("days_")), stacked: true },
    "denials": { rows: (rows) => rows.filter((r) => r.payer_id !== null && r.carc === null), label: (r) => r.payer_id, series: () => ["denial_rate"], percent: true },
    "days-to-pay": { rows: payerRows, label: (r) => r.payer_id, series: () => ["median_days", "p90_days"] },
    "first-pass": { rows: payerRows, label: (r) => r.payer_id, series: () => ["first_pass_rate", "clean_rate"], percent: true },
    "underpayments": { rows: payerRows, label: (r) => r.payer_id, series: () => ["expected", "paid"] },
    "top-procedures": { rows: (rows) => rows.filter((r) => r.ranked_by === "charges"), label: (r) => r.procedure_code, series: () => ["charges", "denied_amount"], horizontal: true },
  };
  const ALL = { payer_id: "all payers", carc: "all" };

  function cell(column, value) {
    if (value === null && ALL[column]) return el("td", { class: "muted" }, ALL[column]);
    if (column.endsWith("_rate") && value !== null) return num((Number(value) * 100).toFixed(2) + "%");
    // counts come as numbers, money and rates as decimals; a code ("16", "99213") is text
    return typeof value === "number" || /^-?\d+\.\d+$/.test(String(value)) ? num(value) : el("td", {}, show(value));
  }

  function chartData(report, rows) {
    const spec = CHARTS[report.name] || { rows: (r) => r, label: (r) => String(Object.values(r)[0]), series: (columns) => columns.slice(1) };
    const drawn = spec.rows(rows);
    const series = spec.series(report.columns);
    return {
      spec,
      data: {
        labels: drawn.map(spec.label),
        datasets: series.map((column, i) => ({
          label: words(column), backgroundColor: PALETTE[i % PALETTE.length],
          data: drawn.map((r) => (r[column] === null ? null : Number(r[column]) * (spec.percent ? 100 : 1))),
        })),
      },
    };
  }

  async function dashboard() {
    const holder = document.getElementById("reports");
    const charts = {};
    const listed = await api("/api/reports");
    if (!listed.ok) return say(detail(listed), "error");
    const reports = listed.data;
    const parts = {};
    holder.replaceChildren(...reports.map((report) => {
      parts[report.name] = {
        canvas: el("canvas", { role: "img", "aria-label": report.title + ": a chart of the table below" }),
        table: el("div", {}),
        unchanged: sameAsLast(),
      };
      return el("section", { class: "report", id: "report-" + report.name, "aria-labelledby": "h-" + report.name },
        el("h2", { id: "h-" + report.name }, report.title, " ", el("code", {}, report.name)),
        el("div", { class: "chart" }, parts[report.name].canvas),
        parts[report.name].table,
        el("details", { class: "definition" }, el("summary", {}, "Definition"), el("p", { class: "pre" }, report.definition)));
    }));

    async function refresh() {
      const answers = await Promise.all(reports.map((report) => api("/api/reports/" + encodeURIComponent(report.name))));
      reports.forEach((report, i) => {
        const answer = answers[i];
        const part = parts[report.name];
        if (!answer.ok) {
          part.table.replaceChildren(el("p", { class: "error" }, detail(answer)));
          return;
        }
        const rows = answer.data;
        if (part.unchanged(rows)) return;
        part.table.replaceChildren(table(report.title + ": the figures", report.columns.map((c) => ({ label: c, num: false })), rows,
          (row) => report.columns.map((c) => cell(c, row[c])), { empty: "No rows yet." }));
        const { spec, data } = chartData(report, rows);
        if (typeof Chart === "undefined") return;  // the table says it all
        if (charts[report.name]) {
          charts[report.name].data = data;
          charts[report.name].update("none");
          return;
        }
        charts[report.name] = new Chart(part.canvas, {
          type: "bar",
          data,
          options: {
            animation: false, responsive: true, maintainAspectRatio: false,
            indexAxis: spec.horizontal ? "y" : "x",
            plugins: { legend: { position: "bottom" }, title: { display: !data.labels.length, text: "No data yet" } },
            scales: {
              x: { stacked: !!spec.stacked, beginAtZero: true },
              y: { stacked: !!spec.stacked, beginAtZero: true, ticks: spec.percent ? { callback: (v) => v + "%" } : {} },
            },
          },
        });
      });
    }

    every(refresh);
  }

  const PAGES = { worklist, encounter, dashboard };
  if (PAGES[PAGE]) PAGES[PAGE]();
})();
