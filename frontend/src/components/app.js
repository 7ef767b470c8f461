import { LitElement, css, html } from "lit";
import { CreditsApi } from "../api.js";
import { CHANGED, PAYMENT_REQUIRED, UNAUTHORIZED, number } from "../base.js";
import { shared } from "../styles.js";

const STORE = window.sessionStorage; // tokens live as long as the tab: closing it signs out
const KEYS = { access: "credits.access", refresh: "credits.refresh", username: "credits.username" };

// <credits-app api-base="/api/v1">: the whole customer page. Signs in with a JWT
// (`auth/token/`), refreshes it on a 401 (`auth/token/refresh/`), signs out (`auth/logout/` when
// the server has it), and hands the access token to every component below it.
export class CreditsApp extends LitElement {
  static properties = {
    apiBase: { attribute: "api-base" },
    access: { state: true },
    username: { state: true },
    banner: { state: true },
    signInError: { state: true },
    busy: { state: true },
  };

  static styles = [
    shared,
    css`
      :host { max-width: 1400px; margin: 0 auto; padding: 1rem; box-sizing: border-box; }
      header { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; margin-bottom: 1rem; }
      header h1 { font-size: 1.4rem; margin: 0; }
      .grid { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); }
      @media (min-width: 1000px) {
        .grid { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
        .wide { grid-column: 1 / -1; }
      }
      .signin { max-width: 24rem; margin: 3rem auto; }
      .signin form { display: grid; gap: 0.75rem; }
      .banner { display: flex; gap: 1rem; justify-content: space-between; align-items: center; }
      .banner button { min-height: auto; padding: 0.25rem 0.6rem; }
      @media (max-width: 540px) { :host { padding: 0.5rem; } }
    `,
  ];

  constructor() {
    super();
    this.apiBase = "/api/v1";
    this.access = STORE.getItem(KEYS.access) || "";
    this.username = STORE.getItem(KEYS.username) || "";
    this._refreshing = null;
    this.addEventListener(UNAUTHORIZED, () => this.refreshToken());
    this.addEventListener(PAYMENT_REQUIRED, (event) => this.paymentRequired(event.detail));
    this._onVisible = () => document.visibilityState === "visible" && this.access && this.refreshAll();
    // A credit-moving action that succeeded: the "not enough credits" banner no longer holds.
    this._onChanged = (event) => {
      if (this.banner?.buy && event.detail?.source !== "credits-app") this.banner = null;
    };
  }

  connectedCallback() {
    super.connectedCallback();
    document.addEventListener("visibilitychange", this._onVisible);
    document.addEventListener(CHANGED, this._onChanged);
    const outcome = new URLSearchParams(window.location.search).get("checkout");
    if (outcome === "success") this.banner = { kind: "good", text: "Thank you! Your credits arrive as soon as the payment is confirmed." };
    if (outcome === "cancel") this.banner = { kind: "warn", text: "The purchase was cancelled; nothing was charged." };
  }

  disconnectedCallback() {
    document.removeEventListener("visibilitychange", this._onVisible);
    document.removeEventListener(CHANGED, this._onChanged);
    super.disconnectedCallback();
  }

  get api() {
    return new CreditsApi(this.apiBase, "");
  }

  async signIn(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const username = String(form.get("username")).trim();
    this.busy = true;
    this.signInError = "";
    this.banner = null; // one message at a time: this attempt's outcome replaces the last one
    try {
      const tokens = await this.api.post("auth/token/", { username, password: String(form.get("password")) });
      STORE.setItem(KEYS.access, tokens.access);
      STORE.setItem(KEYS.refresh, tokens.refresh);
      STORE.setItem(KEYS.username, username);
      this.username = username;
      this.access = tokens.access;
      this.banner = null;
    } catch (error) {
      this.signInError = error.status === 401 ? "Wrong username or password." : `Could not sign in: ${error.message}`;
    } finally {
      this.busy = false;
    }
  }

  // One refresh at a time, however many components hit the 401 together.
  refreshToken() {
    this._refreshing ??= (async () => {
      const refresh = STORE.getItem(KEYS.refresh);
      try {
        if (!refresh) throw new Error("no refresh token");
        const tokens = await this.api.post("auth/token/refresh/", { refresh });
        if (STORE.getItem(KEYS.refresh) !== refresh) return; // signed out (or in again) meanwhile
        STORE.setItem(KEYS.access, tokens.access);
        if (tokens.refresh) STORE.setItem(KEYS.refresh, tokens.refresh);
        this.access = tokens.access;
      } catch {
        this.forget();
        this.banner = { kind: "warn", text: "Your session has expired. Please sign in again." };
      } finally {
        this._refreshing = null;
      }
    })();
    return this._refreshing;
  }

  async signOut() {
    const refresh = STORE.getItem(KEYS.refresh);
    const access = this.access;
    // Forget first, so the page is signed out at once and nothing in flight can count as signed in.
    this.forget();
    this.banner = { kind: "good", text: "You are signed out." };
    // The server revokes the refresh token (auth/logout/); a server without it (404) needs nothing more.
    if (refresh) await new CreditsApi(this.apiBase, access).post("auth/logout/", { refresh }).catch(() => null);
  }

  forget() {
    Object.values(KEYS).forEach((key) => STORE.removeItem(key));
    this.access = "";
    this.username = "";
  }

  paymentRequired(detail) {
    const text = Number.isFinite(detail.needed)
      ? `Not enough credits: this costs ${number(detail.required)} and you have ${number(detail.available)}. Buy ${number(detail.needed)} more to continue.`
      : detail.detail;
    this.banner = { kind: "bad", text, buy: true };
  }

  refreshAll() {
    document.dispatchEvent(new CustomEvent(CHANGED, { detail: { source: "credits-app" } }));
  }

  renderBanner() {
    const b = this.banner;
    if (!b) return "";
    return html`<div class="notice ${b.kind} banner" role="alert" data-testid="banner">
      <span>${b.text} ${b.buy ? html`<a href="#buy" @click=${this.focusBuy}>Buy credits</a>` : ""}</span>
      <button class="secondary" aria-label="Dismiss" @click=${() => (this.banner = null)}>×</button>
    </div>`;
  }

  focusBuy(event) {
    event.preventDefault();
    const buy = this.renderRoot.querySelector("credits-buy");
    buy?.scrollIntoView({ behavior: "smooth" });
    buy?.renderRoot.querySelector("input")?.focus();
  }

  render() {
    if (!this.access) return this.renderSignIn();
    const a = { base: this.apiBase, token: this.access };
    return html`
      <header>
        <h1>Your credits</h1>
        <div class="row" style="align-items: center">
          <span class="muted">Signed in as <b data-testid="username">${this.username}</b></span>
          <button class="secondary" @click=${this.refreshAll}>Refresh</button>
          <button class="secondary" @click=${this.signOut}>Sign out</button>
        </div>
      </header>
      ${this.renderBanner()}
      <main class="grid">
        <credits-balance api-base=${a.base} token=${a.token}></credits-balance>
        <credits-usage-chart api-base=${a.base} token=${a.token}></credits-usage-chart>
        <credits-history class="wide" api-base=${a.base} token=${a.token}></credits-history>
        <credits-plan class="wide" api-base=${a.base} token=${a.token}></credits-plan>
        <credits-team class="wide" api-base=${a.base} token=${a.token} username=${this.username}></credits-team>
        <credits-pricing api-base=${a.base} token=${a.token}></credits-pricing>
        <credits-buy api-base=${a.base} token=${a.token}></credits-buy>
        <credits-alerts api-base=${a.base} token=${a.token}></credits-alerts>
        <credits-auto-recharge api-base=${a.base} token=${a.token}></credits-auto-recharge>
      </main>`;
  }

  renderSignIn() {
    return html`<section class="card signin" aria-labelledby="signin-title">
      <h1 id="signin-title" style="font-size: 1.3rem; margin-top: 0">Sign in to see your credits</h1>
      ${this.signInError ? "" : this.renderBanner()}
      <form @submit=${this.signIn}>
        <label>Username <input name="username" autocomplete="username" required></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit" ?disabled=${this.busy}>${this.busy ? "Signing in…" : "Sign in"}</button>
        ${this.signInError ? html`<p class="notice bad" role="alert">${this.signInError}</p>` : ""}
      </form>
    </section>`;
  }
}
