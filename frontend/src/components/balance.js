import { html } from "lit";
import { CreditsElement, count, day, label, number } from "../base.js";
import { rowsOf } from "../api.js";

// <credits-balance>: the balance, its buckets, the grants it is made of and what expires soon.
// Grants (`api/credits/grants`) may not exist on every server: a 404 just hides that part.
export class CreditsBalance extends CreditsElement {
  static properties = { balance: { state: true }, grants: { state: true } };

  async load() {
    const [balance, grants] = await Promise.all([
      this.api.credits("balance"),
      this.api.credits("grants", { status: "active" }).then(rowsOf, (error) => {
        if (error.status === 404) return null;
        throw error;
      }),
    ]);
    this.balance = balance;
    this.grants = grants;
  }

  render() {
    const b = this.balance;
    return html`<section class="card" aria-labelledby="balance-title" aria-busy=${this.loading}>
      <h2 id="balance-title">Balance</h2>
      ${this.failureNotice()}
      ${b ? this.renderBalance(b) : html`<p class="muted">Loading…</p>`}
    </section>`;
  }

  renderBalance(b) {
    const expiring = b.expiring_soon;
    return html`
      <p class="big" data-testid="current-balance"><span>${number(b.current_balance)}</span> <span class="muted">credits</span></p>
      <p class="muted">${b.package_name} plan · ${count(b.monthly_allowance, "credit")} a month · next reset ${day(b.next_reset)}</p>
      ${b.wallet_status !== "active"
        ? html`<p class="notice bad" role="status">Your wallet is ${b.wallet_status}: paid actions are paused.</p>`
        : ""}
      ${expiring
        ? html`<p class="notice warn" role="status">${count(expiring.credits, "credit")} ${expiring.credits === 1 ? "expires" : "expire"} on ${day(expiring.expires_at)}.</p>`
        : ""}
      <div class="stats">
        <div class="stat"><span class="muted">Monthly</span><b>${number(b.monthly_credits_balance)}</b></div>
        <div class="stat"><span class="muted">Purchased</span><b>${number(b.purchased_balance)}</b></div>
        ${b.bonus_balance !== undefined ? html`<div class="stat"><span class="muted">Bonus</span><b>${number(b.bonus_balance)}</b></div>` : ""}
        <div class="stat"><span class="muted">On hold</span><b>${number(b.reserved)}</b></div>
      </div>
      ${this.grants && this.grants.length ? this.renderGrants() : ""}`;
  }

  renderGrants() {
    return html`<h3>Where your credits come from</h3>
      <table class="stack">
        <thead><tr><th>Source</th><th class="num">Left</th><th class="num">Of</th><th>Expires</th></tr></thead>
        <tbody>${this.grants.map(
          (g) => html`<tr>
            <td data-label="Source"><span>${label(g.source)}${g.reason ? html` <span class="muted">· ${g.reason}</span>` : ""}</span></td>
            <td class="num" data-label="Left">${number(g.remaining)}</td>
            <td class="num" data-label="Of">${number(g.amount)}</td>
            <td data-label="Expires">${g.expires_at ? day(g.expires_at) : "never"}</td>
          </tr>`,
        )}</tbody>
      </table>`;
  }
}
