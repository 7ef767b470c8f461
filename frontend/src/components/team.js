import { css, html } from "lit";
import { CreditsElement, day, label, number } from "../base.js";
import { shared } from "../styles.js";

const MAX_CAP = 100000000; // as the server bounds a monthly cap
const month = (period) => {
  const [year, mm] = String(period || "").split("-").map(Number);
  return year && mm ? new Date(Date.UTC(year, mm - 1, 1)).toLocaleDateString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" }) : "this month";
};
// A cap field: empty means no cap (null); otherwise a whole number of credits.
const capOf = (value) => (String(value ?? "").trim() === "" ? null : Number(value));

// <credits-team username="…">: the caller's team (`team`): one wallet several people spend from,
// each within an optional monthly cap. Not in a team: a form to create one. In a team: its members
// with their caps and this month's spend (a plain member sees only their own: the others' show "—");
// owners and admins add members, change caps and roles, and remove members; everyone but the owner
// may leave. `username` (the signed-in user, as the page knows it) finds the caller's own row: the
// team's answer says the caller's role but not which member they are. A 404 other than
// `not_in_team` means the server has no teams: the panel says so.
export class CreditsTeam extends CreditsElement {
  static properties = {
    username: {},
    team: { state: true },
    message: { state: true },
    busy: { state: true },
    editing: { state: true },
    confirming: { state: true },
    newRole: { state: true },
  };

  static styles = [
    shared,
    css`
      .head { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; margin-bottom: 0.5rem; }
      .head p { margin: 0; font-size: 0.95rem; }
      .head p .muted { font-size: inherit; }
      .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
      .confirm { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; }
      .tag { display: inline-block; font-size: 0.75rem; font-weight: 600; border-radius: 999px; padding: 0.05rem 0.5rem; margin-left: 0.35rem;
        background: #e0ecff; color: var(--accent); white-space: nowrap; }
      .joined { display: block; font-size: 0.8rem; color: var(--muted); }
      .hidden { color: var(--muted); }
      table td { vertical-align: middle; }
      tr.me { background: #f5f9ff; }
      tr.editing { background: #fffdf5; }
      td.act { text-align: right; white-space: nowrap; width: 1%; }
      td.act .actions { justify-content: flex-end; flex-wrap: nowrap; }
      td.act .ask { font-size: 0.9rem; }
      /* Every control the same height (as the history filters have them: inputs in a column label grow). */
      form :is(input, select), td :is(input, select) { height: 2.4rem; box-sizing: border-box; }
      td input, td select { width: 9rem; }
      td .hint { display: block; font-size: 0.8rem; color: var(--warn); margin-top: 0.2rem; white-space: normal; }
      form.add { margin-top: 0.25rem; }
      form.add input[name="username"] { width: 12rem; }
      form.add input[name="monthly_cap"] { width: 9rem; }
      @media (max-width: 540px) {
        .head .actions, .head .actions button { width: 100%; }
        table.stack td { align-items: center; }
        table.stack td.act { justify-content: flex-end; padding-top: 0.35rem; width: auto; }
        table.stack td.act::before { content: none; }
        td.act .actions { flex-wrap: wrap; width: 100%; }
        td.act .actions button { flex: 1 1 auto; }
        td.act .ask { flex-basis: 100%; text-align: left; }
        td input, td select { width: 10rem; }
        form.add label { width: 100%; }
        form.add input[name], form.add select { width: 100%; }
        form.add button { width: 100%; }
        .confirm .actions, .confirm .actions button { flex: 1 1 auto; }
      }
    `,
  ];

  constructor() {
    super();
    this.username = "";
    this.editing = null; // the username whose row is being edited
    this.confirming = null; // {kind: "remove", username} or {kind: "leave"}
  }

  async load() {
    try {
      this.team = await this.api.credits("team");
    } catch (error) {
      if (error.status !== 404) throw error;
      this.team = error.code === "not_in_team" ? null : false; // false: this server has no teams
    }
    if (!this.team || !this.team.members.some((m) => m.username === this.editing)) this.editing = null;
  }

  // The caller's row: by the page's username; without one, the only row a plain member sees in full,
  // or the owner's row for the owner.
  get me() {
    const members = this.team?.members ?? [];
    if (this.username) return members.find((m) => m.username === this.username) ?? null;
    if (this.team?.role === "member") {
      const visible = members.filter((m) => m.spent_this_month !== null);
      return visible.length === 1 ? visible[0] : null;
    }
    if (this.team?.role === "owner") return members.find((m) => m.role === "owner") ?? null;
    return null;
  }

  isMe(m) {
    return this.me?.username === m.username;
  }

  get manages() {
    return ["owner", "admin"].includes(this.team?.role);
  }

  // As the server decides it: owners change everyone (their own role only by handing over);
  // admins change plain members.
  canEdit(m) {
    if (this.team.role === "owner") return true;
    return this.team.role === "admin" && m.role === "member";
  }

  canRemove(m) {
    return m.role !== "owner" && !this.isMe(m) && this.canEdit(m);
  }

  // The roles a row's select offers: only the owner makes admins or hands ownership over.
  rolesFor(m) {
    if (this.team.role !== "owner" || this.isMe(m)) return [];
    return ["member", "admin", "owner"];
  }

  // One action at a time; its answer (the team, or nothing on a 204) replaces what is shown.
  async act(at, run, done) {
    this.busy = at;
    this.message = null;
    try {
      const answer = await run();
      if (answer !== undefined) this.team = answer;
      const text = done?.(answer);
      if (text) this.message = { at, kind: "good", text };
      return true;
    } catch (error) {
      if (error.status === 401) this.handle(error);
      this.message = { at, kind: "bad", text: error.message };
      return false;
    } finally {
      this.busy = null;
    }
  }

  async create(event) {
    event.preventDefault();
    const name = String(new FormData(event.target).get("name")).trim();
    if (!name) return;
    const ok = await this.act("create", () => this.api.post("api/credits/team", { name }),
      (team) => `You created ${team.name}. Add members below: they spend from the team's wallet.`);
    if (ok) this.changed(); // the balance and history are the team's now
  }

  async add(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const username = String(data.get("username")).trim();
    const body = { username, role: String(data.get("role") || "member"), monthly_cap: capOf(data.get("monthly_cap")) };
    const ok = await this.act("add", () => this.api.post("api/credits/team/members", body),
      () => `${username} joined the team${body.monthly_cap === null ? "" : ` with a cap of ${number(body.monthly_cap)} credits a month`}.`);
    if (ok) {
      form.reset();
      this.focusOn("form.add input[name=username]");
    }
  }

  memberPath(username) {
    return `api/credits/team/members/${encodeURIComponent(username)}`;
  }

  edit(m) {
    this.editing = m.username;
    this.newRole = m.role;
    this.confirming = null;
    this.message = null;
    this.focusOn(`tr[data-member="${CSS.escape(m.username)}"] input[name=monthly_cap]`);
  }

  cancelEdit() {
    const username = this.editing;
    this.editing = null;
    this.focusOn(`tr[data-member="${CSS.escape(username)}"] button.edit`);
  }

  async save(event, m) {
    event.preventDefault();
    const data = new FormData(event.target);
    const body = { monthly_cap: capOf(data.get("monthly_cap")) };
    const role = data.get("role");
    if (role && role !== m.role) body.role = String(role);
    const handover = body.role === "owner";
    const ok = await this.act("members", () => this.api.send("PATCH", this.memberPath(m.username), body),
      () => handover ? `${m.username} is the team's owner now; you are an admin.`
        : `Saved ${m.username}: ${body.monthly_cap === null ? "no cap" : `a cap of ${number(body.monthly_cap)} credits a month`}${body.role ? `, ${label(body.role).toLowerCase()}` : ""}.`);
    if (ok) {
      this.editing = null;
      this.focusOn(`tr[data-member="${CSS.escape(m.username)}"] button.edit`, "section");
      if (handover) this.changed(); // what the caller may do elsewhere on the page changed with their role
    }
  }

  askRemove(m) {
    this.confirming = { kind: "remove", username: m.username };
    this.message = null;
    this.focusOn(`tr[data-member="${CSS.escape(m.username)}"] button.yes`);
  }

  async remove(m) {
    const ok = await this.act("members", async () => {
      await this.api.send("DELETE", this.memberPath(m.username)); // 204: the team as it is now comes from a read
      return this.api.credits("team");
    }, () => `${m.username} is no longer in the team.`);
    this.confirming = null;
    if (ok) this.focusOn("form.add input[name=username]", "section");
  }

  askLeave() {
    this.confirming = { kind: "leave" };
    this.message = null;
    this.focusOn(".confirm button.yes");
  }

  async leave() {
    const me = this.me;
    const name = this.team.name;
    if (!me) {
      this.message = { at: "leave", kind: "bad", text: "Sign in again to leave: this page does not know which member you are." };
      return;
    }
    const ok = await this.act("leave", () => this.api.send("DELETE", this.memberPath(me.username)).then(() => null),
      () => `You left ${name}. You spend from your own wallet again.`);
    this.confirming = null;
    if (ok) {
      this.focusOn("input[name=name]");
      this.changed(); // the balance and history are the caller's own again
    }
  }

  stay() {
    const was = this.confirming;
    this.confirming = null;
    this.focusOn(was?.kind === "leave" ? "button.leave" : `tr[data-member="${CSS.escape(was?.username ?? "")}"] button.remove`);
  }

  // Focus a control once it is rendered (a fallback when it is gone, e.g. a removed row).
  async focusOn(selector, fallback) {
    await this.updateComplete;
    (this.renderRoot.querySelector(selector) ?? (fallback && this.renderRoot.querySelector(fallback)))?.focus();
  }

  notice(at) {
    const m = this.message;
    if (!m || m.at !== at) return "";
    return html`<p class="notice ${m.kind}" role=${m.kind === "bad" ? "alert" : "status"} data-testid="team-message">${m.text}</p>`;
  }

  render() {
    const t = this.team;
    return html`<section class="card" id="team" tabindex="-1" aria-labelledby="team-title" aria-busy=${this.loading}>
      <h2 id="team-title">Team</h2>
      ${this.failureNotice()}
      ${t === undefined ? (this.failure ? "" : html`<p class="muted">Loading…</p>`)
        : t === false ? html`<p class="muted" data-testid="team-unavailable">Teams are not available on this server yet.</p>`
          : t === null ? this.renderCreate() : this.renderTeam(t)}
    </section>`;
  }

  renderCreate() {
    return html`<p class="muted">You are not in a team. Create one to share a wallet: everyone in it spends the team's credits, each within a monthly cap you choose.</p>
      ${this.notice("leave")}
      <form class="row" @submit=${this.create}>
        <label>Team name <input name="name" required maxlength="120" autocomplete="organization"></label>
        <button type="submit" ?disabled=${!!this.busy}>${this.busy === "create" ? "Creating…" : "Create team"}</button>
      </form>
      ${this.notice("create")}`;
  }

  renderTeam(t) {
    const leaving = this.confirming?.kind === "leave";
    return html`<div class="head">
        <p><b data-testid="team-name">${t.name}</b> · <span class="muted">Your role:</span> <span data-testid="team-role">${label(t.role)}</span>
          · <span class="muted">Spending in ${month(t.period)}</span></p>
        ${t.role !== "owner" && !leaving ? html`<div class="actions">
          <button class="secondary leave" ?disabled=${!!this.busy} @click=${this.askLeave}>Leave team</button></div>` : ""}
      </div>
      ${leaving ? html`<div class="notice warn confirm" role="group" aria-label="Leave ${t.name}?">
        <span>Leave ${t.name}? You will spend from your own wallet again; the team's credits stay with the team.</span>
        <span class="actions">
          <button class="yes" ?disabled=${!!this.busy} @click=${this.leave}>${this.busy === "leave" ? "Leaving…" : "Yes, leave"}</button>
          <button class="secondary" ?disabled=${!!this.busy} @click=${this.stay}>Stay</button>
        </span>
      </div>` : ""}
      ${this.notice("create")}${this.notice("leave")}
      ${this.renderMembers(t)}
      ${this.notice("members")}
      ${this.manages ? this.renderAdd(t) : ""}`;
  }

  renderMembers(t) {
    const manages = this.manages;
    return html`<table class="stack" data-testid="team-members">
      <caption class="sr-only">Members of ${t.name}</caption>
      <thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col" class="num">Monthly cap</th>
        <th scope="col" class="num">Spent this month</th><th scope="col" class="num" title="Credits reserved by requests still running">Held</th>
        ${manages ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : ""}</tr></thead>
      <tbody>${t.members.map((m) => this.renderRow(m, manages))}</tbody>
    </table>`;
  }

  renderRow(m, manages) {
    const editing = this.editing === m.username;
    const hidden = m.spent_this_month === null; // another member's numbers, not the caller's to see
    const secret = html`<span class="hidden" title="Only the team's owner and admins see this">—</span><span class="sr-only"> (hidden)</span>`;
    const form = `edit-${m.username}`;
    return html`<tr data-member=${m.username} class=${editing ? "editing" : this.isMe(m) ? "me" : ""}
        @keydown=${editing ? (e) => e.key === "Escape" && this.cancelEdit() : null}>
      <td data-label="Member"><span><b>${m.username}</b>${this.isMe(m) ? html`<span class="tag">You</span>` : ""}
        <span class="joined">Joined ${day(m.joined_at)}</span></span></td>
      <td data-label="Role" data-testid="member-role">${editing && this.rolesFor(m).length ? html`<span>
          <select name="role" form=${form} aria-label="Role of ${m.username}" @change=${(e) => { this.newRole = e.target.value; }}>
            ${this.rolesFor(m).map((r) => html`<option value=${r} ?selected=${r === m.role}>${label(r)}</option>`)}
          </select>
          ${this.newRole === "owner" && m.role !== "owner" ? html`<span class="hint" role="note">Hands the team over: you become an admin.</span>` : ""}
        </span>` : label(m.role)}</td>
      <td class="num" data-label="Monthly cap" data-testid="member-cap">${editing
        ? html`<input name="monthly_cap" form=${form} type="number" min="0" max=${MAX_CAP} step="1" inputmode="numeric"
            placeholder="No cap" aria-label="Monthly cap of ${m.username} (empty for no cap)" .value=${m.monthly_cap === null ? "" : String(m.monthly_cap)}>`
        : hidden ? secret : m.monthly_cap === null ? "No cap" : number(m.monthly_cap)}</td>
      <td class="num" data-label="Spent this month" data-testid="member-spent">${hidden ? secret : number(m.spent_this_month)}</td>
      <td class="num" data-label="Held" data-testid="member-held">${hidden ? secret : number(m.held)}</td>
      ${manages ? html`<td class="act">${this.renderActions(m, editing, form)}</td>` : ""}
    </tr>`;
  }

  renderActions(m, editing, form) {
    const busy = !!this.busy;
    if (editing) {
      return html`<form id=${form} class="actions" @submit=${(e) => this.save(e, m)}>
        <button type="submit" aria-label="Save ${m.username}" ?disabled=${busy}>${busy ? "Saving…" : "Save"}</button>
        <button type="button" class="secondary" aria-label="Cancel editing ${m.username}" @click=${this.cancelEdit}>Cancel</button>
      </form>`;
    }
    if (this.confirming?.kind === "remove" && this.confirming.username === m.username) {
      return html`<span class="actions" role="group" aria-label="Remove ${m.username}?">
        <span class="ask">Remove ${m.username}?</span>
        <button class="yes" aria-label="Yes, remove ${m.username}" ?disabled=${busy} @click=${() => this.remove(m)}>Yes, remove</button>
        <button class="secondary" aria-label="Keep ${m.username}" ?disabled=${busy} @click=${this.stay}>Keep</button>
      </span>`;
    }
    if (!this.canEdit(m)) return "";
    return html`<span class="actions">
      <button class="secondary edit" aria-label="Edit ${m.username}" ?disabled=${busy} @click=${() => this.edit(m)}>Edit</button>
      ${this.canRemove(m) ? html`<button class="secondary remove" aria-label="Remove ${m.username}" ?disabled=${busy}
        @click=${() => this.askRemove(m)}>Remove</button>` : ""}
    </span>`;
  }

  renderAdd(t) {
    const busy = this.busy === "add";
    return html`<h3 id="team-add-title">Add a member</h3>
      <form class="row add" aria-labelledby="team-add-title" @submit=${this.add}>
        <label>Username <input name="username" required maxlength="150" autocomplete="off" autocapitalize="none" spellcheck="false"></label>
        <label>Role <select name="role">
          <option value="member">Member</option>
          ${t.role === "owner" ? html`<option value="admin">Admin</option>` : ""}
        </select></label>
        <label>Monthly cap <input name="monthly_cap" type="number" min="0" max=${MAX_CAP} step="1" inputmode="numeric" placeholder="No cap"></label>
        <button type="submit" ?disabled=${!!this.busy}>${busy ? "Adding…" : "Add member"}</button>
      </form>
      ${this.notice("add")}
      <p class="muted">The user needs an account already. A cap limits what they spend of the team's credits a month; leave it empty for no cap.</p>`;
  }
}
