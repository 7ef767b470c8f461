// A typed client in a few lines: paths, parameters, bodies and answers all come from schema.d.ts,
// so a typo in a path or a field is a compile error. `npm run typecheck` compiles this file.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Balance = components["schemas"]["Balance"];

export async function signIn(baseUrl: string, username: string, password: string) {
  const auth = createClient<paths>({ baseUrl });
  const { data, error } = await auth.POST("/api/v1/auth/token/", { body: { username, password } });
  if (error) throw new Error("Wrong username or password");
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${data.access}` } });
}

export async function balance(api: Awaited<ReturnType<typeof signIn>>): Promise<Balance> {
  const { data, error } = await api.GET("/api/v1/api/credits/balance/");
  if (data === undefined) throw new Error(error?.detail);
  return data;
}

// A premium action: the answer is typed, and a 402 carries the credits still needed.
export async function insights(api: Awaited<ReturnType<typeof signIn>>, username: string) {
  const { data, error, response } = await api.GET("/api/v1/profile/{username}/ai-insights/", {
    params: { path: { username } },
  });
  if (response.status === 402 && error && "needed" in error) {
    return { ok: false as const, needed: error.needed ?? 0, message: error.detail };
  }
  if (data === undefined) throw new Error(error?.detail);
  const charged = Number(response.headers.get("X-Credits-Charged"));
  return { ok: true as const, charged, summary: data.summary, strengths: data.strengths.map((s) => s.title) };
}
