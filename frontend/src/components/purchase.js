import { html } from "lit";
import { count, day, number } from "../base.js";

// What a gated action bought, shown under the action form: the profile, its analytics, the AI
// insights or the posts — the answer's own fields, not only the charge.
const percent = (value) => `${Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 })}%`;
const hour = (h) => `${String(h).padStart(2, "0")}:00 UTC`;

function profile(p) {
  return html`<dl class="facts" data-testid="bought-profile">
    <dt>Profile</dt><dd><b>@${p.username}</b>${p.full_name ? ` · ${p.full_name}` : ""}${p.is_verified ? " ✓" : ""}</dd>
    ${p.category ? html`<dt>Category</dt><dd>${p.category}</dd>` : ""}
    <dt>Followers</dt><dd>${number(p.followers_count)}</dd>
    <dt>Following</dt><dd>${number(p.follows_count)}</dd>
    <dt>Posts</dt><dd>${number(p.media_count)}</dd>
    ${p.biography ? html`<dt>Bio</dt><dd>${p.biography}</dd>` : ""}
  </dl>`;
}

function analytics(a) {
  return html`<dl class="facts" data-testid="bought-analytics">
    <dt>Engagement</dt><dd>${percent(a.engagement_rate)} <span class="muted">over ${count(a.posts_analyzed, "post")}</span></dd>
    <dt>Average</dt><dd>${count(Math.round(a.avg_likes), "like")}, ${count(Math.round(a.avg_comments), "comment")} a post</dd>
    <dt>Growth</dt><dd>${percent(a.follower_growth.percent)} in ${count(a.follower_growth.period_months, "month")}</dd>
    <dt>Rhythm</dt><dd>${number(a.posting_frequency.posts_per_week)} posts a week</dd>
    <dt>Best hours</dt><dd>${a.best_posting_hours.slice(0, 3).map((h) => hour(h.hour)).join(", ") || "–"}</dd>
    <dt>Top hashtags</dt><dd>${a.top_hashtags.slice(0, 5).map((t) => `#${t.hashtag}`).join(" ") || "–"}</dd>
  </dl>`;
}

function insights(i) {
  const items = (title, list) =>
    list.length ? html`<h4>${title}</h4><ul>${list.slice(0, 3).map((x) => html`<li><b>${x.title}</b> — ${x.detail}</li>`)}</ul>` : "";
  return html`<div data-testid="bought-insights">
    <p>${i.summary}</p>
    ${items("Strengths", i.strengths)}${items("Weaknesses", i.weaknesses)}${items("Recommendations", i.content_recommendations)}
  </div>`;
}

function posts(page) {
  const rows = page.results || [];
  return html`<div data-testid="bought-posts">
    <p class="muted">${count(page.count, "post")}${rows.length > 5 ? "; the latest 5:" : ":"}</p>
    <ul>${rows.slice(0, 5).map((p) => html`<li>
      <span class="muted">${day(p.timestamp)} · ${number(p.like_count)} ♥ · ${count(p.comments_count, "comment")}</span><br>
      ${(p.caption || "").slice(0, 140) || html`<span class="muted">(no caption)</span>`}</li>`)}</ul>
  </div>`;
}

const RENDERERS = { influencer_unlock: profile, detailed_analytics: analytics, ai_insights: insights, profile_posts: posts };

export function renderPurchase(action, data) {
  const render = RENDERERS[action];
  if (!render || !data) return "";
  try {
    return html`<div class="purchase">${render(data)}</div>`;
  } catch {
    return ""; // an answer of another shape (another server version): the charge line still says what happened
  }
}
