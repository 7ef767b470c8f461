import { html } from "lit";
import { CreditsElement, count, money, number } from "../base.js";

// <credits-buy>: a price estimate (`top-up/estimate`) and Stripe Checkout (`top-up/checkout`).
// A server without payment keys answers 503 payments_not_configured: said plainly, not as an error.
export class CreditsBuy extends CreditsElement {
  static properties = { credits: { state: true }, estimate: { state: true }, message: { state: true }, busy: { state: true } };

  constructor() {
    super();
    this.credits = 500;
  }

  async load() {
    this.estimate = await this.api.post("api/credits/top-up/estimate", { credits: this.credits });
  }

  async changeAmount(event) {
    const credits = Number(event.target.value);
    if (!Number.isInteger(credits) || credits < 1) return;
    this.credits = credits;
    this.message = null;
    this.reload();
  }

  async checkout(event) {
    event.preventDefault();
    this.busy = true;
    this.message = null;
    try {
      const session = await this.api.post("api/credits/top-up/checkout", { credits: this.credits });
      this.message = { kind: "good", text: "Taking you to the payment page…" };
      window.location.assign(session.checkout_url);
    } catch (error) {
      if (error.status === 401) this.handle(error);
      this.message =
        error.code === "payments_not_configured"
          ? { kind: "warn", text: "Buying credits is not available yet: payments are not set up on this server. Please contact support to add credits." }
          : { kind: "bad", text: `The purchase could not start: ${error.message}` };
    } finally {
      this.busy = false;
    }
  }

  render() {
    const e = this.estimate;
    return html`<section class="card" id="buy" aria-labelledby="buy-title" aria-busy=${this.loading}>
      <h2 id="buy-title">Buy credits</h2>
      <form class="row" @submit=${this.checkout}>
        <label>Credits <input type="number" min="1" max="10000000" step="1" .value=${String(this.credits)} @change=${this.changeAmount}></label>
        <button type="submit" ?disabled=${this.busy}>${this.busy ? "Starting…" : "Buy with card"}</button>
      </form>
      ${e ? html`<p data-testid="estimate">${count(e.credits, "credit")} for <b>${money(e.total, e.currency)}</b>
        <span class="muted">(${money(e.unit_price, e.currency)} each)</span></p>` : ""}
      ${this.failureNotice()}
      ${this.message ? html`<p class="notice ${this.message.kind}" role="alert" data-testid="buy-message">${this.message.text}</p>` : ""}
      <p class="muted">Purchased credits never expire and are spent after your monthly credits.</p>
    </section>`;
  }
}
