// One message, call or email with its whole timeline: created, the routing decision, every
// attempt, every provider report (webhook), and its cost components.

import { all, api } from "../api.js";
import { h, heading, money, table, when } from "../ui.js";

export async function render(main, ctx, params) {
  const kind = location.pathname.split("/")[1];
  const names = Object.fromEntries((await all("/v1/providers")).map((p) => [p.id, p.name]));
  const name = (id) => names[id] || id || "—";
  const r = await api(`/v1/${kind}/${encodeURIComponent(params.id)}`);
  const items = [{ at: r.created_at, text: `Created (${r.channel || kind}) to ${r.to}` }];
  const d = r.decision;
  if (d && d.primary) {
    items.push({ at: r.created_at, text: `Routed by ${d.strategy.replace("_", " ")} to ${name(d.primary.provider)}: ${d.primary.why}${d.alternates.length ? `; alternates ${d.alternates.map((a) => name(a.provider)).join(", ")}` : ""}${d.excluded.length ? `; excluded ${d.excluded.map((x) => `${name(x.provider)} (${x.reason})`).join(", ")}` : ""}` });
  }
  for (const a of r.attempts || []) {
    items.push({ at: a.started_at, text: `Attempt ${a.seq + 1} through ${name(a.provider_id)}${a.from ? ` from ${a.from}` : ""}: ${a.status}${a.error_message ? ` — ${a.error_message}` : ""}` });
  }
  for (const e of r.events || []) {
    items.push({ at: e.occurred_at_ms || e.received_at || e.created_at || null, text: `Provider report: ${e.status || e.kind}${e.error_code ? ` (error ${e.error_code})` : ""}${e.price ? `, price ${e.price}` : ""}` });
  }
  items.push({ at: r.updated_at, text: `Now ${r.status}${r.error_message ? `: ${r.error_message}` : ""}` });
  main.append(
    heading(`${kind.slice(0, -1).replace(/^./, (c) => c.toUpperCase())} ${r.id}`),
    h("p", {}, h("a", { href: `/messages?kind=${kind}`, "data-link": true, text: `← all ${kind}` })),
    h("div", { class: "grid" },
      h("div", { class: "card" }, h("div", { class: "label", text: "Status" }), h("div", { class: "value", "data-testid": "status", text: r.status })),
      h("div", { class: "card" }, h("div", { class: "label", text: "Cost" }), h("div", { class: "value", text: money(r.cost, r.currency || "") })),
      h("div", { class: "card" }, h("div", { class: "label", text: "Baseline" }), h("div", { class: "value", text: money(r.baseline_cost, r.currency || "") }))),
    h("h2", { text: "Timeline" }),
    h("ol", { class: "timeline" }, items.map((i) => h("li", {}, i.at ? h("time", { datetime: new Date(i.at).toISOString(), text: when(i.at) }) : null, i.text))),
    h("h2", { text: "Cost components" }),
    table([
      { label: "Component", value: (c) => c.component },
      { label: "Provider", value: (c) => name(c.provider_id) },
      { label: "Quantity", value: (c) => `${c.quantity} ${c.unit}`, num: true },
      { label: "Unit price", value: (c) => money(c.unit_price, c.currency), num: true },
      { label: "Fee", value: (c) => money(c.fee, c.currency), num: true },
      { label: "Amount", value: (c) => money(c.amount, c.currency), num: true },
    ], r.costs || [], { empty: "Not rated yet." }),
  );
}
