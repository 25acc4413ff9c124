/** Asks for a token (scope read or admin) and checks it with `/api/whoami` before keeping it. */
import { useState } from "preact/hooks";
import { ApiError, getJson } from "../api.ts";
import { forgetToken, saveToken } from "../token.ts";
import type { Scope } from "./App.tsx";

export function Login(props: { notice: string; onLogin: (scope: Scope) => void }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem("token") as HTMLInputElement;
    const token = input.value.trim();
    if (token === "") return setError("Paste a token first.");
    setBusy(true);
    saveToken(token);
    try {
      const who = await getJson<{ scope: Scope }>("/api/whoami");
      input.value = "";
      props.onLogin(who.scope);
    } catch (caught) {
      forgetToken();
      setError(caught instanceof ApiError ? caught.message : `Could not reach the admin API: ${String(caught)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>tapline</h1>
      <form onSubmit={submit}>
        <label for="token">Admin API token (scope read or admin)</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} autofocus />
        <button type="submit" disabled={busy}>Log in</button>
        <p class="hint">Kept in this tab only (sessionStorage) and sent as a bearer header.</p>
        {(error || props.notice) && <p class="error" role="alert">{error || props.notice}</p>}
      </form>
    </main>
  );
}
