// Settings → Account: who you are signed in as, and (for users) a new password.

import { api } from "../api.js";
import { busy, field, h, heading, toast } from "../ui.js";

export async function render(main, ctx) {
  const s = ctx.session;
  main.append(
    heading("Account"),
    h("section", { class: "panel" },
      h("p", {}, "Signed in as ", h("strong", { text: s.label || "an API key" }), ` (${s.role}) in ${s.org.name}.`),
      h("p", { class: "muted", text: `This session ends at ${new Date(s.expires_at).toLocaleString()}.` })),
  );
  if (!s.user_id) {
    main.append(h("p", { class: "muted", text: "Signed in with an API key: keys have no password. Revoking the key ends this session." }));
    return;
  }
  const err = h("div", { "aria-live": "assertive" });
  const password = h("input", { name: "password", type: "password", minlength: "10", required: true, autocomplete: "new-password" });
  const again = h("input", { name: "again", type: "password", minlength: "10", required: true, autocomplete: "new-password" });
  const form = h("form", { class: "inline" }, field("New password", password, "At least 10 characters."), field("The same again", again), h("button", { type: "submit", text: "Change password" }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (password.value !== again.value) {
      err.replaceChildren(h("div", { class: "error", role: "alert", text: "The two passwords differ." }));
      return;
    }
    busy(form.querySelector("button"), async () => {
      await api(`/v1/users/${s.user_id}`, { method: "PATCH", body: { password: password.value } });
      toast("Password changed: every session of yours has ended; sign in again.");
      ctx.session = null;
      ctx.navigate("/login");
    }, err);
  });
  main.append(h("section", { class: "panel" }, h("h2", { text: "Change your password" }), err, form));
}
