// Sign in with an email address and password or an API key; the first-run set-up creates
// the organisation and its owner with the one-time link `serve` printed.

import { api } from "../api.js";
import { busy, field, h, heading } from "../ui.js";

export async function render(main, ctx, path) {
  const params = new URLSearchParams(location.search);
  const next = params.get("next") || "/";
  const done = async (session) => {
    await ctx.signedIn(session);
    ctx.navigate(next.startsWith("/") && !next.startsWith("//") ? next : "/", true);
  };
  if (path === "/setup") return setup(main, params.get("token") || "", done);
  const err = h("div", { "aria-live": "assertive" });
  const email = h("input", { name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const key = h("input", { name: "api_key", type: "password", autocomplete: "off", required: true });
  const pwForm = h("form", {}, field("Email", email), field("Password", password), h("button", { type: "submit", text: "Sign in" }));
  const keyForm = h("form", {}, field("API key", key, "Signs in with the key's organisation and role."), h("button", { type: "submit", class: "secondary", text: "Sign in with the key" }));
  pwForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(pwForm.querySelector("button"), async () => done(await api("/ui/login", { method: "POST", body: { email: email.value, password: password.value } })), err);
  });
  keyForm.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(keyForm.querySelector("button"), async () => done(await api("/ui/login", { method: "POST", body: { api_key: key.value } })), err);
  });
  main.append(
    h(
      "div",
      { class: "login panel" },
      heading("Sign in to Switchyard"),
      err,
      pwForm,
      h("h2", { text: "Or with an API key" }),
      keyForm,
      ctx.setupOpen ? h("p", { class: "muted", text: "No account exists yet: open the set-up link that `switchyard serve` printed." }) : null,
    ),
  );
}

function setup(main, token, done) {
  const err = h("div", { "aria-live": "assertive" });
  const form = h(
    "form",
    {},
    field("Organisation name", h("input", { name: "organisation", required: true })),
    field("Your name", h("input", { name: "name", autocomplete: "name" })),
    field("Email", h("input", { name: "email", type: "email", autocomplete: "username", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "new-password", minlength: "10", required: true }), "At least 10 characters."),
    h("button", { type: "submit", text: "Create the account" }),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    busy(form.querySelector("button"), async () => done(await api("/ui/setup", { method: "POST", body: { token, ...v } })), err);
  });
  main.append(h("div", { class: "login panel" }, heading("Set up Switchyard"), h("p", { text: "Create your organisation and its owner account." }), err, form));
}
