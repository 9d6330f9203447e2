// The dashboard shell: who is signed in, the navigation (hiding switched-off features),
// simple mode, and a client-side router over stable URLs the server also serves.

import { api, setCsrf } from "./api.js";
import { h, toast } from "./ui.js";

/** Pages: path pattern, title, module, and the feature that must be on to show it. */
const PAGES = [
  { path: "/", title: "Overview", module: "overview" },
  { path: "/providers", title: "Providers", module: "providers" },
  { path: "/rates", title: "Rate decks", module: "rates" },
  { path: "/routing", title: "Routing tester", module: "routing" },
  { path: "/numbers", title: "Numbers", module: "numbers" },
  { path: "/messages", title: "Logs", module: "logs" },
  { path: "/costs", title: "Costs", module: "costs" },
  { path: "/settings/features", title: "Features", module: "features" },
  { path: "/settings/users", title: "Users", module: "users", role: "admin", hidden: true },
  { path: "/settings/account", title: "Account", module: "account", hidden: true },
  { path: "/messages/:id", title: "Message", module: "detail", hidden: true },
  { path: "/calls/:id", title: "Call", module: "detail", hidden: true },
  { path: "/emails/:id", title: "Email", module: "detail", hidden: true },
];

const ROLES = ["viewer", "operator", "admin", "owner"];

const ctx = {
  session: null,
  features: {},
  simpleMode: false,
  navigate,
  refresh: loadFeatures,
  /** Whether a feature is on for this user. */
  on(key) {
    return ctx.features[key] !== false;
  },
  /** Whether the signed-in role is at least `role`. */
  can(role) {
    return ctx.session && ROLES.indexOf(ctx.session.role) >= ROLES.indexOf(role);
  },
};

let cleanup = null;

function match(pattern, path) {
  const a = pattern.split("/");
  const b = path.split("/");
  if (a.length !== b.length) return null;
  const params = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(":")) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}

async function loadFeatures() {
  const f = await api("/v1/features");
  ctx.features = f.effective;
  ctx.simpleMode = f.simple_mode;
  document.body.classList.toggle("simple", ctx.simpleMode);
  drawNav();
  return f;
}

function drawNav() {
  const nav = document.getElementById("nav");
  const here = location.pathname;
  nav.replaceChildren(
    ...PAGES.filter((p) => !p.hidden).map((p) =>
      h("a", {
        href: p.path,
        "data-link": true,
        "aria-current": here === p.path || (p.path !== "/" && here.startsWith(p.path)) ? "page" : null,
        text: p.title,
      }),
    ),
  );
  const who = document.getElementById("who");
  if (!ctx.session) {
    who.replaceChildren();
    return;
  }
  who.replaceChildren(
    ...[
      h("a", { href: "/settings/account", "data-link": true, title: "Your account", text: `${ctx.session.label || "API key"} · ${ctx.session.role} · ${ctx.session.org.name}` }),
      ctx.can("admin") ? h("a", { href: "/settings/users", "data-link": true, text: "Users" }) : null,
      h("button", { type: "button", onclick: signOut, text: "Sign out" }),
    ].filter(Boolean),
  );
}

async function signOut() {
  try {
    await api("/ui/logout", { method: "POST" });
  } catch (err) {
    toast(err.message, "bad");
  }
  ctx.session = null;
  setCsrf(null);
  navigate("/login");
}

/** Goes to `path` without reloading. */
export function navigate(path, replace = false) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  route();
}

async function route() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const main = document.getElementById("main");
  const path = location.pathname.replace(/\/+$/, "") || "/";
  if (path === "/login" || path === "/setup") {
    const mod = await import("./pages/login.js");
    main.replaceChildren();
    await mod.render(main, ctx, path);
    drawNav();
    return;
  }
  if (!ctx.session) {
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, true);
    return;
  }
  let page = null;
  let params = {};
  for (const p of PAGES) {
    const m = match(p.path, path);
    if (m) {
      page = p;
      params = m;
      break;
    }
  }
  drawNav();
  main.replaceChildren();
  if (!page) {
    main.append(h("h1", { text: "Not found" }), h("p", {}, "No page here. ", h("a", { href: "/", "data-link": true, text: "Back to the overview" })));
    return;
  }
  document.title = `${page.title} · Switchyard`;
  try {
    const mod = await import(`./pages/${page.module}.js`);
    cleanup = (await mod.render(main, ctx, params)) || null;
  } catch (err) {
    main.append(h("div", { class: "error", role: "alert", text: `This page could not load: ${err.message}` }));
  }
  const h1 = main.querySelector("h1");
  if (h1) h1.focus();
}

/** Called by the sign-in page once a session exists. */
ctx.signedIn = async (session) => {
  ctx.session = session;
  setCsrf(session.csrf_token);
  await loadFeatures();
};

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-link]");
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
  e.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", route);
window.addEventListener("signed-out", () => {
  if (ctx.session) {
    ctx.session = null;
    toast("Your session ended; sign in again.", "bad");
    navigate("/login");
  }
});

(async function start() {
  try {
    const s = await api("/ui/session");
    if (s.signed_in) await ctx.signedIn(s);
    ctx.setupOpen = !!s.setup_open;
  } catch (err) {
    toast(err.message, "bad");
  }
  route();
})();
