/**
 * Upstream URLs may carry credentials (`http://user:secret@host/`). They
 * must never reach a client, a log line or a record: shown, the userinfo is
 * `***`; messages that quote the URL or the secret get the same treatment.
 */

/**
 * The URL as text with its userinfo replaced by `***` and no trailing slash.
 *
 * @example withoutCredentials(new URL("http://u:s@api:8080/base/")) // "http://***@api:8080/base"
 */
export function withoutCredentials(url: URL): string {
  const copy = new URL(url.href);
  const hadCredentials = copy.username !== "" || copy.password !== "";
  copy.username = "";
  copy.password = "";
  const text = copy.href.replace(/\/$/, "");
  return hadCredentials ? text.replace("://", "://***@") : text;
}

/**
 * `text` with the URL's username and password (raw and percent-decoded)
 * replaced by `***`, for error messages that may quote them.
 *
 * @example scrubCredentials("GET http://u:s3cret@api/ failed", url) // "GET http://***:***@api/ failed"
 */
export function scrubCredentials(text: string, url: URL): string {
  let out = text;
  for (const secret of new Set([url.password, url.username, safeDecode(url.password), safeDecode(url.username)])) {
    if (secret !== "") out = out.split(secret).join("***");
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
