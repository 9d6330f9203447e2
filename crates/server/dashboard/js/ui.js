// Small DOM helpers: elements, labelled fields, tables, messages and number formats.

/** Creates an element: `attrs` may hold `text`, `class`, event handlers (`onclick`) and attributes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k === "class") el.className = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let ids = 0;

/** A labelled form field around `control` (which gets an id and the label's `for`). */
export function field(label, control, hint, { advanced = false } = {}) {
  control.id = control.id || `f${++ids}`;
  const children = [h("label", { for: control.id, text: label }), control];
  if (hint) {
    const hid = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hid);
    children.push(h("span", { class: "hint", id: hid, text: hint }));
  }
  return h("div", { class: advanced ? "field advanced" : "field" }, children);
}

/** A `<select>` of `[value, label]` pairs. */
export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([v, l]) => h("option", { value: v, selected: v === value ? "selected" : null, text: l })),
  );
}

/** A table: `columns` are `{label, value(row), num}`; `rows` the data. */
export function table(columns, rows, { caption, empty = "Nothing yet." } = {}) {
  if (!rows.length) return h("p", { class: "muted", text: empty });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", { text: caption }) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null, text: c.label })))),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h("tr", {}, columns.map((c) => {
            const v = c.value(r);
            return h("td", { class: c.num ? "num" : null }, v === null || v === undefined ? "—" : v);
          })),
        ),
      ),
    ),
  );
}

/** Shows a short message in the live region. */
export function toast(message, kind = "") {
  const box = document.getElementById("toasts");
  const t = h("div", { class: `toast ${kind}`, text: message });
  box.append(t);
  setTimeout(() => t.remove(), 6000);
}

/** An API error as a block naming the field, for forms. */
export function errorBox(err) {
  const field = err && err.field ? ` (field: ${err.field})` : "";
  return h("div", { class: "error", role: "alert", text: `${err.message || err}${field}` });
}

/** Runs `work` with `button` disabled; shows an error in `where` (or a toast) if it fails. */
export async function busy(button, work, where) {
  button.disabled = true;
  if (where) where.replaceChildren();
  try {
    return await work();
  } catch (err) {
    if (where) where.replaceChildren(errorBox(err));
    else toast(err.message || String(err), "bad");
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** The values of a form's named controls (checkboxes as booleans, empty fields left out). */
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.value !== "") out[el.name] = el.value;
  }
  return out;
}

/** A money amount (a decimal string from the API) with its currency. */
export function money(amount, currency = "") {
  if (amount === null || amount === undefined) return "—";
  const n = Number(amount);
  const shown = Math.abs(n) >= 1 ? n.toFixed(2) : n.toFixed(4);
  return `${shown} ${currency}`.trim();
}

/** A ratio (0–1, number or string) as a percentage. */
export function pct(ratio) {
  if (ratio === null || ratio === undefined || ratio === "") return "—";
  return `${(Number(ratio) * 100).toFixed(1)} %`;
}

/** A unix-ms instant in the browser's time zone. */
export function when(ms) {
  if (!ms) return "—";
  return new Date(ms).toLocaleString();
}

/** A page heading; focusable so the router can move focus to it. */
export function heading(text) {
  return h("h1", { tabindex: "-1", text });
}
