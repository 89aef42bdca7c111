// Access keys (create with the secret shown once, disable, delete) and, for account admins, users and grants.
import { call, query } from "./api.js";
import { fill, confirmAction, copyText, el, errorText, field, openDialog, table, toast, when } from "./ui.js";
import { state } from "./state.js";

export async function keysPage(root) {
  const admin = state.me.role === "admin";
  const answer = await call("GET", `/access-keys${query({ user: admin ? "*" : "" })}`);
  const rows = answer.access_keys.map((k) => el("tr", { "data-key-id": k.access_key_id },
    el("td", {}, el("code", {}, k.access_key_id)), el("td", {}, k.user), el("td", {}, k.status), el("td", {}, when(k.created)),
    el("td", { class: "actions" },
      // Enabling a disabled key brings its links back: an account admin's call, so members see no Enable.
      (k.status === "active" || admin) && el("button", { type: "button", onclick: async () => {
        try {
          await call("PUT", `/access-keys/${encodeURIComponent(k.access_key_id)}`, { status: k.status === "active" ? "disabled" : "active" });
          keysPage(root);
        } catch (err) { toast(errorText(err), "error"); }
      } }, k.status === "active" ? "Disable" : "Enable"),
      el("button", { type: "button", class: "danger", onclick: () => confirmAction(`Delete key ${k.access_key_id}?`,
        "Every link it signed stops working, and tools using it are locked out.", async () => {
          await call("DELETE", `/access-keys/${encodeURIComponent(k.access_key_id)}`);
          keysPage(root);
        }, "Delete key") }, "Delete"))));
  const create = el("button", { type: "button", class: "primary", id: "create-key", onclick: async () => {
    try {
      const key = await call("POST", "/access-keys", {});
      const secret = el("input", { readonly: true, value: key.secret_access_key, id: "new-secret", class: "url" });
      openDialog("New access key",
        el("p", {}, "Copy the secret now: it is shown only this once."),
        el("dl", { class: "facts" }, el("dt", {}, "Access key id"), el("dd", {}, el("code", {}, key.access_key_id)),
          el("dt", {}, "Secret access key"), el("dd", {}, el("div", { class: "row" }, secret,
            el("button", { type: "button", class: "copy", onclick: () => copyText(key.secret_access_key, secret) }, "Copy")))));
      keysPage(root);
    } catch (err) { toast(errorText(err), "error"); }
  } }, "Create access key");
  fill(root, el("div", { class: "page-head" }, el("h1", {}, "Access keys"), create),
    el("p", { class: "muted" }, "Keys sign S3 requests and links. Links you make in the console are signed with your newest active key: disabling it stops them."),
    table(["Key id", "User", "Status", "Created", "Actions"], rows, "No access keys."));
}

export async function usersPage(root) {
  const [users, grants] = await Promise.all([call("GET", "/users"), call("GET", "/grants")]);
  const userRows = users.users.map((u) => el("tr", { "data-user": u.name },
    el("td", {}, u.name), el("td", {}, u.role), el("td", {}, u.status), el("td", {}, u.has_password ? "yes" : "no"),
    el("td", {}, when(u.created)),
    el("td", { class: "actions" }, u.name === state.me.user ? el("span", { class: "muted" }, "you") : [
      el("button", { type: "button", onclick: async () => {
        try { await call("PUT", `/users/${encodeURIComponent(u.name)}`, { status: u.status === "active" ? "disabled" : "active" }); usersPage(root); } catch (err) { toast(errorText(err), "error"); }
      } }, u.status === "active" ? "Disable" : "Enable"),
      el("button", { type: "button", class: "danger", onclick: () => confirmAction(`Delete user ${u.name}?`,
        "Its keys and grants are deleted, and every link it signed stops working.", async () => {
          await call("DELETE", `/users/${encodeURIComponent(u.name)}`);
          usersPage(root);
        }, "Delete user") }, "Delete")])));
  const name = el("input", { id: "new-user", autocomplete: "off" });
  const role = el("select", { id: "new-user-role" }, el("option", { value: "member" }, "member"), el("option", { value: "admin" }, "admin"));
  const password = el("input", { id: "new-user-password", type: "password", autocomplete: "new-password" });
  const userProblem = el("p", { class: "error", role: "alert" });
  const userForm = el("form", { class: "toolbar", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    try {
      await call("POST", "/users", { name: name.value.trim(), role: role.value, password: password.value || null });
      toast(`User ${name.value} created.`);
      usersPage(root);
    } catch (err) { userProblem.textContent = errorText(err); }
  } }, field("Name", name), field("Role", role), field("Console password", password, "8 characters or more; optional."),
  el("button", { type: "submit", class: "primary" }, "Create user"));

  const grantRows = grants.grants.map((g) => el("tr", { "data-grant": `${g.user}:${g.bucket}:${g.prefix}` }, el("td", {}, g.user), el("td", {}, g.bucket),
    el("td", {}, g.prefix || "(whole bucket)"), el("td", {}, g.permission), el("td", {}, g.share ? "yes" : "no"),
    el("td", {}, el("button", { type: "button", class: "danger", onclick: () => confirmAction("Remove this grant?",
      `${g.user} loses ${g.permission} on ${g.bucket}/${g.prefix}.`, async () => {
        await call("DELETE", `/grants/${encodeURIComponent(g.id)}`);
        usersPage(root);
      }, "Remove") }, "Remove"))));
  const grantUser = el("input", { id: "grant-user" });
  const grantBucket = el("input", { id: "grant-bucket" });
  const grantPrefix = el("input", { id: "grant-prefix", placeholder: "whole bucket" });
  const permission = el("select", { id: "grant-permission" }, el("option", { value: "read" }, "read"), el("option", { value: "read-write" }, "read-write"));
  const share = el("input", { type: "checkbox", id: "grant-share" });
  const grantProblem = el("p", { class: "error", role: "alert" });
  const grantForm = el("form", { class: "toolbar", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    try {
      await call("POST", "/grants", { user: grantUser.value.trim(), bucket: grantBucket.value.trim(), prefix: grantPrefix.value,
        permission: permission.value, share: share.checked });
      toast("Grant saved.");
      usersPage(root);
    } catch (err) { grantProblem.textContent = errorText(err); }
  } }, field("User", grantUser), field("Bucket", grantBucket), field("Prefix", grantPrefix), field("Permission", permission),
  el("label", { class: "check" }, share, " May share (make links)"), el("button", { type: "submit", class: "primary" }, "Grant"));
  fill(root, el("h1", {}, "Users"), userForm, userProblem,
    table(["Name", "Role", "Status", "Password", "Created", "Actions"], userRows),
    el("h2", {}, "Grants"), grantForm, grantProblem,
    table(["User", "Bucket", "Prefix", "Permission", "Share", ""], grantRows, "No grants."));
}
