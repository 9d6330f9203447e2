// Rate decks: upload a CSV with a column-mapping step and a dry run that lists every error
// (line, column, reason) before anything is imported; browse versions; look up a number.

import { all, api } from "../api.js";
import { busy, field, h, heading, money, select, table, toast } from "../ui.js";

const FIELDS = [
  ["prefix", "Prefix (required)"],
  ["rate", "Rate (required)"],
  ["destination", "Destination name"],
  ["connection_fee", "Connection fee"],
  ["increment", "Increment (60/60)"],
  ["initial_increment", "Initial increment"],
  ["subsequent_increment", "Subsequent increment"],
  ["min_duration", "Minimum duration"],
  ["effective_from", "Effective from"],
  ["effective_to", "Effective to"],
  ["currency", "Currency"],
  ["status", "Status"],
  ["attachment_fee", "Attachment fee"],
];
const CHANNELS = [["voice", "Voice"], ["sms", "SMS"], ["mms", "MMS"], ["whatsapp", "WhatsApp"], ["email", "Email"]];

/** The header row of a CSV text: cells split on commas outside quotes. */
function headerOf(text) {
  const line = text.split(/\r?\n/, 1)[0] || "";
  const cells = [];
  let cur = "";
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === "," && !quoted) { cells.push(cur.trim()); cur = ""; }
    else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

export async function render(main, ctx) {
  const providers = await all("/v1/providers");
  const names = Object.fromEntries(providers.map((p) => [p.id, p.name]));
  const versionsBox = h("section", { class: "panel", "aria-labelledby": "ver-h" });
  const uploadBox = h("section", { class: "panel", "aria-labelledby": "up-h" });
  const lookupBox = h("section", { class: "panel", "aria-labelledby": "look-h" });
  main.append(heading("Rate decks"), uploadBox, versionsBox, lookupBox);
  if (!providers.length) {
    uploadBox.append(h("p", {}, "Add a provider first: ", h("a", { href: "/providers", "data-link": true, text: "Providers" }), "."));
    return;
  }

  // Step 1: provider, channel and file. Step 2: the mapping. Step 3: dry run, then import.
  const provider = select("provider", providers.map((p) => [p.id, p.name]), providers[0].id);
  const channel = select("channel", CHANNELS, "voice");
  const file = h("input", { type: "file", name: "file", accept: ".csv,text/csv" });
  const mapping = h("div");
  const report = h("div", { "aria-live": "polite" });
  const check = h("button", { type: "button", text: "Check the file", disabled: true });
  const importBtn = h("button", { type: "button", text: "Import", hidden: true });
  let text = "";
  let header = [];

  file.addEventListener("change", async () => {
    report.replaceChildren();
    importBtn.hidden = true;
    const f = file.files[0];
    if (!f) return;
    text = await f.text();
    header = headerOf(text);
    mapping.replaceChildren(
      h("h3", { text: "Columns" }),
      h("p", { class: "muted", text: "Each field is found by its usual header names; choose a column where yours differ." }),
      h("div", { class: "inline" }, FIELDS.map(([key, label]) => field(label, select(`map.${key}`, [["", "(detect)"], ...header.map((c, i) => [String(i), `${i + 1}: ${c}`])], ""), null, { advanced: key !== "prefix" && key !== "rate" }))),
    );
    check.disabled = false;
  });

  const chosenMapping = () => {
    const m = {};
    for (const sel of mapping.querySelectorAll("select")) {
      // Options are 0-based indexes; the API counts columns from 1.
      if (sel.value !== "") m[sel.name.slice(4)] = Number(sel.value) + 1;
    }
    return m;
  };
  const upload = (dryRun) => {
    const q = new URLSearchParams({ channel: channel.value });
    if (dryRun) q.set("dry_run", "true");
    const m = chosenMapping();
    if (Object.keys(m).length) q.set("mapping", JSON.stringify(m));
    const form = new FormData();
    form.append("file", file.files[0]);
    return api(`/v1/providers/${provider.value}/rates?${q}`, { method: "POST", raw: form });
  };

  check.addEventListener("click", () => busy(check, async () => {
    const r = await upload(true);
    importBtn.hidden = !r.valid;
    if (r.valid) {
      report.replaceChildren(h("p", { class: "good", "data-testid": "dry-run-ok", text: `${r.rows} rows are valid${r.closed_rows ? `, ${r.closed_rows} closed` : ""}${r.duplicate_rows ? `, ${r.duplicate_rows} duplicates` : ""}. Nothing is stored until you import.` }));
    } else {
      report.replaceChildren(
        h("p", { class: "bad", text: `${r.error_count} error(s); fix the file (or the mapping) and check again. Nothing was imported.` }),
        table([
          { label: "Line", value: (e) => String(e.line), num: true },
          { label: "Column", value: (e) => e.column ?? "—" },
          { label: "Reason", value: (e) => e.reason },
        ], r.errors, { caption: "Errors" }),
      );
      report.querySelector("table")?.setAttribute("data-testid", "deck-errors");
    }
  }, report));

  importBtn.addEventListener("click", () => busy(importBtn, async () => {
    const r = await upload(false);
    toast(`Imported ${r.deck.row_count} rows for ${names[r.deck.provider_id]} (${r.deck.channel}).`);
    report.replaceChildren(h("p", { class: "good", "data-testid": "imported", text: `Imported version ${r.deck.id}: ${r.deck.row_count} rows.` }));
    importBtn.hidden = true;
    drawVersions();
  }, report));

  uploadBox.append(
    h("h2", { id: "up-h", text: "Upload a deck" }),
    h("div", { class: "inline" }, field("Provider", provider), field("Channel", channel), field("CSV file", file, "A header row, then one row per prefix.")),
    mapping,
    h("div", { class: "actions" }, check, importBtn),
    report,
  );

  const drawVersions = async () => {
    const decks = await all(`/v1/providers/${provider.value}/rates`);
    const rows = h("div");
    versionsBox.replaceChildren(
      h("h2", { id: "ver-h", text: `Versions for ${names[provider.value]}` }),
      table([
        { label: "Channel", value: (d) => d.channel },
        { label: "Effective from", value: (d) => new Date(d.effective_from).toLocaleString() },
        { label: "Rows", value: (d) => String(d.row_count), num: true },
        { label: "File", value: (d) => d.source_name },
        { label: "", value: (d) => {
          const b = h("button", { type: "button", class: "secondary", text: "Rows" });
          b.addEventListener("click", () => busy(b, async () => {
            const deck = await api(`/v1/rates/decks/${d.id}?limit=100`);
            rows.replaceChildren(table([
              { label: "Prefix", value: (r) => r.prefix },
              { label: "Destination", value: (r) => r.destination || "—" },
              { label: "Rate", value: (r) => money(r.rate, r.currency), num: true },
              { label: "Increment", value: (r) => r.increment },
            ], deck.rows, { caption: `First rows of ${d.id}` }));
          }));
          return b;
        } },
      ], decks, { empty: "No deck for this provider yet." }),
      rows,
    );
  };
  provider.addEventListener("change", drawVersions);
  await drawVersions();

  const number = h("input", { name: "number", type: "tel", placeholder: "+14155550100", required: true });
  const lchannel = select("channel", CHANNELS, "voice");
  const lookupOut = h("div", { "aria-live": "polite" });
  const lookupForm = h("form", { class: "inline" }, field("Number", number), field("Channel", lchannel), h("button", { type: "submit", text: "Look up" }));
  lookupForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(lookupForm.querySelector("button"), async () => {
      const r = await api(`/v1/rates/lookup?number=${encodeURIComponent(number.value)}&channel=${lchannel.value}`);
      lookupOut.replaceChildren(table([
        { label: "Provider", value: (m) => names[m.provider] || m.provider },
        { label: "Prefix", value: (m) => m.prefix },
        { label: "Rate", value: (m) => money(m.rate, m.currency), num: true },
        { label: "Destination", value: (m) => m.destination || "—" },
      ], r.matches, { empty: `No provider has a ${r.channel} rate for ${r.number}.` }));
    }, lookupOut);
  });
  lookupBox.append(h("h2", { id: "look-h", text: "Look up a number" }), lookupForm, lookupOut);
}
