// Numbers and pools: list and filter numbers, buy, assign, rest (spam flag) and release,
// with each number's pools, daily caps and usage.

import { all, api } from "../api.js";
import { busy, field, h, heading, money, pct, select, table, toast, values, when } from "../ui.js";

export async function render(main, ctx) {
  const providers = await all("/v1/providers");
  const names = Object.fromEntries(providers.map((p) => [p.id, p.name]));
  const filterText = h("input", { type: "search", name: "q", placeholder: "+1212, US, NY…" });
  const filterProvider = select("provider", [["", "All providers"], ...providers.map((p) => [p.id, p.name])], "");
  const listBox = h("div");
  const detailBox = h("section", { class: "panel", hidden: true, "aria-live": "polite" });
  const buyBox = h("section", { class: "panel", "aria-labelledby": "buy-h" });
  const poolsBox = h("section", { class: "panel", "aria-labelledby": "pools-h" });
  main.append(
    heading("Numbers"),
    h("form", { class: "inline", role: "search", onsubmit: (e) => e.preventDefault() }, field("Filter", filterText), field("Provider", filterProvider)),
    listBox, detailBox, buyBox, poolsBox,
  );
  let numbers = [];
  const pools = {};
  if (ctx.on("number_rotation")) for (const p of (await api("/v1/pools")).data) pools[p.name] = p;

  const drawList = () => {
    const q = filterText.value.trim().toLowerCase();
    const shown = numbers.filter((n) =>
      (!filterProvider.value || n.provider_id === filterProvider.value) &&
      (!q || [n.e164, n.country, n.region, n.area_code, n.status].some((v) => (v || "").toLowerCase().includes(q))));
    listBox.replaceChildren(table([
      { label: "Number", value: (n) => n.e164 },
      { label: "Provider", value: (n) => names[n.provider_id] || n.provider_id },
      { label: "Country / region", value: (n) => `${n.country || "—"} ${n.region || ""}` },
      { label: "Can", value: (n) => ["voice", "sms", "mms"].filter((c) => n[c]).join(", ") },
      { label: "Assigned to", value: (n) => (n.assignment ? `${n.assignment.kind} ${n.assignment.id}` : "—") },
      { label: "State", value: (n) => (n.rest_until && n.rest_until > Date.now() ? h("span", { class: "badge warn", text: `resting until ${when(n.rest_until)}` }) : n.status) },
      { label: "", value: (n) => {
        const b = h("button", { type: "button", class: "secondary", text: "Details" });
        b.addEventListener("click", () => busy(b, () => showDetail(n.id)));
        return b;
      } },
    ], shown, { caption: `${shown.length} of ${numbers.length} numbers`, empty: "No number matches." }));
  };
  const load = async () => {
    numbers = await all("/v1/numbers");
    drawList();
  };
  filterText.addEventListener("input", drawList);
  filterProvider.addEventListener("change", drawList);

  const showDetail = async (id) => {
    const n = await api(`/v1/numbers/${id}`);
    const err = h("div");
    const today = n.stats.today.usage;
    const assignKind = select("kind", [["assistant", "Assistant"], ["campaign", "Campaign"], ["tenant", "Tenant"], ["route", "Route"]], n.assignment ? n.assignment.kind : "campaign");
    const assignId = h("input", { name: "id", value: n.assignment ? n.assignment.id : "", required: true });
    const assign = h("form", { class: "inline" }, field("Assign to", assignKind), field("Id", assignId), h("button", { type: "submit", text: "Assign" }));
    assign.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(assign.querySelector("button"), async () => {
        await api(`/v1/numbers/${id}`, { method: "PATCH", body: { assign_to: { kind: assignKind.value, id: assignId.value } } });
        toast(`${n.e164} assigned.`);
        await load();
        showDetail(id);
      }, err);
    });
    const hours = h("input", { type: "number", min: "1", max: "720", value: "72", name: "rest_hours" });
    const rest = h("form", { class: "inline" }, field("Rest for (hours)", hours, "Pools skip it meanwhile."), h("button", { type: "submit", class: "secondary", text: "Rest (flag as spam)" }));
    rest.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(rest.querySelector("button"), async () => {
        const r = await api(`/v1/numbers/${id}/spam`, { method: "POST", body: { rest_hours: Number(hours.value) } });
        toast(`${n.e164} rests until ${when(r.rest_until)}.`);
        await load();
        showDetail(id);
      }, err);
    });
    const release = h("button", { type: "button", class: "danger", text: "Release" });
    release.addEventListener("click", () => {
      if (!confirm(`Give ${n.e164} back to its provider?`)) return;
      busy(release, async () => {
        await api(`/v1/numbers/${id}/release`, { method: "POST" });
        toast(`${n.e164} released.`);
        detailBox.hidden = true;
        load();
      }, err);
    });
    detailBox.replaceChildren(...[
      h("h2", { text: n.e164 }),
      err,
      h("div", { class: "grid" },
        h("div", { class: "card" }, h("div", { class: "label", text: "Today" }), h("div", { class: "value", text: `${today.calls} calls · ${today.messages} msgs` })),
        h("div", { class: "card" }, h("div", { class: "label", text: "Answer rate" }), h("div", { class: "value", text: pct(n.stats.answer_rate.rate) })),
        h("div", { class: "card" }, h("div", { class: "label", text: "Monthly cost" }), h("div", { class: "value", text: money(n.monthly_cost, n.currency || "") })),
        h("div", { class: "card" }, h("div", { class: "label", text: "Spam flags" }), h("div", { class: "value", text: String(n.spam_flags) }))),
      table([
        { label: "Pool", value: (name) => name },
        { label: "Daily cap per number", value: (name) => String(pools[name] ? pools[name].rules.daily_cap : "—"), num: true },
        { label: "Used today", value: () => String(today.calls + today.messages), num: true },
      ], n.pools, { caption: "Pools, caps and usage", empty: "In no pool." }),
      ctx.can("operator") ? assign : null,
      ctx.can("operator") && ctx.on("number_rotation") ? rest : null,
      ctx.can("admin") ? release : null,
    ].filter(Boolean));
    detailBox.hidden = false;
  };

  const bprov = select("provider", [["", "Cheapest that has one"], ...providers.map((p) => [p.id, p.name])], "");
  const buy = h("form", { class: "inline" },
    field("Provider", bprov),
    field("Country", h("input", { name: "country", value: "US", maxlength: "2", size: "3" })),
    field("Area code", h("input", { name: "area_code", inputmode: "numeric", size: "5" }), null, { advanced: true }),
    h("button", { type: "submit", text: "Buy a number" }));
  const buyErr = h("div");
  buy.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(buy.querySelector("button"), async () => {
      const n = await api("/v1/numbers/buy", { method: "POST", body: values(buy) });
      toast(`Bought ${n.e164}.`);
      load();
    }, buyErr);
  });
  if (ctx.can("admin")) buyBox.append(h("h2", { id: "buy-h", text: "Buy" }), buyErr, buy);

  if (ctx.on("number_rotation")) {
    poolsBox.append(h("h2", { id: "pools-h", text: "Pools" }), table([
      { label: "Name", value: (p) => p.name },
      { label: "Numbers", value: (p) => String(p.numbers.length), num: true },
      { label: "Daily cap per number", value: (p) => String(p.rules.daily_cap), num: true },
      { label: "Rotation", value: (p) => p.rules.rotation.replace("_", " ") },
      { label: "Warnings", value: (p) => String(p.usage_warnings.length), num: true },
    ], Object.values(pools), { empty: "No pool yet (POST /v1/pools)." }));
  } else {
    poolsBox.hidden = true;
  }
  await load();
}
