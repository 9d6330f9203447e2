// Providers: add one from its type's template (the right credential fields, secrets in
// password fields), edit, disable, test the connection, and see health and breaker history.

import { all, api } from "../api.js";
import { busy, field, h, heading, pct, select, table, toast, values } from "../ui.js";
import { lineChart } from "../charts.js";
import { health } from "../widgets.js";

export async function render(main, ctx) {
  const types = (await api("/v1/provider-types")).data.filter((t) => {
    const ai = `ai.${t.name}` in ctx.features;
    return ctx.on(ai ? `ai.${t.name}` : `carrier.${t.name}`) && (!ai || ctx.on("ai_agents"));
  });
  const listBox = h("section", { "aria-labelledby": "plist-h" });
  const detailBox = h("section", { class: "panel", hidden: true, "aria-live": "polite" });
  const addBox = h("section", { class: "panel", "aria-labelledby": "padd-h" });
  main.append(heading("Providers"), listBox, detailBox, addBox);

  const draw = async () => {
    const providers = await all("/v1/providers");
    listBox.replaceChildren(
      h("h2", { id: "plist-h", text: "Your providers" }),
      table(
        [
          { label: "Name", value: (p) => p.name },
          { label: "Type", value: (p) => p.type },
          { label: "State", value: (p) => h("span", { class: p.active ? "badge good" : "badge muted", text: p.active ? "active" : "disabled" }) },
          { label: "Priority", value: (p) => String(p.priority), num: true },
          { label: "Weight", value: (p) => String(p.weight), num: true },
          { label: "Health", value: (p) => health(p.health) },
          { label: "Actions", value: (p) => actions(p) },
        ],
        providers,
        { empty: "No provider yet: add one below (the sandbox works offline)." },
      ),
    );
  };

  const actions = (p) => {
    const test = h("button", { type: "button", class: "secondary", text: "Test" });
    test.addEventListener("click", () => busy(test, async () => {
      const r = await api(`/v1/providers/${p.id}/test`, { method: "POST" });
      toast(`${p.name}: ${r.ok ? "connection works" : "failed"} — ${r.detail || ""} (${r.latency_ms} ms)`, r.ok ? "" : "bad");
    }));
    const toggle = h("button", { type: "button", class: "secondary", text: p.active ? "Disable" : "Enable" });
    toggle.addEventListener("click", () => busy(toggle, async () => {
      await api(`/v1/providers/${p.id}`, { method: "PATCH", body: { active: !p.active } });
      toast(`${p.name} ${p.active ? "disabled" : "enabled"}.`);
      draw();
    }));
    const edit = h("button", { type: "button", class: "secondary", text: "Edit" });
    edit.addEventListener("click", () => showDetail(p));
    return h("div", { class: "actions" }, ctx.can("operator") ? test : null, ctx.can("admin") ? edit : null, ctx.can("admin") ? toggle : null);
  };

  const showDetail = async (p) => {
    const type = types.find((t) => t.name === p.type);
    const err = h("div");
    const form = h("form", { class: "inline" },
      field("Name", h("input", { name: "name", value: p.name, required: true })),
      field("Priority", h("input", { name: "priority", type: "number", value: String(p.priority) }), "Lower goes first with the priority strategy.", { advanced: true }),
      field("Weight", h("input", { name: "weight", type: "number", min: "0", value: String(p.weight) }), "Share with the weighted strategy.", { advanced: true }),
      ...(type ? type.credentials : []).map((c) =>
        field(c.label, h("input", { name: `cred.${c.name}`, type: c.secret ? "password" : "text", autocomplete: "off", placeholder: p.credentials[c.name] || "" }), "Leave empty to keep the stored value.", { advanced: !c.required })),
      h("button", { type: "submit", text: "Save" }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(form.querySelector("button[type=submit]"), async () => {
        await api(`/v1/providers/${p.id}`, { method: "PATCH", body: body(form, true) });
        toast(`${p.name} saved.`);
        detailBox.hidden = true;
        draw();
      }, err);
    });
    const history = h("div");
    detailBox.replaceChildren(h("h2", { text: `Edit ${p.name}` }), err, form, h("h2", { text: "Health history" }), health(p.health), history);
    detailBox.hidden = false;
    if (ctx.on("cost_analytics")) {
      const days = (await api("/v1/analytics/carriers?by=day")).data.filter((r) => r.provider === p.id);
      if (days.length) {
        lineChart(history, {
          label: `Success ratio per day for ${p.name}`,
          times: days.map((d) => Date.parse(d.day) / 1000),
          series: [{ label: "success %", values: days.map((d) => Number(d.success_ratio) * 100) }],
        });
      }
      history.append(table(
        [
          { label: "Day", value: (d) => d.day },
          { label: "Sends", value: (d) => String(d.attempts), num: true },
          { label: "Success", value: (d) => pct(d.success_ratio), num: true },
          { label: "Failovers", value: (d) => String(d.failovers), num: true },
          { label: "PDD ms", value: (d) => d.pdd_ms ?? "—", num: true },
        ],
        days,
        { caption: "Per day", empty: "No finished sends in the last 30 days." },
      ));
    }
    detailBox.querySelector("h2").scrollIntoView({ block: "nearest" });
  };

  // Adding: a type, then its template's fields.
  const err = h("div");
  const typeSelect = select("type", [["", "Choose a type…"], ...types.map((t) => [t.name, t.display_name])], "");
  typeSelect.required = true;
  const fields = h("div", { class: "inline-fields" });
  const addForm = h("form", {}, h("div", { class: "inline" }, field("Type", typeSelect), field("Name", h("input", { name: "name", required: true }))), fields, h("button", { type: "submit", text: "Add provider" }));
  typeSelect.addEventListener("change", () => {
    const t = types.find((x) => x.name === typeSelect.value);
    fields.replaceChildren(...(t ? [
      h("p", { class: "muted", text: `${t.display_name}: ${t.capabilities.join(", ")}` }),
      h("div", { class: "inline" }, ...t.credentials.map((c) =>
        field(c.label + (c.required ? " (required)" : ""), h("input", { name: `cred.${c.name}`, type: c.secret ? "password" : "text", autocomplete: "off", required: c.required ? true : null }), null, { advanced: !c.required }))),
    ] : []));
  });
  addForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(addForm.querySelector("button[type=submit]"), async () => {
      const p = await api("/v1/providers", { method: "POST", body: { type: typeSelect.value, ...body(addForm, false) } });
      toast(`${p.name} added.`);
      addForm.reset();
      fields.replaceChildren();
      draw();
    }, err);
  });
  if (ctx.can("admin")) addBox.append(h("h2", { id: "padd-h", text: "Add a provider" }), err, addForm);
  await draw();
}

/** The JSON body of a provider form: `cred.*` fields become `credentials`. */
function body(form, patch) {
  const v = values(form);
  const out = { credentials: {} };
  for (const [k, val] of Object.entries(v)) {
    if (k === "type") continue;
    if (k.startsWith("cred.")) out.credentials[k.slice(5)] = val;
    else if (k === "priority" || k === "weight") out[k] = Number(val);
    else out[k] = val;
  }
  if (patch && !Object.keys(out.credentials).length) delete out.credentials;
  return out;
}
