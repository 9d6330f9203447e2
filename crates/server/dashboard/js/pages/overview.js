// Overview: today's activity (live over server-sent events), spend against the budget with
// its alert and stop thresholds, cost per call, the carriers compared, and recommendations.

import { all, api } from "../api.js";
import { busy, h, heading, money, pct, table, toast } from "../ui.js";
import { health, meter } from "../widgets.js";

export async function render(main, ctx) {
  const cards = h("div", { class: "grid", "aria-live": "polite" });
  const live = h("span", { class: "live", text: "" });
  const budgetBox = h("section", { class: "panel", "aria-labelledby": "budget-h" });
  const carriersBox = h("section", { class: "panel", "aria-labelledby": "carriers-h" });
  const recoBox = h("section", { class: "panel", "aria-labelledby": "reco-h" });
  main.append(heading("Overview"), h("p", { class: "muted" }, "Today, in the organisation's time zone. ", live), cards, budgetBox, carriersBox, recoBox);

  const names = {};
  for (const p of await all("/v1/providers")) names[p.id] = p.name;
  let day = null;
  let costPerCall = "…";

  const drawActivity = (a) => {
    day = a.day;
    const card = (label, c, rateLabel, id) =>
      h("div", { class: "card", "data-testid": id },
        h("div", { class: "label", text: label }),
        h("div", { class: "value", text: String(c.total) }),
        h("div", { class: "sub", text: `${rateLabel} ${pct(c.success_rate)} · ${c.succeeded} ok, ${c.failed} failed` }));
    cards.replaceChildren(
      card("Calls today", a.calls, "answered", "calls-today"),
      card("Messages today", a.messages, "delivered", "messages-today"),
      card("Emails today", a.emails, "delivered", "emails-today"),
      h("div", { class: "card", id: "cost-per-call" }, h("div", { class: "label", text: "Average cost per call" }), h("div", { class: "value", text: costPerCall })),
    );
  };

  const drawMoney = async () => {
    const budgets = (await api("/v1/budgets")).data;
    budgetBox.replaceChildren(h("h2", { id: "budget-h", text: "Spend against budget" }));
    if (!budgets.length) {
      budgetBox.append(h("p", {}, "No budget yet. ", h("a", { href: "/costs", "data-link": true, text: "Set one on the Costs page" }), " to warn and then stop sends at a limit."));
    }
    for (const b of budgets) budgetBox.append(meter(b, names));
    if (!ctx.on("cost_analytics")) {
      carriersBox.replaceChildren(h("h2", { id: "carriers-h", text: "Carriers today" }), h("p", { class: "muted", text: "Cost analytics is switched off (Settings → Features)." }));
      recoBox.replaceChildren();
      return;
    }
    const from = day ? `from=${day}` : "";
    const [carriers, byChannel] = await Promise.all([
      api(`/v1/analytics/carriers?${from}`),
      api(`/v1/analytics/spend?group_by=channel&${from}`),
    ]);
    const voice = byChannel.data.find((r) => r.channel === "voice");
    costPerCall = voice && voice.sends ? money(Number(voice.cost) / voice.sends, voice.currency) : "—";
    const cpc = document.querySelector("#cost-per-call .value");
    if (cpc) cpc.textContent = costPerCall;
    carriersBox.replaceChildren(h("h2", { id: "carriers-h", text: "Carriers today" }), carrierTable(carriers, names));
  };

  const drawRecommendations = async () => {
    if (!ctx.on("cost_analytics")) return;
    const r = await api("/v1/recommendations");
    recoBox.replaceChildren(
      h("h2", { id: "reco-h", text: "Recommendations" }),
      r.data.length
        ? h("ul", {}, r.data.map((rec) => {
            const b = h("button", { type: "button", class: "secondary", text: "Apply" });
            b.addEventListener("click", () => busy(b, async () => {
              await api(rec.apply.path, { method: rec.apply.method, body: rec.apply.body });
              toast("Applied.");
              drawRecommendations();
            }));
            return h("li", {}, rec.summary, " ", ctx.can("admin") ? b : null);
          }))
        : h("p", { class: "muted", text: `Nothing to change: the last ${r.days} days of traffic suggest no cheaper carrier of equal quality.` }),
    );
  };

  drawActivity(await api("/v1/overview"));
  await Promise.all([drawMoney(), drawRecommendations()]).catch((err) => toast(err.message, "bad"));

  // Live: activity events as sends change. Money figures count sends once they finish, so
  // they follow an event by a few seconds, and are refreshed every 10 s besides.
  let pending = null;
  const tick = setInterval(() => drawMoney().catch(() => {}), 10_000);
  const source = new EventSource("/v1/overview/stream");
  source.addEventListener("activity", (e) => {
    drawActivity(JSON.parse(e.data));
    live.textContent = `● live, updated ${new Date().toLocaleTimeString()}`;
    if (!pending) pending = setTimeout(() => { pending = null; drawMoney().catch(() => {}); }, 3000);
  });
  source.onerror = () => { live.textContent = "reconnecting…"; };
  return () => {
    source.close();
    clearInterval(tick);
    if (pending) clearTimeout(pending);
  };
}

/** Per carrier: volume, cost, success and health, marking the cheapest and the best value
 * (the lowest cost per successful send). */
function carrierTable(report, names) {
  const rows = report.data.filter((r) => r.attempts > 0);
  const cost = (r) => Number(r.cost_per_send);
  const perSuccess = (r) => (Number(r.success_ratio) > 0 ? cost(r) / Number(r.success_ratio) : Infinity);
  const cheapest = rows.reduce((best, r) => (!best || cost(r) < cost(best) ? r : best), null);
  const value = rows.reduce((best, r) => (!best || perSuccess(r) < perSuccess(best) ? r : best), null);
  return table(
    [
      { label: "Carrier", value: (r) => h("span", {}, names[r.provider] || r.provider, " ",
          r === value ? h("span", { class: "badge good", text: "best value" }) : null, " ",
          r === cheapest ? h("span", { class: "badge", text: "cheapest" }) : null) },
      { label: "Sends", value: (r) => String(r.attempts), num: true },
      { label: "Cost per send", value: (r) => money(r.cost_per_send, r.currency), num: true },
      { label: "Success", value: (r) => pct(r.success_ratio), num: true },
      { label: "Failovers", value: (r) => String(r.failovers), num: true },
      { label: "Health", value: (r) => health(report.health[r.provider]) },
    ],
    rows,
    { empty: "No finished sends today yet." },
  );
}
