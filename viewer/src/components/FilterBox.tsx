/**
 * The filter search box: the same language as `tapline tail` and
 * `/api/traces?q=`; applied on Enter; a parse error is shown under the box
 * with a caret at its column. `/` focuses it from anywhere.
 */
import { useEffect, useRef } from "preact/hooks";
import type { ApiError } from "../api.ts";
import { isTyping } from "../keys.ts";

export function FilterBox(props: { value: string; error: ApiError | undefined; onApply: (filter: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "/" && !isTyping(event)) {
        event.preventDefault();
        input.current?.focus();
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);
  const submit = (event: Event) => {
    event.preventDefault();
    props.onApply(input.current?.value.trim() ?? "");
    input.current?.blur();
  };
  const column = props.error?.column;
  return (
    <form class="filter" onSubmit={submit} role="search">
      <input
        ref={input}
        id="filter"
        type="search"
        placeholder="Filter: ~s 5xx & ~u /api   (press / to search)"
        value={props.value}
        spellcheck={false}
        autocomplete="off"
        aria-invalid={props.error ? "true" : "false"}
      />
      {props.error && (
        <div class="filter-error" role="alert" id="filter-error">
          {column !== undefined && (
            <pre class="caret">{`${input.current?.value ?? ""}\n${" ".repeat(Math.max(column - 1, 0))}^`}</pre>
          )}
          <span>{props.error.message}</span>
        </div>
      )}
    </form>
  );
}
