// Routing tester: where a number (or address) would go on a channel with a strategy, with
// the alternates, the excluded providers and why.

import { all, api } from "../api.js";
import { busy, field, h, heading, money, select, table } from "../ui.js";

const STRATEGIES = [["", "Organisation default"], ["least_cost", "Least cost"], ["priority", "Priority"], ["quality", "Quality"], ["balanced", "Balanced"], ["weighted", "Weighted"], ["load_balanced", "Load balanced"]];
const CHANNELS = [["voice", "Voice"], ["sms", "SMS"], ["mms", "MMS"], ["whatsapp", "WhatsApp"], ["email", "Email"]];

export async function render(main) {
  const names = Object.fromEntries((await all("/v1/providers")).map((p) => [p.id, p.name]));
  const name = (id) => names[id] || id;
  const out = h("section", { "aria-live": "polite" });
  const target = h("input", { name: "target", required: true, placeholder: "+14155550100 or ada@example.com" });
  const channel = select("channel", CHANNELS, "voice");
  const strategy = select("strategy", STRATEGIES, "");
  const alternates = h("input", { name: "alternates", type: "number", min: "0", max: "10", value: "3" });
  const duration = h("input", { name: "duration_secs", type: "number", min: "1", placeholder: "60" });
  const form = h("form", { class: "inline panel" },
    field("Number or email address", target),
    field("Channel", channel),
    field("Strategy", strategy),
    field("Alternates", alternates, null, { advanced: true }),
    field("Call length (s)", duration, "Prices the call at this length.", { advanced: true }),
    h("button", { type: "submit", text: "Decide" }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { channel: channel.value, alternates: Number(alternates.value || 3) };
    if (target.value.includes("@")) body.email = target.value.trim();
    else body.number = target.value.trim();
    if (strategy.value) body.strategy = strategy.value;
    if (duration.value) body.duration_secs = Number(duration.value);
    busy(form.querySelector("button"), async () => draw(await api("/v1/routing/decide", { method: "POST", body })), out);
  });
  main.append(heading("Routing tester"), form, out);

  function draw(d) {
    out.replaceChildren(
      h("h2", { text: `Decision (${d.strategy.replace("_", " ")}, ${d.decision_us.toFixed(0)} µs)` }),
      d.primary
        ? h("div", { class: "panel", "data-testid": "primary" },
            h("p", {}, h("strong", { text: `Goes to ${name(d.primary.provider)}` }), ` at ${money(d.primary.rate, d.primary.currency)} (expected ${money(d.primary.expected_cost, d.primary.currency)}).`),
            h("p", { class: "muted", text: d.primary.why }))
        : h("div", { class: "error", role: "alert", text: `No route: ${d.refusal ? JSON.stringify(d.refusal) : "no provider can carry it"}` }),
      h("h2", { text: "Alternates" }),
      table([
        { label: "Provider", value: (x) => name(x.provider) },
        { label: "Prefix", value: (x) => x.prefix },
        { label: "Rate", value: (x) => money(x.rate, x.currency), num: true },
        { label: "Expected cost", value: (x) => money(x.expected_cost, x.currency), num: true },
        { label: "Why", value: (x) => x.why },
      ], d.alternates, { empty: "No alternate." }),
      h("h2", { text: "Excluded" }),
      table([
        { label: "Provider", value: (x) => name(x.provider) },
        { label: "Reason", value: (x) => x.reason || x.why || JSON.stringify(x) },
      ], d.excluded, { empty: "No provider was excluded." }),
    );
  }
}
