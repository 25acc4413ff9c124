/**
 * The running plugin set: its generation and each plugin's counters. With an
 * admin token also the installed packs (upload, remove) and a plugins YAML
 * to apply, with the API's located problems when it is rejected.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, getJson, type Problem, request } from "../api.ts";
import type { Scope } from "./App.tsx";

interface PluginCounters {
  calls: Record<string, number>;
  errors: number;
  timeouts: number;
  disabled: number;
  recordsDropped: number;
  emitted: number;
}

interface PluginRow {
  id: string;
  use: string;
  name: string;
  version: string;
  hooks: string[];
  routes?: string[];
  disabled: boolean;
  counters: PluginCounters;
}

interface PackRow {
  name: string;
  version: string;
  plugins: string[];
  used_by: string[];
  signed_by?: string;
}

const PLACEHOLDER = "plugins:\n  - use: path-filter\n    config: { exclude: [/health] }";

export function PluginsPage(props: { scope: Scope }) {
  const [set, setSet] = useState<{ generation: number; plugins: PluginRow[] } | undefined>(undefined);
  const [packs, setPacks] = useState<PackRow[] | undefined>(undefined);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  const [problems, setProblems] = useState<Problem[]>([]);
  const admin = props.scope === "admin";

  const reload = async () => {
    try {
      setSet(await getJson("/api/plugins"));
      if (admin) setPacks((await getJson<{ packs: PackRow[] }>("/api/packs")).packs);
      setError("");
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    }
  };
  useEffect(() => void reload(), []);

  /** Runs a change, reads the set as it is now, then shows the outcome (so the two always agree). */
  const change = async (action: () => Promise<string>) => {
    setMessage("");
    setProblems([]);
    let outcome: string;
    let located: Problem[] = [];
    try {
      outcome = await action();
    } catch (caught) {
      outcome = caught instanceof ApiError ? caught.message : String(caught);
      if (caught instanceof ApiError) located = caught.problems ?? [];
    }
    await reload();
    setMessage(outcome);
    setProblems(located);
  };

  const apply = (event: Event) => {
    event.preventDefault();
    const text = ((event.target as HTMLFormElement).elements.namedItem("yaml") as HTMLTextAreaElement).value;
    void change(async () => {
      const response = await request("/api/plugins", {
        method: "PUT",
        body: text,
        headers: { "Content-Type": "application/yaml", "If-Match": `"${set?.generation ?? "*"}"` },
      });
      const applied = await response.json() as { generation: number; persisted: boolean };
      return `Applied: generation ${applied.generation}${applied.persisted ? "" : " (not saved for the next start)"}`;
    });
  };

  const upload = (event: Event) => {
    event.preventDefault();
    const file = ((event.target as HTMLFormElement).elements.namedItem("pack") as HTMLInputElement).files?.[0];
    if (!file) return setMessage("Choose a pack (.tgz) first.");
    void change(async () => {
      const response = await request("/api/packs", { method: "POST", body: await file.arrayBuffer() });
      const outcome = await response.json() as { pack: PackRow; unchanged: boolean };
      return `${outcome.unchanged ? "Already installed" : "Installed"}: ${outcome.pack.name}@${outcome.pack.version}`;
    });
  };

  const remove = (pack: PackRow) =>
    change(async () => {
      await request(`/api/packs/${encodeURIComponent(`${pack.name}@${pack.version}`)}`, { method: "DELETE" });
      return `Removed ${pack.name}@${pack.version}`;
    });

  if (error) {
    return (
      <main class="plugins">
        <p class="error" role="alert">{error}</p>
      </main>
    );
  }
  if (!set) {
    return (
      <main class="plugins">
        <p class="muted">Loading…</p>
      </main>
    );
  }
  return (
    <main class="plugins">
      <h1>
        {"Plugins · generation "}
        <span id="generation">{String(set.generation)}</span>
      </h1>
      {set.plugins.length === 0 ? <p class="muted">No plugins run.</p> : (
        <table class="plugin-table">
          <thead>
            <tr>
              <th>Id</th>
              <th>Plugin</th>
              <th>Routes</th>
              <th class="num">Calls</th>
              <th class="num">Errors</th>
              <th class="num">Timeouts</th>
              <th class="num">Dropped</th>
              <th class="num">Emitted</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {set.plugins.map((plugin) => (
              <tr key={plugin.id} data-plugin={plugin.id}>
                <td>{plugin.id}</td>
                <td>{`${plugin.name}@${plugin.version}`}</td>
                <td>{plugin.routes?.join(", ") ?? "all"}</td>
                <td class="num">{String(Object.values(plugin.counters.calls).reduce((sum, n) => sum + n, 0))}</td>
                <td class="num">{String(plugin.counters.errors)}</td>
                <td class="num">{String(plugin.counters.timeouts)}</td>
                <td class="num">{String(plugin.counters.recordsDropped)}</td>
                <td class="num">{String(plugin.counters.emitted)}</td>
                <td>{plugin.disabled ? "disabled" : "running"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {message && <p class="message" role="status" id="plugins-message">{message}</p>}
      {problems.length > 0 && (
        <ul class="problems" id="problems">
          {problems.map((problem, index) => <li key={index}>{`${locate(problem)}${problem.message}`}</li>)}
        </ul>
      )}
      {admin
        ? (
          <>
            <section>
              <h2>Apply a plugin list</h2>
              <form onSubmit={apply}>
                <textarea
                  name="yaml"
                  id="plugins-yaml"
                  rows={8}
                  spellcheck={false}
                  placeholder={PLACEHOLDER}
                />
                <button type="submit">Validate and apply</button>
              </form>
            </section>
            <section>
              <h2>Packs</h2>
              {packs && packs.length > 0
                ? (
                  <table>
                    <tbody>
                      {packs.map((pack) => (
                        <tr key={`${pack.name}@${pack.version}`} data-pack={`${pack.name}@${pack.version}`}>
                          <td>{`${pack.name}@${pack.version}`}</td>
                          <td>{pack.plugins.join(", ")}</td>
                          <td>{pack.used_by.length > 0 ? `used by ${pack.used_by.join(", ")}` : "unused"}</td>
                          <td>
                            <button
                              type="button"
                              onClick={() =>
                                remove(pack)}
                            >
                              Remove
                            </button>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )
                : <p class="muted">No packs installed.</p>}
              <form onSubmit={upload}>
                <input type="file" name="pack" id="pack-file" accept=".tgz,application/gzip" />
                <button type="submit" id="pack-upload">Upload pack</button>
              </form>
            </section>
          </>
        )
        : <p class="muted">An admin token can apply plugin lists and manage packs.</p>}
    </main>
  );
}

function locate(problem: Problem): string {
  const where = [
    problem.file,
    problem.line !== undefined ? `line ${problem.line}` : undefined,
    problem.field,
    problem.plugin !== undefined ? `plugin ${problem.plugin}` : undefined,
  ].filter((part) => part !== undefined);
  return where.length > 0 ? `${where.join(", ")}: ` : "";
}
