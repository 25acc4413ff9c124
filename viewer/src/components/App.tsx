/** The page frame: login until a token works, then the list, a trace or the plugins page. */
import { useEffect, useState } from "preact/hooks";
import { getJson, whenUnauthorized } from "../api.ts";
import { useRoute } from "../route.ts";
import { forgetToken, loadToken } from "../token.ts";
import { Login } from "./Login.tsx";
import { TraceList } from "./TraceList.tsx";
import { TraceView } from "./TraceView.tsx";
import { PluginsPage } from "./PluginsPage.tsx";

export type Scope = "read" | "admin";

export function App() {
  const [scope, setScope] = useState<Scope | undefined>(undefined);
  const [notice, setNotice] = useState("");
  const [filter, setFilter] = useState("");
  const route = useRoute();

  useEffect(() => {
    whenUnauthorized(() => {
      forgetToken();
      setScope(undefined);
      setNotice("The admin API refused the token: paste it again.");
    });
    if (loadToken() !== undefined) {
      getJson<{ scope: Scope }>("/api/whoami").then((who) => setScope(who.scope)).catch(() => {});
    }
  }, []);

  if (scope === undefined) {
    return <Login notice={notice} onLogin={(granted) => (setNotice(""), setScope(granted))} />;
  }
  const logout = () => {
    forgetToken();
    setScope(undefined);
  };
  return (
    <div class="frame">
      <header class="bar">
        <a class="brand" href="#/">tapline</a>
        <nav>
          <a href="#/" class={route.page === "plugins" ? "" : "current"}>Traces</a>
          <a href="#/plugins" class={route.page === "plugins" ? "current" : ""}>Plugins</a>
        </nav>
        <span class="scope" title="Scope of the token">{scope}</span>
        <button type="button" class="quiet" onClick={logout}>Log out</button>
      </header>
      {route.page === "trace"
        ? <TraceView id={route.id} />
        : route.page === "plugins"
        ? <PluginsPage scope={scope} />
        : <TraceList filter={filter} onFilter={setFilter} />}
    </div>
  );
}
