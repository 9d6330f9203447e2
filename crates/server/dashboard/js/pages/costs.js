// Costs: spend and savings by day, provider, country and campaign (charts with the same
// figures in tables), and the budgets editor with each budget's alert and stop thresholds.

import { all, api } from "../api.js";
import { busy, field, h, heading, money, select, table, toast, values } from "../ui.js";
import { barChart, lineChart } from "../charts.js";
import { meter } from "../widgets.js";

export async function render(main, ctx) {
  const providers = await all("/v1/providers");
  const names = Object.fromEntries(providers.map((p) => [p.id, p.name]));
  const range = select("days", [["7", "Last 7 days"], ["30", "Last 30 days"], ["90", "Last 90 days"]], "30");
  const charts = h("div");
  const budgets = h("section", { class: "panel", "aria-labelledby": "bud-h" });
  main.append(heading("Costs"));
  if (ctx.on("cost_analytics")) main.append(h("form", { class: "inline", onsubmit: (e) => e.preventDefault() }, field("Range", range)), charts);
  else main.append(h("p", { class: "muted", text: "Cost analytics is switched off (Settings → Features); budgets still hold." }));
  main.append(budgets);

  const drawCharts = async () => {
    const from = new Date(Date.now() - (Number(range.value) - 1) * 86400000).toISOString().slice(0, 10);
    const [byDay, saved, byProvider, byCountry, byCampaign] = await Promise.all([
      api(`/v1/analytics/spend?group_by=day&from=${from}`),
      api(`/v1/analytics/savings?period=day&from=${from}`),
      api(`/v1/analytics/spend?group_by=provider&from=${from}`),
      api(`/v1/analytics/spend?group_by=country&from=${from}`),
      api(`/v1/analytics/spend?group_by=campaign&from=${from}`),
    ]);
    const total = byDay.totals[0];
    charts.replaceChildren(
      h("div", { class: "grid" },
        h("div", { class: "card" }, h("div", { class: "label", text: "Spent" }), h("div", { class: "value", text: total ? money(total.cost, total.currency) : "—" })),
        h("div", { class: "card" }, h("div", { class: "label", text: "Saved against the baseline" }), h("div", { class: "value", text: total ? money(total.saved, total.currency) : "—" }), h("div", { class: "sub", text: total ? `${total.saved_pct} % of ${money(total.baseline, total.currency)}` : "" })),
        h("div", { class: "card" }, h("div", { class: "label", text: "Sends" }), h("div", { class: "value", text: total ? String(total.sends) : "0" }))),
    );
    const section = (title, body) => h("section", { class: "panel" }, h("h2", { text: title }), body);
    // Every day of the range, with nothing spent on days without sends.
    const dayList = [];
    for (let t = Date.parse(from); t <= Date.now(); t += 86400000) dayList.push(new Date(t).toISOString().slice(0, 10));
    const perDay = (report, key) => {
      const found = Object.fromEntries(report.data.map((r) => [r.day, Number(r[key])]));
      return dayList.map((d) => found[d] ?? 0);
    };
    const times = dayList.map((d) => Date.parse(d) / 1000);
    const days = h("div");
    charts.append(section("Spend per day", days));
    lineChart(days, {
      label: `Spend and baseline per day, ${range.selectedOptions[0].text}`,
      times,
      series: [{ label: "cost", values: perDay(byDay, "cost") }, { label: "baseline", values: perDay(byDay, "baseline") }],
    });
    const savedBox = h("div");
    charts.append(section("Savings per day", savedBox));
    lineChart(savedBox, { label: "Saved per day against the baseline", times, series: [{ label: "saved", values: perDay(saved, "saved") }] });
    for (const [title, report, key, label] of [
      ["By provider", byProvider, "provider", (v) => names[v] || v || "—"],
      ["By country", byCountry, "country", (v) => v || "unknown"],
      ["By campaign", byCampaign, "campaign", (v) => v || "no campaign"],
    ]) {
      const box = h("div");
      charts.append(section(title, box));
      barChart(box, {
        label: `Spend ${title.toLowerCase()}`,
        categories: report.data.map((r) => label(r[key])),
        series: [{ label: "cost", values: report.data.map((r) => Number(r.cost)) }, { label: "baseline", values: report.data.map((r) => Number(r.baseline)) }],
      });
      box.append(table([
        { label: title.replace("By ", "").replace(/^./, (c) => c.toUpperCase()), value: (r) => label(r[key]) },
        { label: "Sends", value: (r) => String(r.sends), num: true },
        { label: "Cost", value: (r) => money(r.cost, r.currency), num: true },
        { label: "Baseline", value: (r) => money(r.baseline, r.currency), num: true },
        { label: "Saved", value: (r) => `${money(r.saved, r.currency)} (${r.saved_pct} %)`, num: true },
      ], report.data));
    }
  };
  range.addEventListener("change", () => drawCharts().catch((e) => toast(e.message, "bad")));

  const drawBudgets = async () => {
    const list = (await api("/v1/budgets")).data;
    const err = h("div");
    const editable = ctx.can("admin") && ctx.on("budgets");
    budgets.replaceChildren(h("h2", { id: "bud-h", text: "Budgets" }), err);
    for (const b of list) {
      const row = h("div", { class: "panel" }, meter(b, names));
      if (editable) {
        const form = h("form", { class: "inline" },
          field("Amount", h("input", { name: "amount", value: b.amount, inputmode: "decimal" })),
          field("Alert at %", h("input", { name: "alert_pct", type: "number", min: "1", max: "100", value: String(b.alert_pct) })),
          field("Stop at %", h("input", { name: "stop_pct", type: "number", min: "1", max: "200", value: String(b.stop_pct) })),
          h("button", { type: "submit", class: "secondary", text: "Save" }));
        form.addEventListener("submit", (e) => {
          e.preventDefault();
          const v = values(form);
          busy(form.querySelector("button"), async () => {
            await api(`/v1/budgets/${b.id}`, { method: "PATCH", body: { amount: v.amount, alert_pct: Number(v.alert_pct), stop_pct: Number(v.stop_pct) } });
            toast("Budget saved.");
            drawBudgets();
          }, err);
        });
        const del = h("button", { type: "button", class: "danger", text: "Delete" });
        del.addEventListener("click", () => busy(del, async () => {
          await api(`/v1/budgets/${b.id}`, { method: "DELETE" });
          drawBudgets();
        }, err));
        row.append(form, del);
      }
      budgets.append(row);
    }
    if (!list.length) budgets.append(h("p", { class: "muted", text: "No budget yet." }));
    if (!editable) return;
    const scope = select("scope", [["organization", "Whole organisation"], ...providers.map((p) => [`provider:${p.id}`, `Provider ${p.name}`])], "organization");
    const create = h("form", { class: "inline" },
      field("Scope", scope),
      field("Period", select("period", [["daily", "Daily"], ["monthly", "Monthly"]], "daily")),
      field("Amount", h("input", { name: "amount", required: true, inputmode: "decimal", placeholder: "100.00" })),
      field("Currency", h("input", { name: "currency", value: "USD", maxlength: "3", size: "4" })),
      field("Alert at %", h("input", { name: "alert_pct", type: "number", min: "1", max: "100", value: "80" })),
      field("Stop at %", h("input", { name: "stop_pct", type: "number", min: "1", max: "200", value: "100" })),
      h("button", { type: "submit", text: "Create budget" }));
    create.addEventListener("submit", (e) => {
      e.preventDefault();
      const v = values(create);
      const [kind, id] = v.scope.split(":");
      busy(create.querySelector("button"), async () => {
        await api("/v1/budgets", { method: "POST", body: { scope: id ? { kind, id } : { kind }, period: v.period, amount: v.amount, currency: v.currency, alert_pct: Number(v.alert_pct), stop_pct: Number(v.stop_pct) } });
        toast("Budget created.");
        drawBudgets();
      }, err);
    });
    budgets.append(h("h3", { text: "New budget" }), create);
  };

  await Promise.all([ctx.on("cost_analytics") ? drawCharts() : null, drawBudgets()]);
}
