// Settings → Features: switch whole product areas, carriers and AI providers on or off for
// the organisation (presets or one by one) and for yourself; simple mode hides advanced
// settings. The API refuses what is off; this page only shows it.

import { api } from "../api.js";
import { busy, field, h, heading, toast } from "../ui.js";

const GROUPS = [["area", "Product areas"], ["carrier", "Carriers"], ["ai", "AI providers"]];

export async function render(main, ctx) {
  const err = h("div", { "aria-live": "assertive" });
  main.append(heading("Features"), err);
  const box = h("div");
  main.append(box);

  const draw = (f) => {
    const admin = ctx.can("admin");
    const org = f.organisation;
    const presets = h("div", { class: "actions", role: "group", "aria-label": "Presets" },
      f.presets.map((p) => {
        const b = h("button", { type: "button", class: org.preset === p.name ? "" : "secondary", "aria-pressed": org.preset === p.name ? "true" : "false", text: p.built_in ? p.name : `${p.name} (custom)`, disabled: !admin });
        b.addEventListener("click", () => busy(b, async () => {
          const next = await api(`/v1/features/presets/${encodeURIComponent(p.name)}/apply`, { method: "POST" });
          await ctx.refresh();
          draw(next);
          toast(`Preset "${p.name}" applied.`);
        }, err));
        return b;
      }));
    const switches = (toggles, disabledFor, prefix) => GROUPS.map(([kind, title]) => h("fieldset", { class: "panel" },
      h("legend", { text: title }),
      h("div", { class: "switches" }, f.catalog.filter((c) => c.kind === kind).map((c) => {
        const input = h("input", { type: "checkbox", role: "switch", name: c.key, id: `${prefix}-${c.key}`, checked: toggles[c.key] !== false, disabled: disabledFor(c.key) });
        return h("label", { class: "switch", for: input.id }, input, h("span", {}, h("strong", { text: c.label }), h("br"), h("span", { class: "desc", text: c.description })));
      }))));
    const collect = (form) => Object.fromEntries([...form.querySelectorAll("input[role=switch]")].map((i) => [i.name, i.checked]));

    const simple = h("input", { type: "checkbox", name: "simple_mode", id: "org-simple", checked: org.simple_mode, disabled: !admin });
    const orgForm = h("form", {},
      ...switches(org.toggles, () => !admin, "org"),
      h("label", { class: "switch", for: "org-simple" }, simple, h("span", {}, h("strong", { text: "Simple mode" }), h("br"), h("span", { class: "desc", text: "Hide advanced settings for everyone in the organisation." }))),
      admin ? h("div", { class: "actions" }, h("button", { type: "submit", text: "Save organisation settings" })) : null);
    orgForm.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(orgForm.querySelector("button"), async () => {
        const next = await api("/v1/features", { method: "PUT", body: { toggles: collect(orgForm), simple_mode: simple.checked } });
        await ctx.refresh();
        draw(next);
        toast("Saved.");
      }, err);
    });
    const presetName = h("input", { name: "preset", required: true, maxlength: "80" });
    const saveAs = h("form", { class: "inline" }, field("Save these switches as a preset", presetName), h("button", { type: "submit", class: "secondary", text: "Save preset" }));
    saveAs.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(saveAs.querySelector("button"), async () => {
        const next = await api(`/v1/features/presets/${encodeURIComponent(presetName.value.trim())}`, { method: "PUT", body: { toggles: collect(orgForm) } });
        toast(`Preset "${presetName.value}" saved.`);
        draw(next);
      }, err);
    });

    const parts = [
      h("section", { class: "panel" }, h("h2", { text: "Presets" }), h("p", { class: "muted", text: org.preset ? `Applied: ${org.preset}.` : "Custom settings." }), presets),
      h("section", {}, h("h2", { text: "Organisation" }), orgForm, admin ? saveAs : null),
    ];
    if (ctx.session.user_id && f.user) {
      const mine = f.user;
      const mySimple = h("input", { type: "checkbox", name: "simple_mode", id: "me-simple", checked: mine.simple_mode });
      const meForm = h("form", {},
        h("p", { class: "muted", text: "Switch off what you do not use; what the organisation switched off stays off." }),
        ...switches(mine.toggles, (k) => org.toggles[k] === false, "me"),
        h("label", { class: "switch", for: "me-simple" }, mySimple, h("span", {}, h("strong", { text: "Simple mode for me" }))),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary", text: "Save my settings" })));
      meForm.addEventListener("submit", (e) => {
        e.preventDefault();
        busy(meForm.querySelector("button"), async () => {
          await api(`/v1/users/${ctx.session.user_id}/features`, { method: "PUT", body: { toggles: collect(meForm), simple_mode: mySimple.checked } });
          toast("Your settings are saved.");
          draw(await ctx.refresh());
        }, err);
      });
      parts.push(h("details", {}, h("summary", { text: "Just for me" }), meForm));
    }
    box.replaceChildren(...parts);
  };
  draw(await api("/v1/features"));
}
