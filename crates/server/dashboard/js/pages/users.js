// Settings → Users: who can sign in to the dashboard, with which role.

import { api } from "../api.js";
import { busy, field, h, heading, select, table, toast, values, when } from "../ui.js";

const ROLES = [["viewer", "Viewer (read only)"], ["operator", "Operator (send, route)"], ["admin", "Admin (configure)"], ["owner", "Owner (everything)"]];

export async function render(main) {
  const err = h("div", { "aria-live": "assertive" });
  const list = h("div");
  main.append(heading("Users"), err, list);
  const draw = async () => {
    const users = (await api("/v1/users")).data;
    list.replaceChildren(table([
      { label: "Email", value: (u) => u.email },
      { label: "Name", value: (u) => u.name || "—" },
      { label: "Role", value: (u) => u.role },
      { label: "Since", value: (u) => when(u.created_at) },
      { label: "State", value: (u) => (u.disabled_at ? "disabled" : "active") },
      { label: "", value: (u) => {
        const b = h("button", { type: "button", class: "secondary", text: u.disabled_at ? "Enable" : "Disable" });
        b.addEventListener("click", () => busy(b, async () => {
          await api(`/v1/users/${u.id}`, { method: "PATCH", body: { disabled: !u.disabled_at } });
          draw();
        }, err));
        return b;
      } },
    ], users));
  };
  const form = h("form", { class: "inline" },
    field("Email", h("input", { name: "email", type: "email", required: true, autocomplete: "off" })),
    field("Name", h("input", { name: "name" })),
    field("Role", select("role", ROLES, "operator")),
    field("Password", h("input", { name: "password", type: "password", minlength: "10", required: true, autocomplete: "new-password" }), "At least 10 characters; they can change it later."),
    h("button", { type: "submit", text: "Add user" }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(form.querySelector("button"), async () => {
      const u = await api("/v1/users", { method: "POST", body: values(form) });
      toast(`${u.email} can sign in now.`);
      form.reset();
      draw();
    }, err);
  });
  main.append(h("section", { class: "panel" }, h("h2", { text: "Add a user" }), form));
  await draw();
}
