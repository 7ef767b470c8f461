import { html } from "lit";
import { ApiError } from "../api.js";
import { CreditsElement, PAYMENT_REQUIRED, UNAUTHORIZED, count, label, number } from "../base.js";
import { renderPurchase } from "./purchase.js";

// The gated profile endpoints, by the action they charge for.
export const GATED_PATHS = {
  influencer_unlock: "",
  detailed_analytics: "/analytics",
  ai_insights: "/ai-insights",
  profile_posts: "/posts",
};

// <credits-pricing>: every action's price, its free allowance, and what it would cost right now
// (`pricing`, `can-perform/{action}`); with a form that runs one action on a profile, showing the
// charge (X-Credits-Charged) or, on a 402, how many credits are missing.
export class CreditsPricing extends CreditsElement {
  static properties = { rules: { state: true }, now: { state: true }, outcome: { state: true }, running: { state: true } };

  async load() {
    const rules = await this.api.credits("pricing");
    const decisions = await Promise.all(rules.map((rule) => this.api.credits(`can-perform/${rule.action_type}`)));
    this.rules = rules;
    this.now = Object.fromEntries(decisions.map((d) => [d.action_type, d]));
  }

  costNow(decision) {
    if (!decision) return "–";
    if (decision.will_use_free_allowance) return html`<span style="color: var(--good)">Free</span> <span class="muted">(${decision.free_allowance_remaining} free left)</span>`;
    if (decision.can_perform) return `${count(decision.credits_required, "credit")}`;
    const why = decision.reason === "wallet_locked" ? "Wallet locked" : `Need ${number(decision.credits_needed)} more credits`;
    return html`<span style="color: var(--bad)">${why}</span>`;
  }

  async run(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const action = String(form.get("action"));
    const username = String(form.get("username") || "").trim();
    if (!username) return;
    this.running = true;
    this.outcome = null;
    try {
      const { data, headers } = await this.api.request("GET", `profile/${encodeURIComponent(username)}${GATED_PATHS[action]}`);
      const charged = Number(headers.get("X-Credits-Charged") || 0);
      this.outcome = {
        kind: "good",
        action,
        data,
        text: charged
          ? `${label(action)} for @${username}: ${count(charged, "credit")} charged, ${number(headers.get("X-Credits-Remaining"))} left.`
          : `${label(action)} for @${username}: no charge (free allowance or already paid), ${number(headers.get("X-Credits-Remaining"))} left.`,
      };
      this.changed();
    } catch (error) {
      this.outcome = this.explain(error, action);
    } finally {
      this.running = false;
    }
  }

  // The guide's 402s, in words a customer can act on.
  explain(error, action) {
    if (!(error instanceof ApiError)) return { kind: "bad", text: `Something went wrong: ${error.message}` };
    if (error.status === 401) {
      this.emit(UNAUTHORIZED, { code: error.code });
      return { kind: "warn", text: "Your session has expired. Please sign in again." };
    }
    if (error.status === 402 && error.code === "insufficient_credits") {
      const c = error.credits;
      this.emit(PAYMENT_REQUIRED, { ...c, code: error.code, detail: error.message });
      return {
        kind: "bad",
        payment: true,
        text: `Not enough credits for ${label(action)}: it costs ${number(c.required)} and you have ${number(c.available)}. Buy ${number(c.needed)} more credits to continue.`,
      };
    }
    if (error.status === 402) {
      this.emit(PAYMENT_REQUIRED, { code: error.code, detail: error.message });
      return { kind: "bad", payment: true, text: error.message };
    }
    return { kind: error.status >= 500 ? "bad" : "warn", text: error.message };
  }

  render() {
    return html`<section class="card" aria-labelledby="pricing-title" aria-busy=${this.loading}>
      <h2 id="pricing-title">Prices</h2>
      ${this.failureNotice()}
      ${this.rules ? this.renderRules() : html`<p class="muted">Loading…</p>`}
      ${this.rules ? this.renderTry() : ""}
    </section>`;
  }

  renderRules() {
    return html`<table class="stack">
      <thead><tr><th>Action</th><th class="num">Price</th><th class="num">Free a month</th><th>Bulk discount</th><th>Now</th></tr></thead>
      <tbody>${this.rules.map(
        (r) => html`<tr data-action=${r.action_type}>
          <td data-label="Action"><span>${label(r.action_type)}${r.description ? html`<br><span class="muted">${r.description}</span>` : ""}</span></td>
          <td class="num" data-label="Price">${number(r.credits_per_action)}</td>
          <td class="num" data-label="Free a month">${number(r.free_allowance_per_month)}</td>
          <td data-label="Bulk discount">${r.bulk_tiers?.length ? r.bulk_tiers.map((t) => `${t.discount_percent}% from ${t.min_quantity}`).join(", ") : "–"}</td>
          <td data-label="Now" data-testid="cost-now"><span>${this.costNow(this.now?.[r.action_type])}</span></td>
        </tr>`,
      )}</tbody>
    </table>`;
  }

  renderTry() {
    const actions = this.rules.filter((r) => r.action_type in GATED_PATHS);
    if (!actions.length) return "";
    const o = this.outcome;
    return html`<h3>Try an action</h3>
      <form class="row" @submit=${this.run}>
        <label>Instagram username <input name="username" required maxlength="30" placeholder="dev_dan" autocomplete="off"></label>
        <label>Action to run <select name="action">${actions.map((r) => html`<option value=${r.action_type}>${label(r.action_type)} (${r.credits_per_action})</option>`)}</select></label>
        <button type="submit" ?disabled=${this.running}>${this.running ? "Working…" : "Run"}</button>
      </form>
      ${o ? html`<p class="notice ${o.kind}" role=${o.kind === "good" ? "status" : "alert"} data-testid="action-outcome">${o.text}
        ${o.payment ? html` <a href="#buy">Buy credits</a>` : ""}</p>` : ""}
      ${o?.data ? renderPurchase(o.action, o.data) : ""}`;
  }
}
