// Messages, calls and emails: searchable lists (status, provider, dates, metadata, text on
// the page) linking to each one's timeline; a test message can be sent from here.

import { all, api } from "../api.js";
import { busy, field, h, heading, money, select, table, toast, values, when } from "../ui.js";

const KINDS = { messages: "Messages", calls: "Calls", emails: "Emails" };
const FEATURE = { messages: "messaging", calls: "voice_broadcast", emails: "email" };

export async function render(main, ctx) {
  const params = new URLSearchParams(location.search);
  const kind = KINDS[params.get("kind")] ? params.get("kind") : "messages";
  const providers = await all("/v1/providers");
  const names = Object.fromEntries(providers.map((p) => [p.id, p.name]));
  const tabs = h("nav", { class: "tabs", "aria-label": "Log kind" }, Object.entries(KINDS).map(([k, label]) =>
    h("a", { href: `/messages?kind=${k}`, "data-link": true, "aria-current": k === kind ? "page" : null, text: label })));
  const status = h("input", { name: "status", placeholder: "delivered, failed…", size: "12" });
  const provider = select("provider", [["", "Any"], ...providers.map((p) => [p.id, p.name])], "");
  const since = h("input", { name: "since", type: "date" });
  const metadata = h("input", { name: "metadata", placeholder: "campaign:spring" });
  const text = h("input", { name: "text", type: "search", placeholder: "number, address or words" });
  const filters = h("form", { class: "inline", role: "search" },
    field("Status", status), field("Provider", provider), field("Since", since), field("Metadata", metadata, null, { advanced: true }), field("Contains", text),
    h("button", { type: "submit", text: "Search" }));
  const out = h("div", { "aria-live": "polite" });
  const sendBox = h("section", { class: "panel", "aria-labelledby": "send-h" });
  main.append(heading("Logs"), tabs, sendBox, filters, out);

  const search = async () => {
    const q = new URLSearchParams({ limit: "200" });
    if (status.value) q.set("status", status.value.trim());
    if (provider.value) q.set("provider", provider.value);
    if (since.value) q.set("since", `${since.value}T00:00:00Z`);
    if (metadata.value) q.set("metadata", metadata.value.trim());
    const page = await api(`/v1/${kind}?${q}`);
    const needle = text.value.trim().toLowerCase();
    const rows = page.data.filter((r) => !needle || JSON.stringify(r).toLowerCase().includes(needle));
    out.replaceChildren(table([
      { label: "When", value: (r) => when(r.created_at) },
      { label: "To", value: (r) => h("a", { href: `/${kind}/${r.id}`, "data-link": true, text: r.to || r.id }) },
      { label: "From", value: (r) => r.from || "—" },
      { label: "Status", value: (r) => r.status },
      { label: "Provider", value: (r) => names[r.provider_id] || "—" },
      { label: "Cost", value: (r) => money(r.cost, r.currency || ""), num: true },
    ], rows, { caption: `${rows.length} ${KINDS[kind].toLowerCase()}${page.next_cursor ? " (newest 200)" : ""}`, empty: "Nothing matches." }));
  };
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(filters.querySelector("button"), search, out);
  });

  if (kind === "messages" && ctx.on("messaging") && ctx.can("operator")) {
    const err = h("div");
    const form = h("form", { class: "inline" },
      field("To", h("input", { name: "to", type: "tel", required: true, placeholder: "+14155550100" })),
      field("Text", h("input", { name: "body", required: true, value: "Test from Switchyard" })),
      h("button", { type: "submit", text: "Send test message" }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(form.querySelector("button"), async () => {
        const m = await api("/v1/messages", { method: "POST", body: values(form) });
        toast(`Message ${m.status}: ${m.to}.`);
        search();
      }, err);
    });
    sendBox.append(h("h2", { id: "send-h", text: "Send a test message" }), err, form);
  } else {
    sendBox.hidden = true;
  }
  if (!ctx.on(FEATURE[kind]) && kind === "emails") {
    out.append(h("p", { class: "muted", text: "Email is switched off (Settings → Features)." }));
    return;
  }
  await search();
}
