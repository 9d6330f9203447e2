// Pieces several pages show: a budget's meter and a provider's health.

import { h, money } from "./ui.js";

/** A budget's spend with its alert and stop thresholds drawn on the bar. */
export function meter(b, names = {}) {
  const amount = Number(b.amount);
  const spent = Number(b.window.spent);
  const share = amount > 0 ? Math.min(spent / amount, 1) : 0;
  const level = spent >= Number(b.stop_at) ? "stop" : spent >= Number(b.alert_at) ? "alert" : "";
  const scope = b.scope.kind === "organization" ? "Whole organisation" : `${b.scope.kind} ${names[b.scope.id] || b.scope.id}`;
  return h("div", { class: "budget", "data-testid": "budget" },
    h("div", {}, h("strong", { text: `${scope}, ${b.period}` }), ` — spent ${money(b.window.spent, b.currency)} of ${money(b.amount, b.currency)} (${b.window.standing})`),
    h("div", { class: "meter", role: "meter", "aria-valuemin": "0", "aria-valuemax": String(amount), "aria-valuenow": String(spent), "aria-label": `${scope} spend` },
      h("div", { class: `fill ${level}`, style: `width:${(share * 100).toFixed(1)}%` }),
      h("span", { class: "mark alert", style: `left:${b.alert_pct}%`, text: `alert ${money(b.alert_at)}` }),
      h("span", { class: "mark stop", style: `left:${Math.min(b.stop_pct, 100)}%`, "data-testid": "stop-mark", text: `stop ${money(b.stop_at)}` })),
  );
}

/** A provider's breaker state and score. */
export function health(hl) {
  if (!hl) return "—";
  const state = hl.breaker ? hl.breaker.state : "unknown";
  const cls = state === "closed" ? "good" : state === "open" ? "bad" : "warn";
  return h("span", {}, h("span", { class: `badge ${cls}`, text: `breaker ${state}` }), ` score ${hl.score}`);
}
